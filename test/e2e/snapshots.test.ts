/**
 * Volumes that move with their snapshots (issue 16, [DEFAULT] migrate_volumes_with_snapshots) on
 * the embedded default (etc/demo.conf: PGlite, in-process bus, two raw-file backends):
 * - option on: `cinder migrate` of a volume with two snapshots moves all three; afterwards the
 *   volume holds its latest data, volumes created from the snapshots hold the snapshots' data
 *   (sha256), the snapshots show, new snapshots and snapshot deletes work, the source's files are
 *   gone; and an evacuation moves a volume with a snapshot instead of skipping it;
 * - option off: Cinder's refusal, word for word.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { cinder, type CliResult, parseTable } from "../helpers/cli";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { waitFor } from "../helpers/stack";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MiB = 1024 * 1024;

interface Stack {
  proc: ServiceProcess;
  stateDir: string;
  endpoint: string;
}

let on: Stack;
let off: Stack;

async function start(withSnapshots: boolean): Promise<Stack> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-e2e-snapmove-"));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  const demo = fs.readFileSync(path.join(__dirname, "../../etc/demo.conf"), "utf8");
  fs.writeFileSync(
    conf,
    demo
      .replace(/^state_path = .*$/m, `state_path = ${stateDir}`)
      .replace(/^osapi_volume_listen_port = .*$/m, `osapi_volume_listen_port = ${port}`)
      .replace(/^\[DEFAULT\]$/m, `[DEFAULT]\nmigrate_volumes_with_snapshots = ${withSnapshots}`),
  );
  const proc = await startProcess(["all", "--config", conf], { readyLine: /listening on http/ });
  return { proc, stateDir, endpoint: `http://127.0.0.1:${port}/v3` };
}

beforeAll(async () => {
  on = await start(true);
  off = await start(false);
}, 180_000);

afterAll(async () => {
  for (const s of [on, off]) {
    await s?.proc.stop();
    if (s) {
      fs.rmSync(s.stateDir, { recursive: true, force: true });
    }
  }
});

async function ok(s: Stack, args: string[]): Promise<CliResult> {
  const r = await cinder(s.endpoint, args);
  if (r.code !== 0) {
    throw new Error(`cinder ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
  }
  return r;
}

async function call(
  s: Stack,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${s.endpoint}/demo${url}`, {
    method,
    headers: { "X-Auth-Token": "admin:demo", "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Json) : {} };
}

const show = async (s: Stack, id: string): Promise<Record<string, string>> =>
  parseTable((await ok(s, ["show", id])).stdout);

async function until(
  s: Stack,
  id: string,
  what: "volume" | "snapshot",
  want: string,
): Promise<Record<string, string>> {
  return waitFor(
    async () => {
      const v = parseTable((await ok(s, [what === "volume" ? "show" : "snapshot-show", id])).stdout);
      if (v["status"]?.startsWith("error")) {
        throw new Error(`${what} ${id} is ${v["status"]}`);
      }
      return v["status"] === want ? v : undefined;
    },
    `${what} ${id} ${want}`,
    120_000,
  );
}

/** The raw file of a volume or snapshot object on its backend. */
function fileOf(s: Stack, host: string, name: string): string {
  return path.join(s.stateDir, host.split("@")[1]!.split("#")[0]!, name);
}

/** The demo backend a volume is not on, as a pool name. */
const otherPool = (v: Record<string, string>): string =>
  v["os-vol-host-attr:host"]!.includes("file-1") ? "demo@file-2#file-2" : "demo@file-1#file-1";
const backendDir = (s: Stack, host: string): string =>
  path.join(s.stateDir, host.split("@")[1]!.split("#")[0]!);

/** cinderclient shows a null name_id as `None`. */
const volumeFile = (s: Stack, v: Record<string, string>): string => {
  const nameId = v["os-vol-mig-status-attr:name_id"];
  return fileOf(s, v["os-vol-host-attr:host"]!, `volume-${nameId && nameId !== "None" ? nameId : v["id"]}`);
};

function write(file: string, offset: number, data: Buffer): void {
  const fd = fs.openSync(file, "r+");
  fs.writeSync(fd, data, 0, data.length, offset);
  fs.closeSync(fd);
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    fs.createReadStream(file, { highWaterMark: 4 * MiB })
      .on("data", (c) => h.update(c as Buffer))
      .on("end", () => resolve(h.digest("hex")))
      .on("error", reject);
  });
}

async function createVolume(s: Stack, name: string): Promise<Record<string, string>> {
  const id = parseTable((await ok(s, ["create", "--name", name, "1"])).stdout)["id"]!;
  return until(s, id, "volume", "available");
}

async function snapshot(s: Stack, volumeId: string, name: string): Promise<string> {
  const id = parseTable((await ok(s, ["snapshot-create", "--name", name, volumeId])).stdout)["id"]!;
  await until(s, id, "snapshot", "available");
  return id;
}

async function migrated(s: Stack, id: string): Promise<Record<string, string>> {
  return waitFor(
    async () => {
      const v = await show(s, id);
      const m = v["os-vol-mig-status-attr:migstat"];
      if (m === "error") {
        throw new Error(`migration of ${id} failed: ${JSON.stringify(v)}`);
      }
      return m === "success" ? v : undefined;
    },
    `volume ${id} migrated`,
    180_000,
  );
}

test("option on: cinder migrate moves a volume with two snapshots; each keeps its data", async () => {
  const vol = await createVolume(on, "chain");
  const file = volumeFile(on, vol);
  write(file, 0, randomBytes(3 * MiB));
  write(file, 100 * MiB, randomBytes(MiB));
  const first = await snapshot(on, vol["id"]!, "first");
  const firstSum = await sha256(fileOf(on, vol["os-vol-host-attr:host"]!, `snapshot-${first}`));
  write(file, MiB, randomBytes(2 * MiB));
  write(file, 500 * MiB, randomBytes(MiB));
  const second = await snapshot(on, vol["id"]!, "second");
  const secondSum = await sha256(fileOf(on, vol["os-vol-host-attr:host"]!, `snapshot-${second}`));
  write(file, 100 * MiB, Buffer.alloc(MiB)); // zeros over data: a change too
  write(file, 900 * MiB, randomBytes(MiB));
  const latest = await sha256(file);
  expect(new Set([firstSum, secondSum, latest]).size).toBe(3);

  const dest = otherPool(vol);
  await ok(on, ["migrate", vol["id"]!, dest]);
  const moved = await migrated(on, vol["id"]!);
  expect(moved["os-vol-host-attr:host"]).toBe(dest);
  expect(moved["status"]).toBe("available");
  expect(await sha256(volumeFile(on, moved))).toBe(latest);
  // Nothing of the source is left where it was: volume and snapshot files deleted.
  const old = backendDir(on, vol["os-vol-host-attr:host"]!);
  await waitFor(
    async () => (fs.readdirSync(old).length === 0 ? true : undefined),
    "source files gone",
    30_000,
  );

  const shown = parseTable((await ok(on, ["snapshot-show", first])).stdout);
  expect(shown).toMatchObject({ status: "available", volume_id: vol["id"] });

  for (const [snap, sum] of [
    [first, firstSum],
    [second, secondSum],
  ] as const) {
    const id = parseTable(
      (await ok(on, ["create", "--snapshot-id", snap, "--name", `from-${snap}`, "1"])).stdout,
    )["id"]!;
    const made = await until(on, id, "volume", "available");
    expect(made["os-vol-host-attr:host"]).toBe(dest);
    expect(await sha256(volumeFile(on, made))).toBe(sum);
  }

  // The moved snapshots live on: a new one can be taken, and both old ones deleted.
  const third = await snapshot(on, vol["id"]!, "third");
  for (const id of [first, second, third]) {
    await ok(on, ["snapshot-delete", id]);
  }
  await waitFor(
    async () =>
      (await call(on, "GET", `/snapshots?volume_id=${vol["id"]}`)).json["snapshots"].length === 0
        ? true
        : undefined,
    "snapshots deleted",
    60_000,
  );
  expect(fs.readdirSync(backendDir(on, dest)).filter((f) => f.startsWith("snapshot-"))).toEqual([]);
}, 600_000);

test("option on: an evacuation moves a volume with a snapshot instead of skipping it", async () => {
  const vol = await createVolume(on, "evacuee");
  const source = vol["os-vol-host-attr:host"]!.split("#")[0]!;
  const file = volumeFile(on, vol);
  write(file, 0, randomBytes(2 * MiB));
  const snap = await snapshot(on, vol["id"]!, "keep");
  const snapSum = await sha256(fileOf(on, vol["os-vol-host-attr:host"]!, `snapshot-${snap}`));
  write(file, 0, randomBytes(MiB));
  const latest = await sha256(file);

  const dry = await call(on, "POST", "/evacuations", { evacuation: { source, dry_run: true } });
  expect(dry.status).toBe(200);
  const planned = (dry.json["evacuation"]["items"] as Json[]).find((i) => i["volume_id"] === vol["id"]);
  expect(planned).toMatchObject({ state: "pending", reason: null });

  const started = await call(on, "POST", "/evacuations", {
    evacuation: { source, disable_source: false },
  });
  expect(started.status).toBe(202);
  const id = started.json["evacuation"]["id"] as string;
  const done = await waitFor(
    async () => {
      const e = (await call(on, "GET", `/evacuations/${id}`)).json["evacuation"] as Json;
      return ["completed", "completed_with_errors", "failed", "cancelled"].includes(e["status"])
        ? e
        : undefined;
    },
    "evacuation ended",
    300_000,
  );
  // Every item's end, so that a failure says which volume and why.
  const ends = (done["items"] as Json[]).map((i) =>
    `${i["volume_id"]}: ${i["state"]} ${i["reason"] ?? ""}`.trim(),
  );
  expect({ status: done["status"], ends }).toEqual({
    status: "completed",
    ends: ends.map((e) => e.replace(/: .*$/, ": succeeded")),
  });
  const moved = await show(on, vol["id"]!);
  expect(moved["os-vol-host-attr:host"]).toBe(otherPool(vol));
  expect(await sha256(volumeFile(on, moved))).toBe(latest);
  const fromSnap = parseTable((await ok(on, ["create", "--snapshot-id", snap, "1"])).stdout)["id"]!;
  expect(await sha256(volumeFile(on, await until(on, fromSnap, "volume", "available")))).toBe(snapSum);
}, 600_000);

test("option off: a volume with a snapshot is refused as Cinder refuses it", async () => {
  const vol = await createVolume(off, "stays");
  await snapshot(off, vol["id"]!, "pin");
  const r = await cinder(off.endpoint, ["migrate", vol["id"]!, otherPool(vol)]);
  // cinderclient's migrate prints the API's refusal and exits 0.
  expect(r.stdout).toContain(
    `Migration for volume ${vol["id"]} failed: Invalid volume: Volume ${vol["id"]} status must be available or in-use, must not be migrating, have snapshots, ` +
      "be replicated, be part of a group and destination host/cluster must be different than the current one (HTTP 400)",
  );
  expect((await show(off, vol["id"]!))["os-vol-host-attr:host"]).toBe(vol["os-vol-host-attr:host"]);
  const source = vol["os-vol-host-attr:host"]!.split("#")[0]!;
  const dry = await call(off, "POST", "/evacuations", { evacuation: { source, dry_run: true } });
  const planned = (dry.json["evacuation"]["items"] as Json[]).find((i) => i["volume_id"] === vol["id"]);
  expect(planned).toMatchObject({ state: "skipped", reason: "has snapshots" });
}, 300_000);
