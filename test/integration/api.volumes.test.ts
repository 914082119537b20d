/** Volumes: create, show, list, detail, delete, and the view's field sets by microversion and role. */
import { randomUUID } from "node:crypto";

import { insertSnapshot } from "../../db/snapshots";
import {
  addVolume,
  addVolumeService,
  ADMIN,
  api,
  DEFAULT_TYPE_ID,
  type Harness,
  MEMBER,
  OTHER,
  startHarness,
  VOLUME_KEYS_3_0,
  volumeRow,
} from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await addVolumeService(h, "node@lvm", { zone: "zone-b" });
});
afterAll(async () => h.close());
beforeEach(() => {
  h.casts.length = 0;
});

const BASE_KEYS = VOLUME_KEYS_3_0;
const ADMIN_KEYS = [
  "migration_status",
  "os-vol-host-attr:host",
  "os-vol-mig-status-attr:migstat",
  "os-vol-mig-status-attr:name_id",
];
const V370_KEYS = ["group_id", "shared_targets", "service_uuid", "volume_type_id", "consumes_quota"];
const V370_ADMIN_KEYS = ["provider_id", "cluster_name"];
const sorted = (keys: string[]): string[] => [...keys].sort();
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/;

describe("create", () => {
  test("cinderclient's body → 202 creating, no os-vol-* keys, scheduler cast", async () => {
    const res = await api(h, "post", "/v3/demo/volumes", { token: MEMBER, version: "3.70" }).send({
      volume: {
        size: 1,
        consistencygroup_id: null,
        snapshot_id: null,
        name: "  made  ",
        description: null,
        volume_type: "__DEFAULT__",
        availability_zone: null,
        metadata: { k: "v" },
        imageRef: null,
        source_volid: null,
        backup_id: null,
      },
    });
    expect(res.status).toBe(202);
    const v = res.body.volume;
    expect(Object.keys(v).filter((k) => k.startsWith("os-vol-"))).toEqual([]);
    expect(v).toMatchObject({
      status: "creating",
      size: 1,
      name: "made",
      volume_type: "__DEFAULT__",
      volume_type_id: DEFAULT_TYPE_ID,
      metadata: { k: "v" },
      bootable: "false",
      user_id: "alice",
      availability_zone: "nova",
      attachments: [],
      consumes_quota: true,
    });
    expect(v.created_at).toMatch(TIME);
    expect(v).not.toHaveProperty("migration_status");
    await h.flush();
    expect(h.casts).toEqual([
      { topic: "cinder-scheduler", method: "create_volume", args: { volume_id: v.id } },
    ]);
    expect(await volumeRow(h, v.id)).toMatchObject({ project_id: "demo", host: null, status: "creating" });
  });

  test("admin's create response at 3.0 has migration_status but still no os-vol-* keys", async () => {
    const res = await api(h, "post", "/v3/volumes").send({
      volume: { size: 2, availability_zone: "zone-b" },
    });
    expect(res.status).toBe(202);
    expect(sorted(Object.keys(res.body.volume))).toEqual(sorted([...BASE_KEYS, "migration_status"]));
  });

  test.each([
    [
      { volume: { size: 0 } },
      400,
      "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1",
    ],
    [
      { volume: { size: "x" } },
      400,
      "Invalid input for field/attribute size. Value: x. 'x' does not match '^[0-9]+$'",
    ],
    [
      { volume: { name: "n" } },
      400,
      "Invalid input received: Volume size 'None' must be an integer and greater than 0",
    ],
    [{}, 400, "'volume' is a required property"],
    [{ volume: { size: 1, volume_type: "nope" } }, 404, "Volume type with name nope could not be found."],
    [{ volume: { size: 1, availability_zone: "mars" } }, 400, "Availability zone 'mars' is invalid."],
    [
      { volume: { size: 1, metadata: { k: 1 } } },
      400,
      "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'",
    ],
  ])("refuses %j", async (body, status, message) => {
    const res = await api(h, "post", "/v3/demo/volumes").send(body);
    expect(res.status).toBe(status);
    expect(Object.values(res.body as Record<string, { message: string }>)[0]!.message).toBe(message);
  });

  test("string size is accepted, as Cinder does", async () => {
    const res = await api(h, "post", "/v3/demo/volumes").send({ volume: { size: "3" } });
    expect(res.status).toBe(202);
    expect(res.body.volume.size).toBe(3);
  });
});

describe("views", () => {
  test.each([
    { who: "member", token: MEMBER, version: undefined, keys: BASE_KEYS },
    { who: "admin", token: ADMIN, version: undefined, keys: [...BASE_KEYS, ...ADMIN_KEYS] },
    { who: "member", token: MEMBER, version: "3.70", keys: [...BASE_KEYS, ...V370_KEYS] },
    {
      who: "admin",
      token: ADMIN,
      version: "3.70",
      keys: [...BASE_KEYS, ...ADMIN_KEYS, ...V370_KEYS, ...V370_ADMIN_KEYS],
    },
  ])("$who at $version: exact key set", async ({ token, version, keys }) => {
    const v = await addVolume(h);
    const res = await api(h, "get", `/v3/demo/volumes/${v.id}`, { token, version });
    expect(res.status).toBe(200);
    expect(sorted(Object.keys(res.body.volume))).toEqual(sorted([...keys, "os-vol-tenant-attr:tenant_id"]));
  });

  test("values: host, type name, timestamps, attachments", async () => {
    const v = await addVolume(h, { status: "in-use", attach_status: "attached", bootable: true });
    const attachmentId = randomUUID();
    await h.t.db("volume_attachments").insert({
      id: attachmentId,
      volume_id: v.id,
      instance_uuid: "4f0a5fd0-8c2b-4c3c-9d6f-2b2e1c1a0000",
      attached_host: "compute-1",
      mountpoint: "/dev/vdb",
      attach_status: "attached",
      attach_time: new Date("2026-11-21T20:04:39.350Z"),
    });
    const admin = (await api(h, "get", `/v3/demo/volumes/${v.id}`)).body.volume;
    expect(admin).toMatchObject({
      "os-vol-host-attr:host": "node@lvm#lvm",
      "os-vol-mig-status-attr:migstat": null,
      "os-vol-mig-status-attr:name_id": null,
      "os-vol-tenant-attr:tenant_id": "demo",
      volume_type: "__DEFAULT__",
      bootable: "true",
      status: "in-use",
    });
    expect(admin.attachments).toEqual([
      {
        id: v.id,
        attachment_id: attachmentId,
        volume_id: v.id,
        server_id: "4f0a5fd0-8c2b-4c3c-9d6f-2b2e1c1a0000",
        host_name: "compute-1",
        device: "/dev/vdb",
        attached_at: "2026-11-21T20:04:39.350000",
      },
    ]);
    const member = (await api(h, "get", `/v3/demo/volumes/${v.id}`, { token: MEMBER })).body.volume;
    expect(member.attachments[0].host_name).toBeNull();
  });

  test("a show is one query for a detached volume and two for an attached one (issue 14's hot path)", async () => {
    const queries: string[] = [];
    const record = (q: { sql: string }): void => {
      queries.push(q.sql);
    };
    const detached = await addVolume(h);
    const attached = await addVolume(h, { status: "in-use", attach_status: "attached" });
    h.t.db.on("query", record);
    try {
      expect((await api(h, "get", `/v3/demo/volumes/${detached.id}`, { token: MEMBER })).status).toBe(200);
      const one = queries.filter((q) => !q.includes("services")).length;
      queries.length = 0;
      expect((await api(h, "get", `/v3/demo/volumes/${attached.id}`, { token: MEMBER })).status).toBe(200);
      const two = queries.filter((q) => !q.includes("services")).length;
      expect([one, two]).toEqual([1, 2]);
    } finally {
      h.t.db.off("query", record);
    }
  });

  test("a deleted type: before 3.63 the view names its id, from 3.63 null; a renamed type shows its new name", async () => {
    const typeId = randomUUID();
    await h.t.db("volume_types").insert({ id: typeId, name: "gold", is_public: true });
    const v = await addVolume(h, { volume_type_id: typeId });
    const show = async (version: string): Promise<unknown> =>
      (await api(h, "get", `/v3/demo/volumes/${v.id}`, { version })).body.volume.volume_type;
    expect(await show("3.0")).toBe("gold");
    await h.t.db("volume_types").where({ id: typeId }).update({ name: "platinum" });
    expect(await show("3.0")).toBe("platinum");
    await h.t.db("volume_types").where({ id: typeId }).update({ deleted: true, deleted_at: new Date() });
    expect(await show("3.0")).toBe(typeId);
    expect(await show("3.63")).toBeNull();
  });

  test("another project's volume is 404 for members, visible to admins", async () => {
    const v = await addVolume(h, { project_id: "other" });
    const member = await api(h, "get", `/v3/demo/volumes/${v.id}`, { token: MEMBER });
    expect(member.status).toBe(404);
    expect(member.body.itemNotFound.message).toBe(`Volume ${v.id} could not be found.`);
    expect((await api(h, "get", `/v3/demo/volumes/${v.id}`)).status).toBe(200);
  });
});

describe("lists", () => {
  let source: string;
  let temp: string;
  beforeAll(async () => {
    const s = await addVolume(h, { name: "moving", migration_status: "migrating" });
    const t = await addVolume(h, { name: "moving", host: "node@lvm2#lvm2", status: "creating" });
    await h.t.db("volumes").where({ id: t.id }).update({ migration_target_of: s.id });
    source = s.id;
    temp = t.id;
    await addVolume(h, { name: "theirs", project_id: "other", user_id: "bob" });
  });

  test("members never see migration temp volumes; admins see both with target:<id>", async () => {
    const member = await api(h, "get", "/v3/demo/volumes/detail?name=moving", { token: MEMBER });
    expect(member.body.volumes.map((v: { id: string }) => v.id)).toEqual([source]);
    const admin = await api(h, "get", "/v3/demo/volumes/detail?name=moving");
    const byId = new Map(admin.body.volumes.map((v: { id: string }) => [v.id, v]));
    expect(byId.size).toBe(2);
    expect(byId.get(temp)).toMatchObject({
      "os-vol-mig-status-attr:migstat": `target:${source}`,
      migration_status: `target:${source}`,
    });
    expect(byId.get(source)).toMatchObject({ "os-vol-mig-status-attr:migstat": "migrating" });
  });

  test("summary list: id, name, links only, even for admins", async () => {
    const res = await api(h, "get", "/v3/demo/volumes?name=moving");
    for (const v of res.body.volumes) {
      expect(sorted(Object.keys(v))).toEqual(["id", "links", "name"]);
    }
  });

  test("all_tenants: admins only; members stay in their project", async () => {
    const names = (r: { body: { volumes: { name: string }[] } }) => r.body.volumes.map((v) => v.name);
    expect(names(await api(h, "get", "/v3/demo/volumes?name=theirs"))).toEqual([]);
    expect(names(await api(h, "get", "/v3/demo/volumes?name=theirs&all_tenants=True"))).toEqual(["theirs"]);
    expect(
      names(await api(h, "get", "/v3/demo/volumes?name=theirs&all_tenants=1", { token: MEMBER })),
    ).toEqual([]);
    expect(names(await api(h, "get", "/v3/other/volumes?name=theirs", { token: OTHER }))).toEqual(["theirs"]);
    const bad = await api(h, "get", "/v3/demo/volumes?all_tenants=maybe");
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toBe("Value 'maybe' for 'all_tenants' is not a boolean.");
  });
});

describe("delete", () => {
  const REFUSED =
    "Invalid volume: Volume status must be available or error or error_restoring or error_extending or " +
    "error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a " +
    "transfer, or be disassociated from snapshots after volume transfer.";

  test("a placed volume goes to deleting and its service is told", async () => {
    const v = await addVolume(h);
    const res = await api(h, "delete", `/v3/demo/volumes/${v.id}`, { token: MEMBER });
    expect(res.status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "deleting" });
    await h.flush();
    expect(h.casts).toEqual([
      { topic: "cinder-volume.node@lvm", method: "delete_volume", args: { volume_id: v.id } },
    ]);
  });

  test("a volume without host is gone at once", async () => {
    const v = await addVolume(h, { host: null, status: "creating" });
    expect((await api(h, "delete", `/v3/demo/volumes/${v.id}`)).status).toBe(202);
    expect((await api(h, "get", `/v3/demo/volumes/${v.id}`)).status).toBe(404);
    expect(await volumeRow(h, v.id)).toMatchObject({ deleted: true });
  });

  test.each([
    ["migrating", { migration_status: "migrating" as const }],
    ["in maintenance", { status: "maintenance" as const }],
    ["attached", { status: "in-use" as const, attach_status: "attached" as const }],
  ])("refused while %s", async (_n, fields) => {
    const v = await addVolume(h, fields);
    const before = await volumeRow(h, v.id);
    const res = await api(h, "delete", `/v3/demo/volumes/${v.id}`);
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(REFUSED);
    expect(await volumeRow(h, v.id)).toEqual(before);
  });

  test("refused with a snapshot", async () => {
    const v = await addVolume(h);
    await insertSnapshot(h.t.db, {
      volume_id: v.id,
      name: null,
      description: null,
      status: "available",
      volume_size: 1,
      project_id: "demo",
      user_id: "alice",
    });
    const res = await api(h, "delete", `/v3/demo/volumes/${v.id}`);
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(REFUSED);
  });
});
