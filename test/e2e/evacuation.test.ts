/**
 * Evacuations on the embedded default (one all-in-one process, PGlite, in-process bus, the two demo
 * raw-file backends), through the HTTP API only: a dry run changes nothing; a run moves every
 * volume of demo@file-1 with the caps never exceeded (sampled), the data intact and the source
 * disabled, a volume with a snapshot skipped with its reason; pause, resume and cancel do what they
 * say; a member gets 403.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { waitFor } from "../helpers/stack";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let proc: ServiceProcess;
let stateDir: string;
let base: string;

const ADMIN = "admin:demo";
const MEMBER = "alice:demo";

async function call(
  method: string,
  url: string,
  body?: unknown,
  token = ADMIN,
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { "X-Auth-Token": token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Json) : {} };
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    fs.createReadStream(file, { highWaterMark: 4 << 20 })
      .on("data", (c) => h.update(c as Buffer))
      .on("end", () => resolve(h.digest("hex")))
      .on("error", reject);
  });
}

function fileOf(v: Json): string {
  const backend = (v["os-vol-host-attr:host"] as string).split("@")[1]!.split("#")[0]!;
  const name = (v["os-vol-mig-status-attr:name_id"] as string | null) ?? (v["id"] as string);
  return path.join(stateDir, backend, `volume-${name}`);
}

async function volume(id: string): Promise<Json> {
  const r = await call("GET", `/volumes/${id}`);
  expect(r.status).toBe(200);
  return r.json["volume"] as Json;
}

async function setService(backend: string, enabled: boolean): Promise<void> {
  const r = await call("PUT", `/os-services/${enabled ? "enable" : "disable"}`, {
    host: backend,
    binary: "cinder-volume",
  });
  expect(r.status).toBe(200);
}

async function serviceOf(backend: string): Promise<Json> {
  const r = await call("GET", "/os-services?binary=cinder-volume");
  return (r.json["services"] as Json[]).find((s) => s["host"] === backend)!;
}

/** Volumes made while only `backend` takes new ones, each with 2 MiB of random data at its start. */
async function volumesOn(backend: string, other: string, n: number): Promise<string[]> {
  await setService(other, false);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await call("POST", "/volumes", { volume: { size: 1, name: `evac-${backend}-${i}` } });
    expect(r.status).toBe(202);
    ids.push(r.json["volume"]["id"] as string);
  }
  for (const id of ids) {
    const v = await waitFor(async () => {
      const x = await volume(id);
      return x["status"] === "available" ? x : undefined;
    }, `volume ${id} available`);
    expect(v["os-vol-host-attr:host"]).toBe(`${backend}#${backend.split("@")[1]}`);
    const fd = fs.openSync(fileOf(v), "r+");
    fs.writeSync(fd, randomBytes(2 << 20), 0, 2 << 20, 0);
    fs.closeSync(fd);
  }
  await setService(other, true);
  return ids;
}

async function evacuation(id: string): Promise<Json> {
  const r = await call("GET", `/evacuations/${id}`);
  expect(r.status).toBe(200);
  return r.json["evacuation"] as Json;
}

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-evac-"));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  fs.copyFileSync(path.resolve(__dirname, "../../etc/demo.conf"), conf);
  proc = await startProcess(["all", "--config", conf], {
    env: {
      VMS__DEFAULT__STATE_PATH: stateDir,
      VMS__DEFAULT__OSAPI_VOLUME_LISTEN_PORT: String(port),
      VMS__DEFAULT__REPORT_INTERVAL: "2",
    },
    readyLine: /listening on http/,
  });
  base = `http://127.0.0.1:${port}/v3/demo`;
}, 90_000);

afterAll(async () => {
  await proc?.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

test("a member gets 403 on every evacuation route", async () => {
  const body = { evacuation: { source: "demo@file-1" } };
  expect((await call("POST", "/evacuations", body, MEMBER)).status).toBe(403);
  expect((await call("GET", "/evacuations", undefined, MEMBER)).status).toBe(403);
  const some = "00000000-0000-4000-8000-000000000000";
  expect((await call("GET", `/evacuations/${some}`, undefined, MEMBER)).status).toBe(403);
  expect((await call("POST", `/evacuations/${some}/action`, { "os-pause": {} }, MEMBER)).status).toBe(403);
  expect((await call("DELETE", `/evacuations/${some}`, undefined, MEMBER)).status).toBe(403);
});

test("dry run plans, a run moves every volume within the caps, data intact, source disabled", async () => {
  const ids = await volumesOn("demo@file-1", "demo@file-2", 6);
  const snapped = ids[5]!;
  const snap = await call("POST", "/snapshots", { snapshot: { volume_id: snapped, name: "keep" } });
  expect(snap.status).toBe(202);
  await waitFor(async () => {
    const s = await call("GET", `/snapshots/${snap.json["snapshot"]["id"]}`);
    return s.json["snapshot"]?.["status"] === "available" ? true : undefined;
  }, "snapshot available");
  const before = new Map<string, string>();
  for (const id of ids) {
    before.set(id, await sha256(fileOf(await volume(id))));
  }

  const options = {
    source: "demo@file-1",
    max_parallel: 2,
    max_parallel_per_host: 2,
    max_parallel_per_pool: 1,
  };
  const dry = await call("POST", "/evacuations", { evacuation: { ...options, dry_run: true } });
  expect(dry.status).toBe(200);
  const planned = dry.json["evacuation"] as Json;
  expect(planned["dry_run"]).toBe(true);
  const byVolume = new Map((planned["items"] as Json[]).map((it) => [it["volume_id"], it]));
  for (const id of ids.slice(0, 5)) {
    expect(byVolume.get(id)).toMatchObject({ to: "demo@file-2#file-2", state: "pending" });
  }
  expect(byVolume.get(snapped)).toMatchObject({ state: "skipped", reason: "has snapshots" });
  // Nothing stored, nothing disabled, nothing moved.
  expect((await call("GET", "/evacuations")).json["evacuations"]).toEqual([]);
  expect((await serviceOf("demo@file-1"))["status"]).toBe("enabled");
  for (const id of ids) {
    expect((await volume(id))["os-vol-host-attr:host"]).toBe("demo@file-1#file-1");
  }

  const started = await call("POST", "/evacuations", { evacuation: options });
  expect(started.status).toBe(202);
  const evacId = started.json["evacuation"]["id"] as string;
  const disabled = await serviceOf("demo@file-1");
  expect(disabled["status"]).toBe("disabled");
  expect(disabled["disabled_reason"]).toContain(evacId);

  // Sample while it runs: never more at once than the caps allow.
  let maxRunning = 0;
  const done = await waitFor(
    async () => {
      const e = await evacuation(evacId);
      const running = (e["items"] as Json[]).filter((it) => it["state"] === "running");
      maxRunning = Math.max(maxRunning, running.length);
      expect(running.length).toBeLessThanOrEqual(1); // max_parallel_per_pool 1, one destination pool
      expect(e["totals"]["running"]).toBeLessThanOrEqual(2);
      return ["completed", "completed_with_errors", "failed", "cancelled"].includes(e["status"] as string)
        ? e
        : undefined;
    },
    "evacuation ended",
    240_000,
    200,
  );
  expect(maxRunning).toBeGreaterThanOrEqual(1);
  expect(done["status"]).toBe("completed");
  expect(done["totals"]).toMatchObject({ volumes: 6, succeeded: 5, skipped: 1, failed: 0, running: 0 });
  for (const id of ids.slice(0, 5)) {
    const v = await volume(id);
    expect(v["os-vol-host-attr:host"]).toBe("demo@file-2#file-2");
    expect(v["os-vol-mig-status-attr:migstat"]).toBe("success");
    expect(await sha256(fileOf(v))).toBe(before.get(id));
  }
  expect((await volume(snapped))["os-vol-host-attr:host"]).toBe("demo@file-1#file-1");
  expect(await sha256(fileOf(await volume(snapped)))).toBe(before.get(snapped));
  expect((await serviceOf("demo@file-1"))["status"]).toBe("disabled");
  // Ended: it can be deleted.
  expect((await call("DELETE", `/evacuations/${evacId}`)).status).toBe(204);
}, 300_000);

test("pause starts nothing new, resume goes on, cancel keeps what finished and stops the rest", async () => {
  await setService("demo@file-1", true);
  await volumesOn("demo@file-2", "demo@file-1", 4);
  // Every volume on file-2 now: these four and the ones the previous test moved there.
  const list = await call("GET", "/volumes/detail?all_tenants=1");
  const before = new Map<string, string>();
  for (const v of list.json["volumes"] as Json[]) {
    if (v["os-vol-host-attr:host"] === "demo@file-2#file-2") {
      before.set(v["id"] as string, await sha256(fileOf(v)));
    }
  }
  expect(before.size).toBeGreaterThanOrEqual(4);
  // One at a time, slowly (1 MiB/s of a 1 GiB volume): it stays running while we steer it.
  const started = await call("POST", "/evacuations", {
    evacuation: { source: "demo@file-2", destination: "demo@file-1", max_parallel: 1, bandwidth_limit: 1 },
  });
  expect(started.status).toBe(202);
  const evacId = started.json["evacuation"]["id"] as string;
  const action = (body: Json): Promise<{ status: number; json: Json }> =>
    call("POST", `/evacuations/${evacId}/action`, body);

  await waitFor(
    async () => ((await evacuation(evacId))["totals"]["running"] === 1 ? true : undefined),
    "one running",
  );
  expect((await action({ "os-pause": {} })).status).toBe(202);
  expect((await evacuation(evacId))["status"]).toBe("paused");
  // While paused, the running one may go on, but nothing else starts.
  for (let i = 0; i < 6; i++) {
    const e = await evacuation(evacId);
    expect(e["totals"]["running"] + e["totals"]["succeeded"] + e["totals"]["failed"]).toBeLessThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 500));
  }
  expect((await action({ "os-resume": {} })).status).toBe(202);
  expect((await evacuation(evacId))["status"]).toBe("running");
  expect((await action({ "os-cancel": {} })).status).toBe(202);
  const ended = await waitFor(
    async () => {
      const e = await evacuation(evacId);
      return e["status"] === "cancelled" ? e : undefined;
    },
    "evacuation cancelled",
    120_000,
  );
  const states = (ended["items"] as Json[]).map((it) => it["state"] as string);
  expect(states.every((s) => s === "cancelled" || s === "succeeded")).toBe(true);
  expect(states.filter((s) => s === "cancelled").length).toBeGreaterThanOrEqual(3);
  // Whatever was cancelled stays where it was, whole.
  for (const it of ended["items"] as Json[]) {
    const v = await volume(it["volume_id"] as string);
    if (it["state"] === "cancelled") {
      expect(v["os-vol-host-attr:host"]).toBe("demo@file-2#file-2");
    }
    expect(v["status"]).toBe("available");
    expect(await sha256(fileOf(v))).toBe(before.get(it["volume_id"] as string));
  }
  // Not ended before; ended now: a second cancel is refused, delete works.
  expect((await action({ "os-resume": {} })).status).toBe(409);
  expect((await call("DELETE", `/evacuations/${evacId}`)).status).toBe(204);
}, 300_000);
