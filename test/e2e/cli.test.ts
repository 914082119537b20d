/**
 * The `vms` command as an admin types it (bin/vms.cjs, package.json's bin), against real
 * all-in-one processes: `vms all` itself serves the embedded default (the shipped demo
 * configuration, state folder and port moved), `vms migrate --wait` moves a volume and exits 0, a
 * migration the scheduler refuses exits non-zero with its reason, `vms migrations list --json`
 * prints the API's JSON; then Keystone password auth against the built-in Keystone.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { cinder, parseTable } from "../helpers/cli";
import { freePort } from "../helpers/processes";
import { waitFor } from "../helpers/stack";
import { type KeystoneStack, startKeystoneStack } from "../tempest/stack";

const ROOT = path.resolve(__dirname, "../..");
const VMS = path.join(ROOT, "bin/vms.cjs");

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `vms ARGS` with only the given OS_* variables (none inherited from the test's environment). */
function vms(args: string[], env: Record<string, string>): Promise<Result> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OS_")));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [VMS, ...args],
      { cwd: ROOT, env: { ...clean, ...env }, timeout: 240_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let child: ChildProcess;
let stateDir: string;
let endpoint: string;
let env: Record<string, string>;

/** `vms all --config F` through the bin, ready once it prints where it listens. */
function startAllInOne(conf: string, port: number): Promise<ChildProcess> {
  const c = spawn(process.execPath, [VMS, "all", "--config", conf], {
    cwd: ROOT,
    env: {
      ...process.env,
      VMS__DEFAULT__STATE_PATH: stateDir,
      VMS__DEFAULT__OSAPI_VOLUME_LISTEN_PORT: String(port),
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (/listening on http/.test(out)) {
        resolve(c);
      }
    };
    c.stdout!.on("data", onData);
    c.stderr!.on("data", onData);
    c.once("exit", (code) => reject(new Error(`vms all exited with ${code}:\n${out}`)));
    setTimeout(() => reject(new Error(`vms all not ready after 90 s:\n${out}`)), 90_000).unref();
  });
}

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-e2e-cli-"));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  fs.copyFileSync(path.join(ROOT, "etc/demo.conf"), conf);
  child = await startAllInOne(conf, port);
  endpoint = `http://127.0.0.1:${port}/v3`;
  env = { OS_AUTH_TYPE: "noauth", OS_ENDPOINT: endpoint, OS_USER_ID: "admin", OS_PROJECT_ID: "demo" };
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-child.pid!, "SIGTERM");
    const kill = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 10_000);
    await exited;
    clearTimeout(kill);
  }
  fs.rmSync(stateDir, { recursive: true, force: true });
});

async function show(id: string): Promise<Record<string, string>> {
  const r = await cinder(endpoint, ["show", id]);
  expect(r.code).toBe(0);
  return parseTable(r.stdout);
}

let volumeId: string;
let movedTo: string;

test("vms migrate --wait moves a volume and exits 0", async () => {
  const created = await cinder(endpoint, ["create", "--name", "cli-volume", "1"]);
  expect(created.code).toBe(0);
  volumeId = parseTable(created.stdout)["id"]!;
  const v = await waitFor(async () => {
    const s = await show(volumeId);
    return s["status"] === "available" ? s : undefined;
  }, "volume available");
  const from = v["os-vol-host-attr:host"]!;
  const backend = from.includes("file-1") ? "file-2" : "file-1";
  movedTo = `demo@${backend}#${backend}`;

  const r = await vms(["migrate", volumeId, movedTo, "--wait"], env);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`Volume ${volumeId} migrated to ${movedTo}`);
  // Not a TTY here: plain progress lines, no bar drawing.
  expect(r.stdout).toMatch(/: (migrating|success) \d+\.\d%/);
  expect(r.stdout).not.toContain("\u001b[");
  const after = await show(volumeId);
  expect(after["os-vol-host-attr:host"]).toBe(movedTo);
  expect(after["os-vol-mig-status-attr:migstat"]).toBe("success");
}, 300_000);

test("a migration the scheduler refuses exits non-zero with the reason", async () => {
  const nowhere = movedTo.replace(/#.*$/, "#no-such-pool");
  const r = await vms(["migrate", volumeId, nowhere, "--wait"], env);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(
    `failed: No valid backend was found. Cannot place volume ${volumeId} on ${nowhere}`,
  );
  expect((await show(volumeId))["os-vol-host-attr:host"]).toBe(movedTo);

  // Refused by the API itself: Cinder's fault message, exit 1.
  const bad = await vms(["migrate", volumeId, "nowhere@none#none"], env);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain(
    "ERROR: Invalid host: No available service named 'nowhere@none#none' (HTTP 400)",
  );
}, 120_000);

test("vms migrations list --json prints the API's JSON with both migrations", async () => {
  const r = await vms(["migrations", "list", "--json"], env);
  expect(r.code).toBe(0);
  const body = JSON.parse(r.stdout) as {
    migrations: { volume_id: string; state: string; error: string | null }[];
  };
  const mine = body.migrations.filter((m) => m.volume_id === volumeId);
  expect(mine.map((m) => m.state)).toEqual(["error", "success"]);
  expect(mine[0]!.error).toContain("No valid backend was found");

  const table = await vms(["migrations", "list", "--volume", volumeId], env);
  expect(table.code).toBe(0);
  expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+VOLUME\s+STATE/);

  const active = await vms(["migrations", "list", "--active", "--json"], env);
  expect(JSON.parse(active.stdout)).toEqual({ migrations: [] });
});

test("a member is refused with the API's fault; missing settings are named", async () => {
  const member = await vms(["migrations", "list"], { ...env, OS_USER_ID: "alice" });
  expect(member.code).toBe(1);
  expect(member.stderr).toMatch(/^ERROR: Policy doesn't allow .* to be performed\. \(HTTP 403\)/);
  const flags = await vms(["migrations", "list", "--json", "--os-user-id", "admin"], {
    ...env,
    OS_USER_ID: "alice",
  });
  expect(flags.code).toBe(0);
  const unset = await vms(["migrations", "list"], {});
  expect(unset.code).toBe(1);
  expect(unset.stderr).toContain("noauth needs the endpoint");
});

describe("Keystone password auth", () => {
  let ks: KeystoneStack;
  beforeAll(async () => {
    ks = await startKeystoneStack();
  }, 120_000);
  afterAll(async () => {
    await ks?.stop();
  });

  const passwordEnv = (who: { name: string; project: string; password: string }) => ({
    OS_AUTH_TYPE: "password",
    OS_AUTH_URL: ks.authUrl,
    OS_USERNAME: who.name,
    OS_PASSWORD: who.password,
    OS_PROJECT_NAME: who.project,
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_DOMAIN_NAME: "Default",
  });

  test("the admin lists through the catalog's volumev3 endpoint; a wrong password is refused", async () => {
    const r = await vms(["migrations", "list", "--json"], passwordEnv(ks.admin));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ migrations: [] });
    const evacuations = await vms(["evacuations", "list", "--json"], passwordEnv(ks.admin));
    expect(evacuations.code).toBe(0);
    expect(JSON.parse(evacuations.stdout)).toEqual({ evacuations: [] });

    const wrong = await vms(["migrations", "list"], { ...passwordEnv(ks.admin), OS_PASSWORD: "wrong" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("(HTTP 401)");
    const member = await vms(["migrations", "list"], passwordEnv(ks.member));
    expect(member.code).toBe(1);
    expect(member.stderr).toContain("(HTTP 403)");
  }, 60_000);
});
