/**
 * Issue 5 on real workers (in-process stack, raw-file backends, real copy engine, real Postgres):
 * progress on the migrations row, set_bandwidth_limit reaching the copier, cancel mid-copy and
 * while queued, max_concurrent_migrations = 1 queueing, and a restarted worker requeueing.
 * Every copy starts at [DEFAULT] volume_copy_bps_limit = 1 MiB/s (a 1 GiB volume would take 17
 * minutes), so a migration is mid-copy for as long as a test needs; raising its own limit with
 * set_bandwidth_limit lets it finish.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import type { Express } from "express";
import request from "supertest";

import { createApp } from "../../api/app";
import type { AppConfig } from "../../common/config";
import { silentLogger } from "../../common/logger";
import { insertVolume, type VolumeRow } from "../../db/volumes";
import type { CopyRequest, VolumeCopier } from "../../services/copy/types";
import { VolumeRpc } from "../../services/rpc/stubs";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { type InProcessStack, startInProcessStack, twoBackendConfig, waitFor } from "../helpers/stack";

jest.setTimeout(300_000);

const GiB = 1024 ** 3;
const SLOW = 1024 * 1024;
const FAST = 4 * GiB;
let t: TestDatabase;
let stack: InProcessStack;
let app: Express;
let config: AppConfig;
let stateDir: string;

/** The last limit the copy engine read for each migration's copy (keyed by the temp volume's path). */
const seenLimits = new Map<string, number | null>();
const recording = (engine: VolumeCopier): VolumeCopier => ({
  copy: (req: CopyRequest) =>
    engine.copy({
      ...req,
      bpsLimit: () => {
        const v = req.bpsLimit?.() ?? null;
        seenLimits.set(req.dest.path, v);
        return v;
      },
    }),
});

async function startStack(): Promise<void> {
  stack = await startInProcessStack(t.db, config, { wrapCopier: recording });
  app = createApp({ db: t.db, bus: stack.bus, config, logger: silentLogger() });
}

beforeAll(async () => {
  t = await createTestDatabase();
  ({ config, stateDir } = twoBackendConfig(
    `volume_copy_bps_limit = ${SLOW}\nmax_concurrent_migrations = 1\n`,
  ));
  await startStack();
});
afterAll(async () => {
  await stack.stop();
  await t.drop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const fileOf = (backend: string, v: Pick<VolumeRow, "id" | "name_id">): string =>
  path.join(stateDir, backend, `volume-${v.name_id ?? v.id}`);
const sha256 = (file: string): string => createHash("sha256").update(fs.readFileSync(file)).digest("hex");
const admin = (method: "get" | "post", url: string) =>
  request(app)[method](url).set("X-Auth-Token", "admin:demo");

interface MigrationView {
  id: string;
  state: string;
  error: string | null;
  temp_volume_id: string | null;
  started_at: string | null;
  finished_at: string | null;
  cancel_requested_at: string | null;
  queue_position: number | null;
  bps_limit: number | null;
  progress: {
    bytes_done: number;
    bytes_total: number | null;
    percent: number | null;
    rate_bps: number | null;
    eta_seconds: number | null;
  };
  checksums: { source: string | null; dest: string | null };
}

async function show(id: string): Promise<MigrationView> {
  return (await admin("get", `/v3/demo/migrations/${id}`).expect(200)).body.migration as MigrationView;
}

/** A 1 GiB volume on file-1 with some random data in it. */
async function createVolume(): Promise<VolumeRow> {
  const v = await insertVolume(t.db, {
    size: 1,
    status: "creating",
    project_id: "demo",
    user_id: "admin",
    name: "v",
    host: "test@file-1#file-1",
  });
  await new VolumeRpc(stack.bus).createVolume(v.host!, { volume_id: v.id });
  const row = await waitFor(async () => {
    const r = (await t.db("volumes").where({ id: v.id }).first()) as VolumeRow | undefined;
    return r?.status === "available" ? r : undefined;
  }, "volume available");
  const fd = fs.openSync(fileOf("file-1", row), "r+");
  fs.writeSync(fd, randomBytes(1024 * 1024), 0, 1024 * 1024, 100 * 1024 * 1024);
  fs.closeSync(fd);
  return row;
}

/** os-migrate_volume through the API (generic copy to file-2); returns the migration id. */
async function migrate(v: VolumeRow, lock = false): Promise<string> {
  const res = await admin("post", `/v3/demo/volumes/${v.id}/action`).send({
    "os-migrate_volume": { host: "test@file-2#file-2", force_host_copy: true, lock_volume: lock },
  });
  expect([res.status, res.body]).toEqual([202, {}]);
  const m = await waitFor(
    async () => t.db("migrations").where({ volume_id: v.id }).orderBy("created_at", "desc").first(),
    "migration row",
  );
  return (m as { id: string }).id;
}

const until = (id: string, what: string, ok: (m: MigrationView) => boolean, ms = 30_000) =>
  waitFor(
    async () => {
      const m = await show(id);
      return ok(m) ? m : undefined;
    },
    `${what} (${id})`,
    ms,
  );
const copying = (id: string) => until(id, "copy under way", (m) => m.progress.bytes_done > 0);
const volumeOf = async (id: string) => (await t.db("volumes").where({ id }).first()) as VolumeRow;
const tempPath = (m: MigrationView) => fileOf("file-2", { id: m.temp_volume_id!, name_id: null });

async function setLimit(id: string, bps: number | null): Promise<void> {
  await admin("post", `/v3/demo/migrations/${id}/action`).send({ set_bandwidth_limit: { bps } }).expect(202);
}

test("progress is written during the copy; set_bandwidth_limit reaches the copier; 100% at the end", async () => {
  const v = await createVolume();
  const id = await migrate(v);
  const mid = await until(id, "two progress writes", (m) => m.progress.bytes_done >= 2 * SLOW);
  // The backend's default applies, shown as the effective limit and read by the copier.
  expect(mid.bps_limit).toBe(SLOW);
  expect(seenLimits.get(tempPath(mid))).toBe(SLOW);
  expect(mid).toMatchObject({ state: "migrating", progress: { bytes_total: GiB } });
  const p = mid.progress;
  expect(p.percent).toBeGreaterThan(0);
  expect(p.percent).toBeLessThan(5);
  expect(p.percent).toBe(Math.round((p.bytes_done * 1000) / GiB) / 10);
  expect(p.rate_bps).toBeGreaterThan(0);
  // Computed from the same progress report: (total - done) / rate, in whole seconds.
  expect(p.eta_seconds).toBe(Math.ceil((GiB - p.bytes_done) / p.rate_bps!));
  expect(p.eta_seconds).toBeGreaterThan(300);

  await setLimit(id, FAST);
  await waitFor(async () => seenLimits.get(tempPath(mid)) === FAST, "the copier to read the new limit", 5000);
  const done = await until(id, "success", (m) => m.state === "success" || m.state === "error", 120_000);
  expect(done).toMatchObject({
    state: "success",
    error: null,
    bps_limit: FAST,
    progress: { bytes_done: GiB, bytes_total: GiB, percent: 100, eta_seconds: 0 },
  });
  expect(done.progress.rate_bps).toBeGreaterThan(0);
  expect(done.checksums.source).toBe(done.checksums.dest);
  expect((await volumeOf(v.id)).migration_status).toBe("success");
});

test("a cancel mid-copy rolls back: source unchanged, temp volume gone, row error", async () => {
  const v = await createVolume();
  const srcFile = fileOf("file-1", v);
  const before = sha256(srcFile);
  const id = await migrate(v, true);
  expect((await volumeOf(v.id)).status).toBe("maintenance");
  const mid = await copying(id);
  expect(fs.existsSync(tempPath(mid))).toBe(true);

  await admin("post", `/v3/demo/migrations/${id}/action`).send({ cancel: {} }).expect(202);
  const ended = await until(id, "cancelled", (m) => m.state !== "migrating", 10_000);
  expect(ended.state).toBe("error");
  expect(ended.cancel_requested_at).not.toBeNull();
  expect(ended.error).toBe(`Volume migration cancelled: by an administrator at ${ended.cancel_requested_at}`);
  // Noticed within about two seconds (one poll, the copy's abort, the rollback).
  expect(Date.parse(ended.finished_at!) - Date.parse(ended.cancel_requested_at!)).toBeLessThan(5000);

  const volume = await volumeOf(v.id);
  expect(volume).toMatchObject({
    status: "available",
    migration_status: "error",
    host: v.host,
    name_id: null,
  });
  expect(sha256(srcFile)).toBe(before);
  await waitFor(async () => {
    const temp = await t.db("volumes").where({ id: mid.temp_volume_id }).first();
    return temp?.deleted === true;
  }, "temp volume row removed");
  expect(fs.existsSync(tempPath(mid))).toBe(false);
  const again = await admin("post", `/v3/demo/migrations/${id}/action`).send({ cancel: {} }).expect(409);
  expect(again.body.conflictingRequest.message).toBe(`Migration ${id} is error and cannot be cancelled.`);
});

test("max_concurrent_migrations = 1: the second migration waits queued, then runs after the first", async () => {
  const [v1, v2] = [await createVolume(), await createVolume()];
  const first = await migrate(v1);
  await copying(first);
  const second = await migrate(v2);
  const queued = await until(second, "queued", (m) => m.state === "queued");
  expect(queued).toMatchObject({ queue_position: 1, started_at: null, temp_volume_id: null });
  // Cinder clients see a migration that has not begun moving.
  expect((await volumeOf(v2.id)).migration_status).toBe("starting");
  const active = (await admin("get", "/v3/demo/migrations?active=true").expect(200)).body.migrations as {
    id: string;
  }[];
  expect(active.map((m) => m.id)).toEqual([second, first]);
  const listed = (await admin("get", "/v3/demo/migrations?state=queued").expect(200)).body.migrations;
  expect(listed.map((m: { id: string }) => m.id)).toEqual([second]);
  // Still queued while the first copies.
  await new Promise((r) => setTimeout(r, 2000));
  expect((await show(second)).state).toBe("queued");

  await setLimit(first, FAST);
  await until(first, "first done", (m) => m.state === "success", 120_000);
  const running = await until(second, "second started", (m) => m.state === "migrating", 10_000);
  expect(running.queue_position).toBeNull();
  await setLimit(second, FAST);
  const done = await until(
    second,
    "second done",
    (m) => m.state === "success" || m.state === "error",
    120_000,
  );
  expect(done.state).toBe("success");
  expect((await volumeOf(v2.id)).host).toBe("test@file-2#file-2");
});

test("a cancel while queued ends the migration without starting it", async () => {
  const [v1, v2] = [await createVolume(), await createVolume()];
  const first = await migrate(v1);
  await copying(first);
  const second = await migrate(v2, true);
  await until(second, "queued", (m) => m.state === "queued");
  await admin("post", `/v3/demo/migrations/${second}/action`).send({ cancel: {} }).expect(202);
  const ended = await until(second, "cancelled", (m) => m.state === "error", 10_000);
  expect(ended).toMatchObject({ started_at: null, temp_volume_id: null, queue_position: null });
  expect(ended.error).toMatch(/^Volume migration cancelled: by an administrator at \d{4}-\d\d-\d\dT/);
  expect(await volumeOf(v2.id)).toMatchObject({ status: "available", migration_status: "error" });
  expect((await show(first)).state).toBe("migrating");
  await admin("post", `/v3/demo/migrations/${first}/action`).send({ cancel: {} }).expect(202);
  await until(first, "first cancelled", (m) => m.state === "error", 10_000);
});

test("a restarted worker starts the migrations it had queued", async () => {
  const [v1, v2] = [await createVolume(), await createVolume()];
  const first = await migrate(v1);
  await copying(first);
  const second = await migrate(v2);
  await until(second, "queued", (m) => m.state === "queued");
  await stack.stop();
  // Stopping aborts the running copy (rolled back); the queue is left as it is.
  expect((await show(first)).state).toBe("error");
  expect((await show(second)).state).toBe("queued");
  await startStack();
  await until(second, "second started after the restart", (m) => m.state === "migrating", 10_000);
  await setLimit(second, FAST);
  const done = await until(
    second,
    "second done",
    (m) => m.state === "success" || m.state === "error",
    120_000,
  );
  expect([done.state, done.error]).toEqual(["success", null]);
});
