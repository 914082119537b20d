/** POST /volumes with source_volid: Cinder's clone, on the source's backend, with its data. */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import request from "supertest";

import { createApp } from "../../api/app";
import type { AppConfig } from "../../common/config";
import { silentLogger } from "../../common/logger";
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
  // More volumes than the default quota of 10.
  const quota = await request(app)
    .put("/v3/demo/os-quota-sets/demo")
    .set("X-Auth-Token", "admin:demo")
    .send({ quota_set: { volumes: -1 } });
  expect(quota.status).toBe(200);
});
afterAll(async () => {
  await stack.stop();
  await t.drop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const post = (url: string, body: object, token = "admin:demo") =>
  request(app).post(`/v3/demo${url}`).set("X-Auth-Token", token).send(body);

function backendDir(v: VolumeRow): string {
  return path.join(stateDir, v.host!.split("@")[1]!.split("#")[0]!);
}

function fileOf(v: VolumeRow): string {
  return path.join(backendDir(v), `volume-${v.name_id ?? v.id}`);
}

function sha256(buf: Buffer): string {
  return createHash("sha256").update(buf).digest("hex");
}

function head(file: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  const fd = fs.openSync(file, "r");
  fs.readSync(fd, out, 0, n, 0);
  fs.closeSync(fd);
  return out;
}

async function available(id: string): Promise<VolumeRow> {
  return waitFor(async () => {
    const v = await getVolume(t.db, id);
    return v?.status === "available" ? v : undefined;
  }, "volume available");
}

test("clones land on the source's backend with its data, sparse, and the temp snapshot gone", async () => {
  // Sources on both backends: each clone must follow its own source.
  for (const backend of ["file-1", "file-2"]) {
    const typed = await request(app)
      .post("/v3/demo/types")
      .set("X-Auth-Token", "admin:demo")
      .send({ volume_type: { name: `on-${backend}`, extra_specs: { volume_backend_name: backend } } });
    expect(typed.status).toBe(200);
    const created = await post("/volumes", { volume: { size: 1, volume_type: `on-${backend}` } });
    expect(created.status).toBe(202);
    const origin = await available(created.body.volume.id);
    const data = randomBytes(1 << 20);
    fs.writeFileSync(fileOf(origin), data, { flag: "r+" });
    await t.db("volumes").where({ id: origin.id }).update({ bootable: true });

    const clone = await post("/volumes", { volume: { size: 2, source_volid: origin.id, name: "c" } });
    expect(clone.status).toBe(202);
    expect(clone.body.volume.source_volid).toBe(origin.id);
    const v = await available(clone.body.volume.id);
    expect(v).toMatchObject({
      host: origin.host,
      source_volid: origin.id,
      size: 2,
      bootable: true,
      volume_type_id: origin.volume_type_id,
    });
    expect(fs.statSync(fileOf(v)).size).toBe(2 * GiB);
    expect(sha256(head(fileOf(v), data.length))).toBe(sha256(data));
    // Sparse: 1 MiB written of 2 GiB.
    expect(fs.statSync(fileOf(v)).blocks * 512).toBeLessThan(64 << 20);
    expect(fs.readdirSync(backendDir(v)).filter((f) => f.startsWith("clone-snap-"))).toEqual([]);
    // The source is untouched and still usable.
    expect((await getVolume(t.db, origin.id))?.status).toBe("available");
  }
});

test("with the default type (no backend pinned) the scheduler still puts each clone beside its source", async () => {
  const plain = await post("/volumes", { volume: { size: 1 } });
  const defaultType = (await available(plain.body.volume.id)).volume_type_id;
  // Sources on both backends, then given the default type: only the source can steer the clone.
  const sources: VolumeRow[] = [];
  for (const backend of ["file-1", "file-2", "file-1", "file-2"]) {
    const created = await post("/volumes", { volume: { size: 1, volume_type: `on-${backend}` } });
    const v = await available(created.body.volume.id);
    await t.db("volumes").where({ id: v.id }).update({ volume_type_id: defaultType });
    sources.push(v);
  }
  expect(new Set(sources.map((v) => v.host)).size).toBe(2);
  for (const origin of sources) {
    const clone = await post("/volumes", { volume: { source_volid: origin.id } });
    expect(clone.status).toBe(202);
    expect((await available(clone.body.volume.id)).host).toBe(origin.host);
  }
});

test("refusals: unknown source, another project's, bad status, smaller than the source", async () => {
  const missing = await post("/volumes", {
    volume: { size: 1, source_volid: "9b0b1c1e-0000-4000-8000-000000000000" },
  });
  expect(missing.status).toBe(404);
  expect(missing.body.itemNotFound.message).toBe(
    "Volume 9b0b1c1e-0000-4000-8000-000000000000 could not be found.",
  );
  const created = await post("/volumes", { volume: { size: 2 } });
  const origin = await available(created.body.volume.id);

  const other = await request(app)
    .post("/v3/other/volumes")
    .set("X-Auth-Token", "bob:other")
    .send({ volume: { size: 2, source_volid: origin.id } });
  expect(other.status).toBe(404);

  const smaller = await post("/volumes", { volume: { size: 1, source_volid: origin.id } });
  expect(smaller.status).toBe(400);
  expect(smaller.body.badRequest.message).toBe(
    "Invalid input received: Volume size '1'GB cannot be smaller than original volume size  2GB. They must be >= original volume size.",
  );

  await t.db("volumes").where({ id: origin.id }).update({ status: "error" });
  const broken = await post("/volumes", { volume: { source_volid: origin.id } });
  expect(broken.status).toBe(400);
  expect(broken.body.badRequest.message).toMatch(/^Invalid volume: .*'available', 'in-use'/);

  // Without a size the clone takes the source's.
  await t.db("volumes").where({ id: origin.id }).update({ status: "in-use" });
  const same = await post("/volumes", { volume: { source_volid: origin.id } });
  expect(same.status).toBe(202);
  expect(same.body.volume.size).toBe(2);
  await available(same.body.volume.id);
});
