import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import request from "supertest";

import { createApp } from "../../api/app";
import type { AppConfig } from "../../common/config";
import { silentLogger } from "../../common/logger";
import { getSnapshot } from "../../db/snapshots";
import { getVolume, type VolumeRow } from "../../db/volumes";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { type InProcessStack, startInProcessStack, twoBackendConfig, waitFor } from "../helpers/stack";

const GiB = 1024 ** 3;
let t: TestDatabase;
let stack: InProcessStack;
let config: AppConfig;
let stateDir: string;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  t = await createTestDatabase();
  ({ config, stateDir } = twoBackendConfig());
  stack = await startInProcessStack(t.db, config);
  app = createApp({ db: t.db, bus: stack.bus, config, logger: silentLogger() });
});
afterAll(async () => {
  await stack.stop();
  await t.drop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const post = (url: string, body: object) =>
  request(app).post(`/v3/demo${url}`).set("X-Auth-Token", "admin:demo").send(body);

function fileOf(v: VolumeRow): string {
  return path.join(stateDir, v.host!.split("@")[1]!.split("#")[0]!, `volume-${v.name_id ?? v.id}`);
}

function sha256(buf: Buffer): string {
  return createHash("sha256").update(buf).digest("hex");
}

async function available(id: string): Promise<VolumeRow> {
  return waitFor(async () => {
    const v = await getVolume(t.db, id);
    return v?.status === "available" ? v : undefined;
  }, "volume available");
}

test("a volume created from a snapshot lands on the snapshot's backend with its data", async () => {
  const created = await post("/volumes", { volume: { size: 1 } });
  expect(created.status).toBe(202);
  const origin = await available(created.body.volume.id);
  const data = randomBytes(1 << 20);
  fs.writeFileSync(fileOf(origin), data, { flag: "r+" });

  const snap = await post("/snapshots", { snapshot: { volume_id: origin.id, name: "s1" } });
  expect(snap.status).toBe(202);
  await waitFor(
    async () => (await getSnapshot(t.db, snap.body.snapshot.id))?.status === "available",
    "snapshot",
  );

  const fromSnap = await post("/volumes", { volume: { size: 2, snapshot_id: snap.body.snapshot.id } });
  expect(fromSnap.status).toBe(202);
  const v = await available(fromSnap.body.volume.id);
  expect(v).toMatchObject({ host: origin.host, snapshot_id: snap.body.snapshot.id, size: 2 });
  expect(fs.statSync(fileOf(v)).size).toBe(2 * GiB);
  const head = Buffer.alloc(data.length);
  const fd = fs.openSync(fileOf(v), "r");
  fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  expect(sha256(head)).toBe(sha256(data));

  const tooSmall = await post("/volumes", { volume: { size: 0, snapshot_id: snap.body.snapshot.id } });
  expect(tooSmall.status).toBe(400);
});

test("refusals: unknown snapshot, snapshot not available, smaller than the snapshot", async () => {
  const missing = await post("/volumes", {
    volume: { size: 1, snapshot_id: "9b0b1c1e-0000-4000-8000-000000000000" },
  });
  expect(missing.status).toBe(404);
  expect(missing.body.itemNotFound.message).toBe(
    "Snapshot 9b0b1c1e-0000-4000-8000-000000000000 could not be found.",
  );

  const created = await post("/volumes", { volume: { size: 2 } });
  const origin = await available(created.body.volume.id);
  const snap = await post("/snapshots", { snapshot: { volume_id: origin.id } });
  const id = snap.body.snapshot.id as string;
  await waitFor(async () => (await getSnapshot(t.db, id))?.status === "available", "snapshot");

  const smaller = await post("/volumes", { volume: { size: 1, snapshot_id: id } });
  expect(smaller.status).toBe(400);
  expect(smaller.body.badRequest.message).toBe(
    "Invalid input received: Volume size '1'GB cannot be smaller than the snapshot size 2GB. They must be >= original snapshot size.",
  );
  await t.db("snapshots").where({ id }).update({ status: "error" });
  const notAvailable = await post("/volumes", { volume: { size: 2, snapshot_id: id } });
  expect(notAvailable.status).toBe(400);
  expect(notAvailable.body.badRequest.message).toBe(
    "Invalid snapshot: Originating snapshot status must be one of 'available' values",
  );
  const before = await t.db("volumes").count({ n: "*" }).first();
  expect(Number(before?.n)).toBe(3);
});

test("a volume made from a since-deleted snapshot still migrates (its temp volume needs no snapshot)", async () => {
  const origin = await available((await post("/volumes", { volume: { size: 1 } })).body.volume.id);
  const snap = await post("/snapshots", { snapshot: { volume_id: origin.id, name: "gone-later" } });
  await waitFor(
    async () => (await getSnapshot(t.db, snap.body.snapshot.id))?.status === "available",
    "snapshot",
  );
  const v = await available(
    (await post("/volumes", { volume: { size: 1, snapshot_id: snap.body.snapshot.id } })).body.volume.id,
  );
  const data = randomBytes(1 << 20);
  fs.writeFileSync(fileOf(v), data, { flag: "r+" });
  expect(
    (
      await request(app)
        .delete(`/v3/demo/snapshots/${snap.body.snapshot.id}`)
        .set("X-Auth-Token", "admin:demo")
    ).status,
  ).toBe(202);
  await waitFor(
    async () => ((await getSnapshot(t.db, snap.body.snapshot.id)) ? undefined : true),
    "snapshot deleted",
  );

  const dest = v.host!.includes("file-1") ? "test@file-2#file-2" : "test@file-1#file-1";
  expect(
    (await post(`/volumes/${v.id}/action`, { "os-migrate_volume": { host: dest, force_host_copy: true } }))
      .status,
  ).toBe(202);
  const moved = await waitFor(async () => {
    const row = await getVolume(t.db, v.id);
    return row?.migration_status === "success" || row?.migration_status === "error" ? row : undefined;
  }, "migration settled");
  expect(moved).toMatchObject({
    migration_status: "success",
    host: dest,
    snapshot_id: snap.body.snapshot.id,
  });
  const head = Buffer.alloc(data.length);
  const fd = fs.openSync(fileOf(moved), "r");
  fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  expect(sha256(head)).toBe(sha256(data));
});
