/** User messages: written when a volume cannot be placed or a migration/retype fails; /messages. */
import { silentLogger } from "../../common/logger";
import { reapExpiredMessages } from "../../db/messages";
import { recordMigrationFailure } from "../../db/migrationOutcome";
import { insertMigration } from "../../db/migrationRecords";
import { SchedulerManager } from "../../services/scheduler/manager";
import { addVolume, addVolumeService, api, type Harness, MEMBER, OTHER, startHarness } from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness("message_ttl = 3600\n");
  await addVolumeService(h, "node@lvm");
});
afterAll(async () => h.close());

const V = "3.3";

async function messagesOf(volumeId: string, token = "admin:demo"): Promise<Record<string, unknown>[]> {
  const res = await api(h, "get", "/v3/demo/messages", { token, version: V });
  expect(res.status).toBe(200);
  return (res.body.messages as Record<string, unknown>[]).filter((m) => m["resource_uuid"] === volumeId);
}

async function failMigration(volumeId: string, kind: "migrate" | "retype", error: string): Promise<void> {
  const m = await insertMigration(h.t.db, {
    volume_id: volumeId,
    source_host: "node@lvm#lvm",
    requested_dest: "node@lvm2",
    force_host_copy: false,
    lock_volume: false,
    user_id: "alice",
    kind,
  });
  await h.t.db("volumes").where({ id: volumeId }).update({ migration_status: "starting" });
  await recordMigrationFailure(h.t.db, {
    volumeId,
    migrationId: m.id,
    from: "starting",
    fromState: "starting",
    error,
  });
}

test("a volume no backend can take leaves Cinder's 'schedule allocate volume' message", async () => {
  const t = (
    await api(h, "post", "/v3/demo/types").send({
      volume_type: { name: "nowhere", extra_specs: { storage_protocol: "carrier-pigeon" } },
    })
  ).body.volume_type;
  const v = await addVolume(h, { status: "creating", host: null, volume_type_id: t.id });
  await new SchedulerManager({
    db: h.t.db,
    bus: h.bus,
    config: h.config,
    logger: silentLogger(),
  }).createVolume({
    volume_id: v.id,
  });
  const [m] = await messagesOf(v.id, MEMBER);
  expect(m).toEqual({
    id: expect.any(String),
    event_id: "VOLUME_VOLUME_001_003",
    user_message: "schedule allocate volume:Could not find any available weighted backend.",
    message_level: "ERROR",
    created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
    guaranteed_until: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
    request_id: expect.stringMatching(/^req-/),
    links: expect.any(Array),
    resource_type: "VOLUME",
    resource_uuid: v.id,
  });
  const ttl =
    Date.parse(`${m!["guaranteed_until"] as string}Z`) - Date.parse(`${m!["created_at"] as string}Z`);
  expect(ttl).toBe(3600_000);
});

test("a failed migration, retype or cancel tells the owner what failed, never the internal reason", async () => {
  const v = await addVolume(h);
  await failMigration(v.id, "migrate", "Volume migration failed: dd exited 1 on /dev/secret-host");
  await failMigration(v.id, "retype", "No valid backend was found. Cannot place volume on any backend");
  await failMigration(
    v.id,
    "migrate",
    "Volume migration cancelled: by an administrator at 2026-01-01T00:00:00Z",
  );
  const texts = (await messagesOf(v.id, MEMBER)).map((m) => [m["event_id"], m["user_message"]]);
  expect(texts).toEqual(
    expect.arrayContaining([
      ["VOLUME_VOLUME_101_102", "migrate volume:The volume could not be moved; it stays where it was."],
      ["VOLUME_VOLUME_102_003", "retype volume:Could not find any available weighted backend."],
      ["VOLUME_VOLUME_101_101", "migrate volume:The migration was cancelled by an administrator."],
    ]),
  );
  expect(texts).toHaveLength(3);
});

test("show, delete (204), visibility by project, and the microversion", async () => {
  const v = await addVolume(h);
  await failMigration(v.id, "migrate", "boom");
  const [m] = await messagesOf(v.id);
  const id = m!["id"] as string;
  const shown = await api(h, "get", `/v3/demo/messages/${id}`, { token: MEMBER, version: V });
  expect(shown.status).toBe(200);
  expect(shown.body.message.id).toBe(id);
  const old = await api(h, "get", "/v3/demo/messages", { version: "3.2" });
  expect(old.status).toBe(404);
  expect(old.body.itemNotFound.message).toBe("API version 3.2 is not supported on this method.");
  const other = await api(h, "get", `/v3/other/messages/${id}`, { token: OTHER, version: V });
  expect(other.status).toBe(404);
  expect(other.body.itemNotFound.message).toBe(`Message ${id} could not be found.`);
  expect((await api(h, "get", "/v3/other/messages", { token: OTHER, version: V })).body.messages).toEqual([]);
  const del = await api(h, "delete", `/v3/demo/messages/${id}`, { token: MEMBER, version: V });
  expect(del.status).toBe(204);
  expect((await api(h, "get", `/v3/demo/messages/${id}`, { version: V })).status).toBe(404);
});

test("3.5 filters, limit and marker", async () => {
  const v = await addVolume(h);
  for (const e of ["a", "b", "c"]) {
    await failMigration(v.id, "migrate", e);
  }
  const all = await api(h, "get", `/v3/demo/messages?resource_uuid=${v.id}`, { version: "3.5" });
  expect(all.body.messages).toHaveLength(3);
  const first = await api(h, "get", `/v3/demo/messages?resource_uuid=${v.id}&limit=2`, { version: "3.5" });
  expect(first.body.messages).toHaveLength(2);
  const rest = await api(
    h,
    "get",
    `/v3/demo/messages?resource_uuid=${v.id}&limit=2&marker=${first.body.messages[1].id}`,
    { version: "3.5" },
  );
  expect(rest.body.messages.map((m: { id: string }) => m.id)).toEqual([all.body.messages[2].id]);
  const badMarker = await api(h, "get", "/v3/demo/messages?marker=nope", { version: "3.5" });
  expect(badMarker.status).toBe(400);
  expect(badMarker.body.badRequest.message).toBe("Marker nope could not be found.");
});

test("messages expire after message_ttl: hidden at once, deleted by the reaper", async () => {
  const v = await addVolume(h);
  await failMigration(v.id, "migrate", "old");
  await h.t
    .db("messages")
    .where({ resource_uuid: v.id })
    .update({ created_at: h.t.db.raw("now() - interval '2 hours'") });
  expect(await messagesOf(v.id)).toEqual([]);
  expect(await reapExpiredMessages(h.t.db, 3600)).toBeGreaterThanOrEqual(1);
  expect(await h.t.db("messages").where({ resource_uuid: v.id })).toEqual([]);
});
