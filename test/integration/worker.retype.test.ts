import fs from "node:fs";

import type { AppConfig } from "../../common/config";
import { listMigrations } from "../../db/migrationRecords";
import { getVolume, insertVolume, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { insertVolumeType, type VolumeType } from "../../db/volumeTypes";
import { SchedulerRpc } from "../../services/rpc/stubs";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { type InProcessStack, startInProcessStack, twoBackendConfig, waitFor } from "../helpers/stack";

let t: TestDatabase;
let stack: InProcessStack;
let config: AppConfig;
let stateDir: string;
const types: Record<string, VolumeType> = {};

beforeAll(async () => {
  t = await createTestDatabase();
  ({ config, stateDir } = twoBackendConfig());
  stack = await startInProcessStack(t.db, config);
  for (const [name, specs] of [
    ["on-1", { volume_backend_name: "file-1" }],
    ["on-2", { volume_backend_name: "file-2" }],
    ["anywhere", {}],
  ] as const) {
    types[name] = await insertVolumeType(t.db, {
      name,
      description: null,
      is_public: true,
      extra_specs: specs,
    });
  }
});
afterAll(async () => {
  await stack.stop();
  await t.drop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

async function createVolume(type: string): Promise<VolumeRow> {
  const v = await insertVolume(t.db, {
    size: 1,
    status: "creating",
    project_id: "demo",
    user_id: "admin",
    volume_type_id: types[type]!.id,
  });
  await new SchedulerRpc(stack.bus).createVolume({ volume_id: v.id });
  return waitFor(async () => {
    const row = await getVolume(t.db, v.id);
    return row?.status === "available" ? row : undefined;
  }, "volume available");
}

/** What the API does on os-retype: CAS to `retyping`, then the cast. */
async function retype(v: VolumeRow, type: string, policy: "never" | "on-demand"): Promise<VolumeRow> {
  const row = await updateVolumeIf(
    t.db,
    v.id,
    { status: "retyping", previous_status: v.status },
    { status: "available" },
  );
  expect(row).toBeDefined();
  await new SchedulerRpc(stack.bus).retype({
    volume_id: v.id,
    new_type_id: types[type]!.id,
    migration_policy: policy,
    migration_id: null,
  });
  return waitFor(async () => {
    const r = await getVolume(t.db, v.id);
    return r &&
      r.status !== "retyping" &&
      !["starting", "migrating", "completing"].includes(r.migration_status ?? "")
      ? r
      : undefined;
  }, "retype settled");
}

test("the scheduler honours the type's volume_backend_name when placing", async () => {
  expect((await createVolume("on-1")).host).toBe("test@file-1#file-1");
  expect((await createVolume("on-2")).host).toBe("test@file-2#file-2");
});

test("retype whose current pool fits happens in place: type changes, nothing moves, migstat stays null", async () => {
  const v = await createVolume("on-1");
  const done = await retype(v, "anywhere", "never");
  expect(done).toMatchObject({
    status: "available",
    volume_type_id: types["anywhere"]!.id,
    host: v.host,
    migration_status: null,
  });
  expect(await listMigrations(t.db, { volumeId: v.id })).toEqual([]);
});

test("retype that needs a move with policy never is refused and the volume keeps its type", async () => {
  const v = await createVolume("on-1");
  const done = await retype(v, "on-2", "never");
  expect(done).toMatchObject({
    status: "available",
    volume_type_id: types["on-1"]!.id,
    host: v.host,
    migration_status: null,
  });
});

test("retype on-demand migrates and flips the type together with migration_status success", async () => {
  const v = await createVolume("on-1");
  const done = await retype(v, "on-2", "on-demand");
  expect(done).toMatchObject({
    status: "available",
    volume_type_id: types["on-2"]!.id,
    host: "test@file-2#file-2",
    migration_status: "success",
  });
  const [m] = await listMigrations(t.db, { volumeId: v.id });
  expect(m).toMatchObject({ kind: "retype", state: "success", new_volume_type_id: types["on-2"]!.id });
  // Same host, other directory, and only the backend name differs: the driver moved it natively.
  expect(m?.flow).toBe("driver");
});
