/**
 * `npm run bench -- --evacuation`: issue 11's scale figures on the embedded default. N volumes
 * (1 GiB sparse raw files, 1 MiB of random data at the start of each) are made on demo@file-1
 * through the API; the evacuation of demo@file-1 is planned (dry runs: the API round trip, and the
 * API process's plan call alone), then run for real with generous caps and watched to its end.
 * Figures: plan time, volumes per minute, and the driver's own ticks as a share of the run.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";

import { type EvacuationStack, startEvacuationStack, type Tick } from "./evacuationStack";
import { median } from "./measure";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SOURCE = "demo@file-1";
const DEST = "demo@file-2";
const DATA_BYTES = 1 << 20;
/** Volume creations in flight at once (the API answers 202; the worker makes the file). */
const CREATE_CONCURRENCY = 16;
const PLAN_RUNS = 3;
/** How often the run is watched through GET /evacuations/{id} (an operator's refresh). */
const WATCH_MS = 5000;

export interface EvacuationBenchOptions {
  volumes: number;
  /** max_parallel, per host and per pool of the run, and the backends' max_concurrent_migrations. */
  parallel: number;
  log: (line: string) => void;
  signal: AbortSignal;
}

export interface EvacuationFigures {
  volumes: number;
  parallel: number;
  create_seconds: number;
  /** Dry runs: POST /evacuations round trips, and EvacuationApi.create alone (no HTTP). */
  plan_api_seconds: number[];
  plan_call_seconds: number[];
  planned_items: number;
  /** Seconds from the POST to the ended status seen by the bench, and as the API reports it. */
  run_wall_seconds: number;
  run_report_seconds: number | null;
  status: string;
  succeeded: number;
  failed: number;
  verified: number;
  /** The driver's ticks between the POST and the end. */
  ticks: { count: number; total_seconds: number; median_ms: number; max_ms: number };
  load_average_1m: { plan: number; run_start: number; run_end: number };
}

const load1 = (): number => Number(os.loadavg()[0]!.toFixed(2));

async function call(base: string, method: string, url: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { "X-Auth-Token": "admin:demo", "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
  }
  return text ? (JSON.parse(text) as Json) : {};
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function setService(base: string, host: string, enabled: boolean): Promise<void> {
  await call(base, "PUT", `/os-services/${enabled ? "enable" : "disable"}`, {
    host,
    binary: "cinder-volume",
  });
}

/** The backend file of a volume as the DB has it now (name_id after a generic copy). */
async function filesOf(s: EvacuationStack, ids: readonly string[]): Promise<Map<string, string>> {
  const rows = (await s.db("volumes").whereIn("id", ids).select("id", "name_id", "host")) as {
    id: string;
    name_id: string | null;
    host: string;
  }[];
  return new Map(
    rows.map((r) => {
      const backend = r.host.split("@")[1]!.split("#")[0]!;
      return [r.id, path.join(s.stateDir, backend, `volume-${r.name_id ?? r.id}`)];
    }),
  );
}

/** N volumes on the source (the destination disabled meanwhile), each with 1 MiB of random data. */
async function makeVolumes(s: EvacuationStack, o: EvacuationBenchOptions): Promise<Map<string, string>> {
  await setService(s.base, DEST, false);
  const ids: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < o.volumes && !o.signal.aborted) {
      const i = next++;
      const r = await call(s.base, "POST", "/volumes", { volume: { size: 1, name: `bench-evac-${i}` } });
      ids.push(r["volume"]["id"] as string);
    }
  };
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, worker));
  for (;;) {
    o.signal.throwIfAborted();
    const rows = (await s.db("volumes").whereIn("id", ids).select("status")) as { status: string }[];
    const bad = rows.filter((r) => r.status.startsWith("error"));
    if (bad.length > 0) {
      throw new Error(`${bad.length} volumes ended in error while being created`);
    }
    if (rows.every((r) => r.status === "available")) {
      break;
    }
    await sleep(500);
  }
  await setService(s.base, DEST, true);
  const digests = new Map<string, string>();
  for (const [id, file] of await filesOf(s, ids)) {
    const data = randomBytes(DATA_BYTES);
    const fd = fs.openSync(file, "r+");
    fs.writeSync(fd, data, 0, data.length, 0);
    fs.closeSync(fd);
    digests.set(id, createHash("sha256").update(data).digest("hex"));
  }
  return digests;
}

async function planTimes(
  s: EvacuationStack,
  o: EvacuationBenchOptions,
): Promise<Pick<EvacuationFigures, "plan_api_seconds" | "plan_call_seconds" | "planned_items">> {
  const api: number[] = [];
  const direct: number[] = [];
  let planned = 0;
  const caller = { userId: "admin", projectId: "demo", isAdmin: true };
  for (let i = 0; i < PLAN_RUNS; i++) {
    let t0 = performance.now();
    const r = await call(s.base, "POST", "/evacuations", { evacuation: { source: SOURCE, dry_run: true } });
    api.push(Number(((performance.now() - t0) / 1000).toFixed(3)));
    const items = r["evacuation"]["items"] as Json[];
    planned = items.filter((it) => it["state"] === "pending").length;
    t0 = performance.now();
    await s.evacuationApi.create(caller, { source: SOURCE, dry_run: true });
    direct.push(Number(((performance.now() - t0) / 1000).toFixed(3)));
  }
  o.log(`plan of ${planned} volumes: API ${api.map((x) => x.toFixed(2)).join(", ")} s`);
  return { plan_api_seconds: api, plan_call_seconds: direct, planned_items: planned };
}

/** The 1 MiB each volume was given, read back from where the volume is now. */
async function verify(s: EvacuationStack, digests: Map<string, string>): Promise<number> {
  const files = await filesOf(s, [...digests.keys()]);
  let ok = 0;
  const buf = Buffer.alloc(DATA_BYTES);
  for (const [id, want] of digests) {
    const file = files.get(id)!;
    if (!file.includes(`${path.sep}file-2${path.sep}`)) {
      continue;
    }
    const fd = fs.openSync(file, "r");
    fs.readSync(fd, buf, 0, DATA_BYTES, 0);
    fs.closeSync(fd);
    if (createHash("sha256").update(buf).digest("hex") === want) {
      ok += 1;
    }
  }
  return ok;
}

function tickFigures(ticks: readonly Tick[], from: number, to: number): EvacuationFigures["ticks"] {
  const ms = ticks.filter((t) => t.at >= from && t.at < to).map((t) => t.ms);
  return {
    count: ms.length,
    total_seconds: Number((ms.reduce((a, b) => a + b, 0) / 1000).toFixed(2)),
    median_ms: Number(median(ms).toFixed(1)),
    max_ms: Number(Math.max(0, ...ms).toFixed(1)),
  };
}

async function runEvacuation(
  s: EvacuationStack,
  o: EvacuationBenchOptions,
): Promise<{ e: Json; wall: number; from: number; to: number }> {
  const p = o.parallel;
  const from = performance.now();
  const created = await call(s.base, "POST", "/evacuations", {
    evacuation: { source: SOURCE, max_parallel: p, max_parallel_per_host: p, max_parallel_per_pool: p },
  });
  const id = created["evacuation"]["id"] as string;
  for (;;) {
    o.signal.throwIfAborted();
    await sleep(WATCH_MS);
    const e = (await call(s.base, "GET", `/evacuations/${id}`))["evacuation"] as Json;
    const t = e["totals"] as Json;
    o.log(
      `${e["status"]}: ${t["succeeded"]}/${t["volumes"]} succeeded, ${t["running"]} running, ${t["failed"]} failed`,
    );
    if (!["running", "paused", "cancelling"].includes(e["status"] as string)) {
      const to = performance.now();
      return { e, wall: (to - from) / 1000, from, to };
    }
  }
}

export async function measureEvacuation(o: EvacuationBenchOptions): Promise<EvacuationFigures> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-bench-evac-"));
  let stack: EvacuationStack | undefined;
  try {
    stack = await startEvacuationStack(stateDir, o.parallel);
    o.log(`service up in ${stateDir}; making ${o.volumes} volumes on ${SOURCE}`);
    let t0 = performance.now();
    const digests = await makeVolumes(stack, o);
    const createSeconds = (performance.now() - t0) / 1000;
    o.log(`${digests.size} volumes made in ${createSeconds.toFixed(1)} s`);
    const loadPlan = load1();
    const plan = await planTimes(stack, o);
    const loadStart = load1();
    const run = await runEvacuation(stack, o);
    const loadEnd = load1();
    t0 = performance.now();
    const verified = await verify(stack, digests);
    o.log(
      `${verified}/${digests.size} volumes' data read back on ${DEST} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const totals = run.e["totals"] as Json;
    return {
      volumes: o.volumes,
      parallel: o.parallel,
      create_seconds: Number(createSeconds.toFixed(2)),
      ...plan,
      run_wall_seconds: Number(run.wall.toFixed(2)),
      run_report_seconds: (run.e["report"]?.["duration_seconds"] as number | undefined) ?? null,
      status: run.e["status"] as string,
      succeeded: totals["succeeded"] as number,
      failed: totals["failed"] as number,
      verified,
      ticks: tickFigures(stack.ticks(), run.from, run.to),
      load_average_1m: { plan: loadPlan, run_start: loadStart, run_end: loadEnd },
    };
  } finally {
    await stack?.stop().catch((err: unknown) => o.log(`stopping the service: ${String(err)}`));
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}
