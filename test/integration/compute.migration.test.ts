import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import type { Server } from "node:http";
import path from "node:path";

import { createApp } from "../../api/app";
import type { AppConfig } from "../../common/config";
import { silentLogger } from "../../common/logger";
import { getMigration, listMigrations } from "../../db/migrationRecords";
import { getVolume, type VolumeRow } from "../../db/volumes";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { NovaStandIn } from "../helpers/novaStandIn";
import { freePort } from "../helpers/processes";
import { type InProcessStack, startInProcessStack, twoBackendConfig, waitFor } from "../helpers/stack";

/**
 * An attached (in-use) volume moves through Nova's swap volume: the service calls the Nova
 * stand-in, which copies the data, then calls os-migrate_volume_completion back over HTTP.
 */
const SERVER = "6f1c4f4e-3d0a-4c5b-9a8e-2b7d9c1e0f11";
let t: TestDatabase;
let stack: InProcessStack;
let config: AppConfig;
let stateDir: string;
let api: string;
let http: Server;
let nova: NovaStandIn;

function fileOf(v: Pick<VolumeRow, "id" | "name_id" | "host">): string {
  return path.join(stateDir, v.host!.split("@")[1]!.split("#")[0]!, `volume-${v.name_id ?? v.id}`);
}

/**
 * Streamed, not readFileSync: hashing the 1 GiB sparse file synchronously blocked the event loop
 * past the API's 5 s keep-alive timeout, and the next fetch reused the socket the server had
 * closed meanwhile (ECONNRESET).
 */
async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

/** Response bodies are checked field by field, so they are typed loosely. */
type Json = { volume: { id: string; attachments: { server_id: string }[] } };

async function call(
  method: string,
  url: string,
  body?: unknown,
  token = "admin:demo",
): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${api}${url}`, {
    method,
    headers: { "X-Auth-Token": token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  t = await createTestDatabase();
  const port = await freePort();
  api = `http://127.0.0.1:${port}/v3/demo`;
  nova = new NovaStandIn({
    cinder: api,
    cinderToken: "nova:demo",
    serviceToken: "nova-service-token",
    // libvirt's blockCopy, for raw files: the old volume's bytes into the new one.
    copy: async (oldId, newId) => {
      const [o, n] = await Promise.all([getVolume(t.db, oldId), getVolume(t.db, newId)]);
      fs.copyFileSync(fileOf(o!), fileOf(n!));
    },
  });
  const novaUrl = await nova.listen();
  ({ config, stateDir } = twoBackendConfig(
    `noauth_admin_users = admin, nova\n[nova]\nendpoint_override = ${novaUrl}\ntoken = nova-service-token\n`,
  ));
  stack = await startInProcessStack(t.db, config);
  const app = createApp({ db: t.db, bus: stack.bus, config, logger: silentLogger() });
  http = await new Promise<Server>((r) => {
    const s = app.listen(port, "127.0.0.1", () => r(s));
  });
  // As main/index.ts does: with Node's default 5 s a loaded machine let the stand-in's callback
  // reuse a connection the server was closing (ECONNRESET).
  http.keepAliveTimeout = 900_000;
  http.headersTimeout = 901_000;
});

afterAll(async () => {
  await nova.settled();
  await new Promise<void>((r) => http.close(() => r()));
  await stack.stop();
  await nova.close();
  await t.drop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

async function attachedVolume(): Promise<VolumeRow> {
  const created = await call("POST", "/volumes", { volume: { size: 1, name: "attached" } });
  expect(created.status).toBe(202);
  const id = created.json.volume.id as string;
  const v = await waitFor(async () => {
    const row = await getVolume(t.db, id);
    return row?.status === "available" ? row : undefined;
  }, "volume available");
  fs.writeFileSync(fileOf(v), randomBytes(64 * 1024), { flag: "r+" });
  expect((await call("POST", `/volumes/${id}/action`, { "os-reserve": {} })).status).toBe(202);
  const attach = await call("POST", `/volumes/${id}/action`, {
    "os-attach": { instance_uuid: SERVER, mountpoint: "/dev/vdb", mode: "rw" },
  });
  expect(attach.status).toBe(202);
  const server = nova.servers.get(SERVER) ?? { id: SERVER, volumes: [], state: "ACTIVE" as const };
  server.volumes.push(id);
  nova.servers.set(SERVER, server);
  return (await getVolume(t.db, id))!;
}

function otherPool(v: VolumeRow): string {
  return v.host!.includes("file-1") ? "test@file-2#file-2" : "test@file-1#file-1";
}

async function settled(id: string): Promise<VolumeRow> {
  return waitFor(async () => {
    const v = await getVolume(t.db, id);
    return v?.migration_status === "success" || v?.migration_status === "error" ? v : undefined;
  }, "migration settled");
}

test("an in-use volume migrates through Nova's swap and keeps its id for the server", async () => {
  const v = await attachedVolume();
  expect(v).toMatchObject({ status: "in-use", attach_status: "attached" });
  const before = await sha256(fileOf(v));
  const dest = otherPool(v);
  expect(
    (await call("POST", `/volumes/${v.id}/action`, { "os-migrate_volume": { host: dest } })).status,
  ).toBe(202);
  const done = await settled(v.id);
  expect(done).toMatchObject({
    migration_status: "success",
    status: "in-use",
    host: dest,
    attach_status: "attached",
  });
  expect(done.name_id).not.toBeNull();
  expect(await sha256(fileOf(done))).toBe(before);
  // Nova was called for exactly this volume and kept the original id (save_volume_id).
  expect(nova.swaps.at(-1)).toMatchObject({
    server: SERVER,
    old: v.id,
    new: done.name_id,
    status: 200,
    saved: v.id,
  });
  expect(nova.servers.get(SERVER)!.volumes).toContain(v.id);
  const shown = await call("GET", `/volumes/${v.id}`);
  expect(shown.json.volume.attachments.map((a) => a.server_id)).toEqual([SERVER]);
  const [m] = await listMigrations(t.db, { volumeId: v.id });
  expect(m).toMatchObject({ flow: "compute", state: "success" });
  await waitFor(async () => !fs.existsSync(fileOf(v)), "old data deleted");
});

test("a Nova failure comes back as error=true and rolls back with the source intact", async () => {
  const v = await attachedVolume();
  const before = await sha256(fileOf(v));
  nova.failNextCopy = true;
  expect(
    (await call("POST", `/volumes/${v.id}/action`, { "os-migrate_volume": { host: otherPool(v) } })).status,
  ).toBe(202);
  const done = await settled(v.id);
  expect(done).toMatchObject({ migration_status: "error", status: "in-use", host: v.host, name_id: null });
  expect(await sha256(fileOf(v))).toBe(before);
  const [m] = await listMigrations(t.db, { volumeId: v.id });
  expect((await getMigration(t.db, m!.id))?.error).toBe(
    "Volume migration failed: Nova reported that the swap failed",
  );
  await waitFor(
    async () => (await t.db("volumes").where({ id: m!.temp_volume_id }).first())?.deleted === true,
    "temp removed",
  );
  expect(nova.servers.get(SERVER)!.volumes).toContain(v.id);
});

test("the stand-in enforces Nova's rule: swap only for a volume Cinder is migrating", async () => {
  const v = await attachedVolume();
  const res = await fetch(`${config.nova!.endpoint}/servers/${SERVER}/os-volume_attachments/${v.id}`, {
    method: "PUT",
    headers: { "X-Service-Token": "nova-service-token", "Content-Type": "application/json" },
    body: JSON.stringify({ volumeAttachment: { volumeId: v.id } }),
  });
  expect(res.status).toBe(409);
  expect(await res.json()).toEqual({
    conflictingRequest: {
      code: 409,
      message: `volume ${v.id} is not migrating; this API should only be called by Cinder`,
    },
  });
});
