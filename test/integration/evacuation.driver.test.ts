/**
 * The evacuation driver against the real PostgreSQL and real raw-file workers (scheduler and
 * five workers in this process, on the in-process bus): evacuations are inserted directly with
 * their items (the plan is not under test here) and the driver moves them.
 *
 * src-1 and src-2 move their volumes natively (the raw-file driver's hard link into the
 * destination's directory: a real migration through scheduler and worker, done in a second);
 * src-3 copies (the generic flow: temp volume, verified copy, row swap): one volume of the main
 * run, and the one the cancel test stops mid-copy. A 1 GiB generic copy can take minutes on a
 * loaded machine (it hashes every byte on both ends), so the other tests move natively.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import pino from "pino";

import { type AppConfig, parseConfig } from "../../common/config";
import { backendOf } from "../../common/hosts";
import type { Logger } from "../../common/logger";
import {
  type EvacuationItemRow,
  type EvacuationRow,
  getEvacuation,
  insertEvacuation,
  listEvacuationItems,
  type NewEvacuation,
  updateEvacuationIf,
} from "../../db/evacuations";
import { insertMigration, listMigrations } from "../../db/migrationRecords";
import { getVolume, insertVolume, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { EvacuationDriver } from "../../services/evacuation/driver";
import { SchedulerRpc, VolumeRpc } from "../../services/rpc/stubs";
import { migrateVolume } from "../../services/volumeApi/migrate";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { type InProcessStack, startInProcessStack, waitFor } from "../helpers/stack";

const run = promisify(execFile);
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const HOST = "test";
const pool = (backend: string): string => `${HOST}@${backend}#${backend}`;

let t: TestDatabase;
let stack: InProcessStack;
let config: AppConfig;
let stateDir: string;
const drivers: EvacuationDriver[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-evac-"));
  const backend = (name: string, native = true): string =>
    `[${name}]\nvolume_driver = rawfile\nrawfile_directory = $state_path/${name}\n` +
    `rawfile_native_migration = ${native}\n`;
  config = parseConfig(
    `[DEFAULT]
host = ${HOST}
state_path = ${stateDir}
enabled_backends = src-1, src-2, src-3, dst-1, dst-2
report_interval = 1
service_down_time = 60
# The evacuation's caps are under test, not the workers' queue.
max_concurrent_migrations = 0
${backend("src-1")}${backend("src-2")}${backend("src-3", false)}${backend("dst-1")}${backend("dst-2")}`,
    {},
  );
  stack = await startInProcessStack(t.db, config);
}, 60_000);

afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.stop()));
  // A test that failed midway leaves no evacuation for the next test's drivers.
  await t
    .db("evacuations")
    .whereIn("status", ["running", "paused", "cancelling"])
    .update({ status: "failed", error: "left over by a failed test" });
});

afterAll(async () => {
  await stack.stop();
  await t.drop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

/** A logger whose lines the test reads. */
function capturing(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "info" },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { logger, lines };
}

function startDriver(o: { id?: string; leaseMs?: number; logger?: Logger } = {}): EvacuationDriver {
  const d = new EvacuationDriver({
    db: t.db,
    bus: stack.bus,
    config,
    logger: o.logger ?? pino({ level: "silent" }),
    id: o.id,
    tickMs: 200,
    leaseMs: o.leaseMs ?? 3000,
    stuckStartMs: 2000,
    retryDelayMs: 0,
  });
  drivers.push(d);
  d.start();
  return d;
}

function fileOf(v: Pick<VolumeRow, "id" | "name_id" | "host">): string {
  const backend = backendOf(v.host!).split("@")[1]!;
  return path.join(stateDir, backend, `volume-${v.name_id ?? v.id}`);
}

async function sha256(file: string): Promise<string> {
  return (await run("sha256sum", [file])).stdout.split(" ")[0]!;
}

interface Written {
  volume: VolumeRow;
  sha: string;
}

/** 1 GiB volumes on BACKEND (sparse raw files), each with 4 MiB of random data somewhere. */
async function volumesOn(backend: string, n: number, opts: { hash?: boolean } = {}): Promise<Written[]> {
  const rpc = new VolumeRpc(stack.bus);
  const made = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const v = await insertVolume(t.db, {
        size: 1,
        status: "creating",
        project_id: "demo",
        user_id: "admin",
        name: `evac-${backend}-${i}`,
        host: pool(backend),
        availability_zone: "nova",
      });
      await rpc.createVolume(pool(backend), { volume_id: v.id });
      return v;
    }),
  );
  return Promise.all(
    made.map(async (v, i) => {
      const volume = await waitFor(async () => {
        const row = await getVolume(t.db, v.id);
        return row?.status === "available" ? row : undefined;
      }, "volume available");
      const fd = fs.openSync(fileOf(volume), "r+");
      fs.writeSync(fd, randomBytes(4 * MiB), 0, 4 * MiB, ((i * 97) % 1000) * MiB);
      fs.closeSync(fd);
      return { volume, sha: opts.hash ? await sha256(fileOf(volume)) : "" };
    }),
  );
}

function evacuation(o: Partial<NewEvacuation> = {}): NewEvacuation {
  return {
    status: "running",
    source: `${HOST}@src-1`,
    destination: null,
    max_parallel: 6,
    max_parallel_per_host: 2,
    max_parallel_per_pool: 2,
    order: "smallest_first",
    include_in_use: false,
    disable_source: false,
    bandwidth_limit: null,
    max_retries: 1,
    disabled_services: null,
    project_id: "demo",
    user_id: "admin",
    ...o,
  };
}

/** Inserts the evacuation with one pending item per volume, to DESTS in turn. */
async function evacuate(
  vols: readonly Written[],
  dests: readonly string[],
  o: Partial<NewEvacuation> = {},
): Promise<EvacuationRow> {
  return insertEvacuation(
    t.db,
    evacuation(o),
    vols.map((w, i) => ({
      position: i,
      volume_id: w.volume.id,
      size: 1,
      from_host: w.volume.host!,
      to_host: pool(dests[i % dests.length]!),
      state: "pending",
      reason: null,
    })),
  );
}

async function ended(id: string, timeoutMs = 300_000): Promise<EvacuationRow> {
  return waitFor(
    async () => {
      const e = await getEvacuation(t.db, id);
      return e && ["completed", "completed_with_errors", "cancelled", "failed"].includes(e.status)
        ? e
        : undefined;
    },
    `evacuation ${id} to end`,
    timeoutMs,
    200,
  );
}

async function items(id: string): Promise<EvacuationItemRow[]> {
  return listEvacuationItems(t.db, id);
}

async function itemsIn(id: string, state: string): Promise<EvacuationItemRow[]> {
  return (await items(id)).filter((i) => i.state === state);
}

/** The largest numbers of migrations at once seen while sampling: in all, per source backend, per pool. */
interface Peak {
  total: number;
  perBackend: number;
  perPool: number;
  samples: number;
}

/**
 * Samples every 100 ms, until stopped, both the running items and the evacuation's unfinished
 * migrations (a migration outlives its item's `running` by at most a tick: both are counted).
 */
function sampler(evacuationId: string): { stop(): Promise<Peak> } {
  const peak: Peak = { total: 0, perBackend: 0, perPool: 0, samples: 0 };
  let stopped = false;
  const count = (keys: string[]): number => {
    const m = new Map<string, number>();
    keys.forEach((k) => m.set(k, (m.get(k) ?? 0) + 1));
    return Math.max(0, ...m.values());
  };
  const loop = (async () => {
    while (!stopped) {
      const [running, migrations] = await Promise.all([
        t
          .db("evacuation_items")
          .select("from_host", "to_host")
          .where({ evacuation_id: evacuationId, state: "running" }) as Promise<
          { from_host: string; to_host: string }[]
        >,
        t
          .db("migrations")
          .select("source_host", "requested_dest")
          .where({ evacuation_id: evacuationId })
          .whereNotIn("state", ["success", "error"]) as Promise<
          { source_host: string; requested_dest: string }[]
        >,
      ]);
      peak.samples += 1;
      peak.total = Math.max(peak.total, running.length, migrations.length);
      peak.perBackend = Math.max(
        peak.perBackend,
        count(running.map((r) => backendOf(r.from_host))),
        count(migrations.map((m) => backendOf(m.source_host))),
      );
      peak.perPool = Math.max(
        peak.perPool,
        count(running.map((r) => r.to_host)),
        count(migrations.map((m) => m.requested_dest)),
      );
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return peak;
    },
  };
}

/** Per volume: how many migrations it had, and how many succeeded. */
async function migrationsOf(
  volumeIds: readonly string[],
): Promise<Map<string, { all: number; success: number }>> {
  const out = new Map<string, { all: number; success: number }>();
  for (const id of volumeIds) {
    const rows = await listMigrations(t.db, { volumeId: id });
    out.set(id, { all: rows.length, success: rows.filter((m) => m.state === "success").length });
  }
  return out;
}

test("migrateVolume's callback runs in its transaction: when it throws, nothing is recorded or cast", async () => {
  const [w] = await volumesOn("src-1", 1);
  const volume = w!.volume;
  const o = { db: t.db, bus: stack.bus, config, logger: pino({ level: "silent" }) };
  const admin = { userId: "admin", projectId: "demo", isAdmin: true };
  const req = {
    host: pool("dst-1"),
    cluster: null,
    forceHostCopy: false,
    lockVolume: false,
    clusterAllowed: true,
  };
  let seen: string | undefined;
  await expect(
    migrateVolume(o, admin, volume, req, {
      evacuationId: undefined,
      within: async (trx, m) => {
        seen = m.id;
        // Inside the transaction the row and the volume's CAS are visible...
        expect(await trx("migrations").where({ id: m.id }).first()).toBeDefined();
        throw new Error("no");
      },
    }),
  ).rejects.toThrow("no");
  // ...and after it nothing of them is left.
  expect(seen).toBeDefined();
  expect(await listMigrations(t.db, { volumeId: volume.id })).toEqual([]);
  expect(await getVolume(t.db, volume.id)).toMatchObject({ migration_status: null, host: pool("src-1") });
}, 60_000);

test("every volume moves, within the caps, with its data intact; the source may be disabled; one summary line", async () => {
  const vols = [
    // The first copies (generic flow), the others move natively.
    ...(await volumesOn("src-3", 1, { hash: true })),
    ...(await volumesOn("src-1", 4, { hash: true })),
    ...(await volumesOn("src-2", 2, { hash: true })),
  ];
  // As the planner leaves it with disable_source: the source's services disabled (no new volume
  // lands there); migrations leave it all the same.
  const sources = [`${HOST}@src-1`, `${HOST}@src-2`, `${HOST}@src-3`];
  await t
    .db("services")
    .whereIn("host", sources)
    .update({ disabled: true, disabled_reason: "evacuation test" });
  const e = await evacuate(vols, ["dst-1", "dst-2"], {
    max_parallel: 3,
    max_parallel_per_host: 2,
    max_parallel_per_pool: 2,
    bandwidth_limit: 128,
  });
  const sampling = sampler(e.id);
  const log = capturing();
  startDriver({ logger: log.logger });
  const done = await ended(e.id);
  const peak = await sampling.stop();
  await t.db("services").whereIn("host", sources).update({ disabled: false, disabled_reason: null });

  expect(done.status).toBe("completed");
  expect(done.finished_at).not.toBeNull();
  expect(done.driver).toBeNull();
  // The caps held, and they were reached (the test can fail both ways).
  expect(peak.samples).toBeGreaterThan(5);
  expect(peak.total).toBeLessThanOrEqual(3);
  expect(peak.perBackend).toBeLessThanOrEqual(2);
  expect(peak.perPool).toBeLessThanOrEqual(2);
  expect(peak.total).toBeGreaterThanOrEqual(2);

  const rows = await items(e.id);
  expect(rows.map((i) => i.state)).toEqual(Array(7).fill("succeeded"));
  for (const [i, item] of rows.entries()) {
    // The copy's bytes; a native move copies nothing (its migration's bytes_done is 0).
    expect(item).toMatchObject({ attempts: 1, bytes: i === 0 ? GiB : 0, reason: null });
    expect(item.migration_id).not.toBeNull();
    expect(item.finished_at).not.toBeNull();
    const v = (await getVolume(t.db, item.volume_id))!;
    expect(v.host).toBe(item.to_host);
    expect(v.migration_status).toBe("success");
    expect(await sha256(fileOf(v))).toBe(vols[i]!.sha);
  }
  for (const c of (await migrationsOf(vols.map((w) => w.volume.id))).values()) {
    expect(c).toEqual({ all: 1, success: 1 });
  }
  const ms = (await t.db("migrations").where({ evacuation_id: e.id })) as { bps_limit: string }[];
  expect(ms).toHaveLength(7);
  // bandwidth_limit (MiB/s) became each migration's own bps_limit.
  expect(ms.map((m) => Number(m.bps_limit))).toEqual(Array(7).fill(128 * MiB));

  const summary = log.lines.filter((l) => String(l["msg"]).startsWith(`evacuation ${e.id} completed:`));
  expect(summary).toHaveLength(1);
  expect(summary[0]!["msg"]).toMatch(
    /: 7\/7 volumes moved, 0 failed, 0 skipped, 0 cancelled; 1073\.7 MB in [\d.]+ s \([\d.]+ MB\/s\)$/,
  );
  expect(summary[0]).toMatchObject({ status: "completed", volumes: 7, succeeded: 7, failed: 0, bytes: GiB });
  expect(summary[0]!["duration_seconds"]).toEqual(expect.any(Number));
}, 900_000);

test("pause starts nothing new while running migrations finish; resume goes on", async () => {
  const vols = await volumesOn("src-2", 4);
  const e = await evacuate(vols, ["dst-1"], { max_parallel: 1 });
  startDriver();
  await waitFor(async () => (await itemsIn(e.id, "running")).length === 1, "first item running", 60_000);
  await updateEvacuationIf(t.db, e.id, { status: "paused" }, { status: "running" });
  // What runs finishes; then nothing starts, for many ticks.
  await waitFor(async () => (await itemsIn(e.id, "running")).length === 0, "running items done", 120_000);
  const atPause = (await items(e.id)).map((i) => i.state);
  await new Promise((r) => setTimeout(r, 3000));
  const later = (await items(e.id)).map((i) => i.state);
  expect(later).toEqual(atPause);
  expect(later.filter((s) => s === "pending").length).toBeGreaterThanOrEqual(2);
  expect(later.filter((s) => s === "succeeded").length).toBeGreaterThanOrEqual(1);
  expect(await t.db("migrations").where({ evacuation_id: e.id })).toHaveLength(
    4 - later.filter((s) => s === "pending").length,
  );
  expect((await getEvacuation(t.db, e.id))!.status).toBe("paused");

  await updateEvacuationIf(t.db, e.id, { status: "running" }, { status: "paused" });
  expect((await ended(e.id)).status).toBe("completed");
  expect((await items(e.id)).map((i) => i.state)).toEqual(Array(4).fill("succeeded"));
}, 600_000);

test("cancel keeps what finished, cancels the running migration and the pending items", async () => {
  const [first] = await volumesOn("src-1", 1);
  // The second copies (generic flow) at 8 MiB/s: over two minutes, still copying at the cancel.
  const [copied] = await volumesOn("src-3", 1, { hash: true });
  const rest = await volumesOn("src-1", 2);
  const e = await evacuate([first!, copied!, ...rest], ["dst-2"], { max_parallel: 1, bandwidth_limit: 8 });
  startDriver();
  const second = await waitFor(
    async () => {
      const [r] = await itemsIn(e.id, "running");
      const m =
        r?.volume_id === copied!.volume.id
          ? await t.db("migrations").where({ id: r.migration_id }).first()
          : undefined;
      return m?.state === "migrating" && Number(m.bytes_done) > 0 ? r : undefined;
    },
    "second item copying",
    300_000,
  );
  await updateEvacuationIf(t.db, e.id, { status: "cancelling" }, { status: "running" });

  const done = await ended(e.id, 300_000);
  expect(done.status).toBe("cancelled");
  expect(done.finished_at).not.toBeNull();
  const rows = await items(e.id);
  expect(rows.map((i) => i.state)).toEqual(["succeeded", "cancelled", "cancelled", "cancelled"]);
  expect(rows[1]!.reason).toMatch(/cancelled: by an administrator/);
  expect(rows[2]!.reason).toBe("the evacuation was cancelled before it started");
  // The cancelled copy left its volume where it was, intact; the pending ones never started.
  const m = await t.db("migrations").where({ id: second.migration_id }).first();
  expect(m).toMatchObject({ state: "error", bps_limit: String(8 * MiB) });
  expect(m.cancel_requested_at).not.toBeNull();
  const v = (await getVolume(t.db, second.volume_id))!;
  expect(v).toMatchObject({ host: pool("src-3"), migration_status: "error", status: "available" });
  expect(await sha256(fileOf(v))).toBe(copied!.sha);
  expect(await t.db("migrations").where({ evacuation_id: e.id })).toHaveLength(2);
  expect((await getVolume(t.db, first!.volume.id))!.host).toBe(pool("dst-2"));
}, 900_000);

test("a failed migration is retried up to max_retries, then the item fails with the migration's error", async () => {
  const vols = await volumesOn("src-2", 2);
  // The source's data is gone: every move of it fails.
  fs.rmSync(fileOf(vols[0]!.volume));
  const e = await evacuate(vols, ["dst-1", "dst-2"], { max_retries: 2 });
  startDriver();
  const done = await ended(e.id);
  expect(done.status).toBe("completed_with_errors");
  const [bad, good] = await items(e.id);
  expect(good).toMatchObject({ state: "succeeded", attempts: 1 });
  expect(bad).toMatchObject({ state: "failed", attempts: 3 });
  const tries = await listMigrations(t.db, { volumeId: bad!.volume_id });
  expect(tries.map((m) => m.state)).toEqual(["error", "error", "error"]);
  // The item keeps the last attempt's reason: its migration's error.
  expect(bad!.migration_id).toBe(tries[0]!.id);
  expect(bad!.reason).toBe(tries[0]!.error);
  expect(bad!.reason).toMatch(/No such file/);
}, 600_000);

test("a second driver leaves an evacuation whose lease is held alone", async () => {
  const vols = await volumesOn("src-1", 3);
  const e = await evacuate(vols, ["dst-1"], { max_parallel: 1 });
  const a = startDriver({ id: "driver-a" });
  await waitFor(async () => (await getEvacuation(t.db, e.id))?.driver === a.id, "driver a holds the lease");
  const logB = capturing();
  startDriver({ id: "driver-b", logger: logB.logger });
  const holders = new Set<string | null>();
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const row = await getEvacuation(t.db, e.id);
      holders.add(row?.status === "running" ? row.driver : "ended");
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await ended(e.id);
  watching = false;
  await watch;
  expect([...holders].filter((h) => h !== "ended")).toEqual(["driver-a"]);
  expect(logB.lines.filter((l) => l["evacuation_id"] === e.id)).toEqual([]);
}, 600_000);

test("a driver that dies is replaced once its lease runs out, and no volume is migrated twice", async () => {
  const vols = [...(await volumesOn("src-1", 3)), ...(await volumesOn("src-2", 2))];
  const e = await evacuate(vols, ["dst-1", "dst-2"], { max_parallel: 2 });
  const a = startDriver({ id: "dying", leaseMs: 4000 });
  await waitFor(async () => (await itemsIn(e.id, "running")).length === 2, "two items running", 60_000);
  // Dies: stops ticking, keeps its lease (no release), as a killed process would.
  await a.stop({ release: false });
  const lease = (await getEvacuation(t.db, e.id))!;
  expect(lease.driver).toBe("dying");
  const log = capturing();
  startDriver({ id: "successor", logger: log.logger });
  const taken = await waitFor(async () => {
    const row = await getEvacuation(t.db, e.id);
    return row?.driver === "successor" ? new Date() : undefined;
  }, "the successor takes the lease");
  // Not before the dead driver's lease ran out.
  expect(taken.getTime()).toBeGreaterThanOrEqual(new Date(lease.lease_until!).getTime() - 500);
  const done = await ended(e.id);
  expect(done.status).toBe("completed");
  expect((await items(e.id)).every((i) => i.state === "succeeded" && i.attempts === 1)).toBe(true);
  for (const c of (await migrationsOf(vols.map((w) => w.volume.id))).values()) {
    expect(c).toEqual({ all: 1, success: 1 });
  }
  expect(log.lines.some((l) => l["msg"] === "driving evacuation" && l["evacuation_id"] === e.id)).toBe(true);
}, 600_000);

test("a start whose cast was lost is cast again; duplicate casts begin the migration once", async () => {
  const [w] = await volumesOn("src-2", 1);
  const volume = w!.volume;
  const e = await evacuate([w!], ["dst-2"]);
  const [item] = await items(e.id);
  // What the driver's start commits, as if the process died before its cast to the scheduler.
  const m = await t.db.transaction(async (trx) => {
    await updateVolumeIf(
      trx,
      volume.id,
      { migration_status: "starting", previous_status: "available" },
      { migration_status: null },
    );
    const row = await insertMigration(trx, {
      volume_id: volume.id,
      source_host: volume.host!,
      requested_dest: pool("dst-2"),
      force_host_copy: false,
      lock_volume: false,
      user_id: "admin",
      evacuation_id: e.id,
    });
    await trx("evacuation_items")
      .where({ id: item!.id })
      .update({ state: "running", migration_id: row.id, attempts: 1, started_at: trx.fn.now() });
    return row;
  });
  const log = capturing();
  startDriver({ logger: log.logger });
  await waitFor(
    async () =>
      log.lines.some((l) => l["msg"] === "migration still starting; casting it to the scheduler again"),
    "the driver casts it again",
  );
  // Two more casts of the same migration race the driver's own.
  const scheduler = new SchedulerRpc(stack.bus);
  const cast = { volume_id: volume.id, migration_id: m.id, backend: pool("dst-2"), force_host_copy: false };
  await Promise.all([scheduler.migrateVolume(cast), scheduler.migrateVolume(cast)]);
  expect((await ended(e.id)).status).toBe("completed");
  expect(await listMigrations(t.db, { volumeId: volume.id })).toEqual([
    expect.objectContaining({ id: m.id, state: "success" }),
  ]);
  const v = (await getVolume(t.db, volume.id))!;
  expect(v.host).toBe(pool("dst-2"));
  expect(fs.existsSync(fileOf(v))).toBe(true);
}, 600_000);
