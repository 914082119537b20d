import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import type { AppConfig } from "../../common/config";
import { getMigration, insertMigration, listMigrations } from "../../db/migrationRecords";
import { getVolume, insertVolume, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { DEFAULT_SEGMENT_BYTES, EXTENT_CHUNK_BYTES } from "../../services/copy/plan";
import { SchedulerRpc } from "../../services/rpc/stubs";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { type InProcessStack, startInProcessStack, twoBackendConfig, waitFor } from "../helpers/stack";
import { extentsSha256 } from "./copy.helpers";

const GiB = 1024 ** 3;
let t: TestDatabase;
let stack: InProcessStack;
let config: AppConfig;
let stateDir: string;

beforeAll(async () => {
  t = await createTestDatabase();
  ({ config, stateDir } = twoBackendConfig());
  stack = await startInProcessStack(t.db, config);
});
afterAll(async () => {
  await stack.stop();
  await t.drop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

function fileOf(backend: string, v: Pick<VolumeRow, "id" | "name_id">): string {
  return path.join(stateDir, backend, `volume-${v.name_id ?? v.id}`);
}

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

async function createVolume(): Promise<VolumeRow> {
  const v = await insertVolume(t.db, {
    size: 1,
    status: "creating",
    project_id: "demo",
    user_id: "admin",
    name: "v",
  });
  await new SchedulerRpc(stack.bus).createVolume({ volume_id: v.id });
  return waitFor(async () => {
    const row = await getVolume(t.db, v.id);
    return row?.status === "available" ? row : undefined;
  }, "volume available");
}

/** What the API does on os-migrate_volume: the CAS, the migration row, the cast. */
async function requestMigration(v: VolumeRow, dest: string, lock = false, force = false): Promise<string> {
  const m = await t.db.transaction(async (trx) => {
    const ok = await updateVolumeIf(
      trx,
      v.id,
      {
        migration_status: "starting",
        previous_status: v.status,
        ...(lock ? { status: "maintenance" as const } : {}),
      },
      { migration_status: [null, "error", "success", "deleting"] },
    );
    expect(ok).toBeDefined();
    return insertMigration(trx, {
      volume_id: v.id,
      source_host: v.host!,
      requested_dest: dest,
      force_host_copy: force,
      lock_volume: lock,
      user_id: "admin",
    });
  });
  await new SchedulerRpc(stack.bus).migrateVolume({
    volume_id: v.id,
    migration_id: m.id,
    backend: dest,
    force_host_copy: force,
  });
  return m.id;
}

test("the scheduler places a new volume and the worker creates an exact-size sparse file", async () => {
  const v = await createVolume();
  expect(v.host).toMatch(/^test@file-[12]#file-[12]$/);
  const file = fileOf(v.host!.split("@")[1]!.split("#")[0]!, v);
  expect(fs.statSync(file).size).toBe(GiB);
  expect(fs.statSync(file).blocks).toBe(0);
});

test("without force_host_copy the raw-file driver moves the volume natively on the same host", async () => {
  const v = await createVolume();
  const srcBackend = v.host!.split("@")[1]!.split("#")[0]!;
  const dstBackend = srcBackend === "file-1" ? "file-2" : "file-1";
  const srcFile = fileOf(srcBackend, v);
  fs.writeFileSync(srcFile, randomBytes(4096), { flag: "r+" });
  const before = sha256(srcFile);
  const migrationId = await requestMigration(v, `test@${dstBackend}`);
  const done = await waitFor(async () => {
    const row = await getVolume(t.db, v.id);
    return row?.migration_status === "success" || row?.migration_status === "error" ? row : undefined;
  }, "native migration");
  expect(done).toMatchObject({
    migration_status: "success",
    host: `test@${dstBackend}#${dstBackend}`,
    name_id: null,
  });
  // Same backend name, new directory; the old path is gone.
  expect(sha256(fileOf(dstBackend, done))).toBe(before);
  expect(fs.existsSync(srcFile)).toBe(false);
  expect(await getMigration(t.db, migrationId)).toMatchObject({
    state: "success",
    flow: "driver",
    temp_volume_id: null,
  });
});

test("generic migration moves the bytes, swaps the rows and deletes the old data", async () => {
  const v = await createVolume();
  const srcBackend = v.host!.split("@")[1]!.split("#")[0]!;
  const dstBackend = srcBackend === "file-1" ? "file-2" : "file-1";
  const srcFile = fileOf(srcBackend, v);
  const fd = fs.openSync(srcFile, "r+");
  fs.writeSync(fd, randomBytes(3 * 1024 * 1024), 0, 3 * 1024 * 1024, 512 * 1024 * 1024);
  fs.closeSync(fd);
  const before = sha256(srcFile);

  const migrationId = await requestMigration(v, `test@${dstBackend}#${dstBackend}`, true, true);
  const done = await waitFor(async () => {
    const row = await getVolume(t.db, v.id);
    return row?.migration_status === "success" || row?.migration_status === "error" ? row : undefined;
  }, "migration to finish");

  expect(done.migration_status).toBe("success");
  expect(done.host).toBe(`test@${dstBackend}#${dstBackend}`);
  expect(done.status).toBe("available");
  expect(done.name_id).not.toBeNull();
  expect(done.name_id).not.toBe(v.id);
  expect(sha256(fileOf(dstBackend, done))).toBe(before);
  await waitFor(async () => !fs.existsSync(srcFile), "old data deleted");

  const m = await getMigration(t.db, migrationId);
  expect(m).toMatchObject({
    state: "success",
    flow: "generic",
    bytes_done: GiB,
    bytes_total: GiB,
    dest_host: done.host,
  });
  // The engine's checksum covers the whole volume as sha256 over its per-segment digests; raw-file
  // volumes are sparse files, so a segment's digest is that of its extents records.
  const whole = extentsSha256(fileOf(dstBackend, done), GiB, DEFAULT_SEGMENT_BYTES, EXTENT_CHUNK_BYTES);
  expect(m?.source_checksum).toBe(whole);
  expect(m?.dest_checksum).toBe(whole);
  // The worker removes the data, then marks the row deleted: wait for the row too.
  const retired = await waitFor(async () => {
    const row = (await t.db("volumes").where({ id: done.name_id }).first()) as
      { deleted: boolean } | undefined;
    return row?.deleted ? row : undefined;
  }, "retired row deleted");
  expect(retired).toMatchObject({
    deleted: true,
    description: `migration src for ${v.id}`,
    migration_target_of: null,
  });
});

test("a destination the scheduler cannot use ends in error and unlocks the volume", async () => {
  const v = await createVolume();
  const migrationId = await requestMigration(v, "test@file-9#file-9", true);
  const done = await waitFor(async () => {
    const row = await getVolume(t.db, v.id);
    return row?.migration_status === "error" ? row : undefined;
  }, "scheduler refusal");
  expect(done.status).toBe("available");
  expect(done.host).toBe(v.host);
  expect((await getMigration(t.db, migrationId))?.error).toBe(
    `No valid backend was found. Cannot place volume ${v.id} on test@file-9#file-9`,
  );
});

test("a failure on the destination leaves the source untouched and removes the temp volume", async () => {
  const v = await createVolume();
  const srcBackend = v.host!.split("@")[1]!.split("#")[0]!;
  const dstBackend = srcBackend === "file-1" ? "file-2" : "file-1";
  const srcFile = fileOf(srcBackend, v);
  fs.writeFileSync(srcFile, randomBytes(1024), { flag: "r+" });
  const before = sha256(srcFile);
  // A real fault: the destination's directory disappears, so creating the temp volume fails there.
  const dstDir = path.join(stateDir, dstBackend);
  fs.renameSync(dstDir, `${dstDir}.away`);
  try {
    const migrationId = await requestMigration(v, `test@${dstBackend}`, false, true);
    const done = await waitFor(async () => {
      const row = await getVolume(t.db, v.id);
      return row?.migration_status === "error" ? row : undefined;
    }, "migration error");
    expect(done).toMatchObject({ status: "available", host: v.host, name_id: null });
    expect(sha256(srcFile)).toBe(before);
    const m = await getMigration(t.db, migrationId);
    expect(m?.state).toBe("error");
    expect(m?.error).toMatch(/truncate|No such file/);
    await waitFor(async () => {
      const temp = await t.db("volumes").where({ id: m!.temp_volume_id }).first();
      return temp?.deleted === true;
    }, "temp volume removed");
  } finally {
    fs.renameSync(`${dstDir}.away`, dstDir);
  }
  expect((await listMigrations(t.db, { volumeId: v.id })).length).toBe(1);
});
