import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { cinder, type CliResult, parseTable } from "../helpers/cli";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { waitFor } from "../helpers/stack";

/**
 * Cascade delete, type encryption and volume transfers through the unmodified cinder client
 * against the embedded default (etc/demo.conf: PGlite, the in-process bus, two raw-file backends).
 */
let proc: ServiceProcess;
let stateDir: string;
let endpoint: string;

const BOB = { user: "bob", project: "other" };

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-e2e-transfers-"));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  const demo = fs.readFileSync(path.join(__dirname, "../../etc/demo.conf"), "utf8");
  fs.writeFileSync(
    conf,
    demo
      .replace(/^state_path = .*$/m, `state_path = ${stateDir}`)
      .replace(/^osapi_volume_listen_port = .*$/m, `osapi_volume_listen_port = ${port}`),
  );
  proc = await startProcess(["all", "--config", conf], { readyLine: /listening on http/ });
  endpoint = `http://127.0.0.1:${port}/v3`;
}, 90_000);

afterAll(async () => {
  await proc?.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

async function ok(args: string[], who?: { user: string; project: string }): Promise<CliResult> {
  const r = await cinder(endpoint, args, who);
  if (r.code !== 0) {
    throw new Error(`cinder ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
  }
  return r;
}

async function status(kind: "show" | "snapshot-show", id: string): Promise<string | undefined> {
  const r = await cinder(endpoint, [kind, id]);
  return r.code === 0 ? parseTable(r.stdout)["status"] : undefined;
}

async function created(args: string[], kind: "show" | "snapshot-show" = "show"): Promise<string> {
  const id = parseTable((await ok(args)).stdout)["id"]!;
  await waitFor(async () => (await status(kind, id)) === "available", `${id} available`, 60_000);
  return id;
}

test("cinder delete --cascade removes a volume with its snapshots", async () => {
  const vol = await created(["create", "--name", "with-snaps", "1"]);
  const snaps = [
    await created(["snapshot-create", "--name", "s1", vol], "snapshot-show"),
    await created(["snapshot-create", "--name", "s2", vol], "snapshot-show"),
  ];
  const plain = await cinder(endpoint, ["delete", vol]);
  expect(plain.stdout + plain.stderr).toContain("have snapshots");
  await ok(["delete", "--cascade", vol]);
  await waitFor(async () => (await status("show", vol)) === undefined, "volume gone", 60_000);
  for (const s of snaps) {
    expect(await status("snapshot-show", s)).toBeUndefined();
  }
});

test("cinder encryption-type-create/-show/-update/-delete on a type; a volume of it is refused", async () => {
  await ok(["type-create", "enc-type"]);
  await ok([
    "encryption-type-create",
    "--cipher",
    "aes-xts-plain64",
    "--key-size",
    "256",
    "--control-location",
    "front-end",
    "enc-type",
    "luks",
  ]);
  const shown = (await ok(["encryption-type-show", "enc-type"])).stdout;
  expect(shown).toMatch(/luks/);
  expect(shown).toMatch(/aes-xts-plain64/);
  await ok(["encryption-type-update", "--key-size", "512", "enc-type"]);
  expect((await ok(["encryption-type-show", "enc-type"])).stdout).toMatch(/512/);
  expect((await ok(["encryption-type-list"])).stdout).toMatch(/luks/);
  const refused = await cinder(endpoint, ["create", "--volume-type", "enc-type", "1"]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain("is encrypted, and this service has no key manager");
  await ok(["encryption-type-delete", "enc-type"]);
  expect((await ok(["encryption-type-show", "enc-type"])).stdout).not.toMatch(/luks/);
});

test("cinder transfer-create, transfer-list, transfer-accept by another project", async () => {
  const vol = await created(["create", "--name", "gift", "1"]);
  const transfer = parseTable((await ok(["transfer-create", "--name", "t1", vol])).stdout);
  expect(transfer).toMatchObject({ volume_id: vol, name: "t1" });
  expect(transfer["auth_key"]).toMatch(/^[0-9a-f]{16}$/);
  expect(await status("show", vol)).toBe("awaiting-transfer");
  expect((await ok(["transfer-list"])).stdout).toContain(transfer["id"]!);
  expect(parseTable((await ok(["transfer-show", transfer["id"]!])).stdout)).toMatchObject({ volume_id: vol });

  const wrong = await cinder(endpoint, ["transfer-accept", transfer["id"]!, "0000000000000000"], BOB);
  expect(wrong.code).not.toBe(0);
  expect(wrong.stderr).toContain("invalid auth key");
  await ok(["transfer-accept", transfer["id"]!, transfer["auth_key"]!], BOB);
  const moved = parseTable((await ok(["show", vol], BOB)).stdout);
  expect(moved).toMatchObject({
    status: "available",
    user_id: "bob",
    "os-vol-tenant-attr:tenant_id": "other",
  });
  expect((await cinder(endpoint, ["show", vol], { user: "alice", project: "demo" })).code).not.toBe(0);
});
