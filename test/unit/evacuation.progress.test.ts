import type { MigrationRow } from "../../db/migrationRecords";
import { GiB, type ItemLike, summarize } from "../../services/evacuation/progress";

function item(v: Partial<ItemLike>): ItemLike {
  return {
    volume_id: "v",
    size: 1,
    from_host: "old@lvm#lvm",
    to_host: "new@lvm#lvm",
    state: "pending",
    reason: null,
    migration_id: null,
    attempts: 0,
    bytes: null,
    started_at: null,
    finished_at: null,
    ...v,
  };
}

const T0 = new Date("2026-03-01T10:00:00Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);

test("totals, item progress and the report from items and running migrations", () => {
  const migration = {
    id: "m1",
    state: "migrating",
    bytes_total: 4 * GiB,
    bytes_done: GiB,
    rate_bps: GiB / 10,
    eta_seconds: 30,
  } as MigrationRow;
  const items = [
    item({
      state: "succeeded",
      size: 2,
      bytes: 2 * GiB,
      started_at: at(0),
      finished_at: at(20),
      attempts: 1,
    }),
    item({ state: "running", size: 4, migration_id: "m1", started_at: at(20), attempts: 1 }),
    item({ state: "pending", size: 3 }),
    item({ state: "skipped", size: 5, to_host: null, reason: "has snapshots" }),
    item({ state: "skipped", size: 7, to_host: null, reason: "no pool has room (needs 7 GiB)" }),
    item({ state: "failed", size: 1, reason: "boom", started_at: at(1), finished_at: at(2) }),
  ];
  const s = summarize({ status: "running", finished_at: null }, items, new Map([["m1", migration]]), at(40));
  expect(s.totals).toEqual({
    volumes: 6,
    pending: 1,
    running: 1,
    succeeded: 1,
    failed: 1,
    skipped: 2,
    cancelled: 0,
    bytes_total: 10 * GiB,
    bytes_done: 3 * GiB,
    // 3 GiB of the running one and 3 GiB pending at 0.1 GiB/s.
    eta_seconds: 60,
    shortfall_gb: 7,
  });
  expect(s.items[0]).toMatchObject({
    progress: null,
    duration_seconds: 20,
    average_bps: Math.round((2 * GiB) / 20),
  });
  expect(s.items[1]).toMatchObject({
    progress: { percent: 25, rate_bps: GiB / 10, eta_seconds: 30 },
    duration_seconds: 20,
    average_bps: null,
  });
  expect(s.report).toEqual({
    started_at: at(0),
    finished_at: null,
    duration_seconds: 40,
    bytes: 2 * GiB,
    throughput_bps: Math.round((2 * GiB) / 40),
    volumes_moved: 1,
    volumes_per_minute: 1.5,
  });
});

test("paused: no ETA; ended: ETA 0 and the report ends at finished_at; nothing started: nulls", () => {
  const running = item({ state: "running", size: 1, migration_id: "m", started_at: at(0) });
  const m = { id: "m", state: "migrating", bytes_done: 0, bytes_total: GiB, rate_bps: 100 } as MigrationRow;
  expect(
    summarize({ status: "paused", finished_at: null }, [running], new Map([["m", m]])).totals.eta_seconds,
  ).toBeNull();
  const done = summarize(
    { status: "completed", finished_at: at(90) },
    [item({ state: "succeeded", bytes: GiB, started_at: at(30), finished_at: at(90) })],
    new Map(),
  );
  expect(done.totals.eta_seconds).toBe(0);
  expect(done.report).toMatchObject({ duration_seconds: 60, volumes_per_minute: 1 });
  const fresh = summarize({ status: "running", finished_at: null }, [item({})], new Map());
  expect(fresh.report).toMatchObject({ started_at: null, duration_seconds: null, throughput_bps: null });
  expect(fresh.totals.eta_seconds).toBeNull();
  // A running item whose migration row is not known yet shows empty progress.
  const early = summarize({ status: "running", finished_at: null }, [item({ state: "running" })], new Map());
  expect(early.items[0]!.progress).toEqual({ percent: null, rate_bps: null, eta_seconds: null });
});
