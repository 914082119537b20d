/** Snapshots, volume types and the admin discovery endpoints (get_pools, os-services, os-hosts). */
import { randomUUID } from "node:crypto";

import {
  addVolume,
  addVolumeService,
  api,
  capabilities,
  type Harness,
  makeServiceDown,
  MEMBER,
  setService,
  startHarness,
  volumeRow,
} from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await addVolumeService(h, "node@lvm", { caps: capabilities("lvm", ["lvm", "fast"]) });
  await addVolumeService(h, "node@lvm2");
  await addVolumeService(h, "other@down");
  await makeServiceDown(h, "other@down");
  await addVolumeService(h, "node@off");
  await setService(h, "node@off", { disabled: true, disabled_reason: "broken disk" });
  await addVolumeService(h, "node@frozen");
  await setService(h, "node@frozen", { frozen: true });
  await addVolumeService(h, "node@nocaps", { caps: null });
});
afterAll(async () => h.close());
beforeEach(() => {
  h.casts.length = 0;
});

const sorted = (keys: string[]): string[] => [...keys].sort();

describe("snapshots", () => {
  const create = (volumeId: string, extra: Record<string, unknown> = {}, token = MEMBER, version?: string) =>
    api(h, "post", "/v3/demo/snapshots", { token, version }).send({
      snapshot: { volume_id: volumeId, name: "snap", description: null, metadata: {}, ...extra },
    });

  test("create → 202 creating, cast to the volume's service; show/list shapes", async () => {
    const v = await addVolume(h);
    const res = await create(v.id);
    expect(res.status).toBe(202);
    const s = res.body.snapshot;
    expect(sorted(Object.keys(s))).toEqual(
      sorted([
        "id",
        "created_at",
        "updated_at",
        "name",
        "description",
        "volume_id",
        "status",
        "size",
        "metadata",
      ]),
    );
    expect(s).toMatchObject({ status: "creating", size: 1, volume_id: v.id, name: "snap" });
    await h.flush();
    expect(h.casts).toEqual([
      { topic: "cinder-volume.node@lvm", method: "create_snapshot", args: { snapshot_id: s.id } },
    ]);
    const shown = await api(h, "get", `/v3/demo/snapshots/${s.id}`, { token: MEMBER });
    expect(shown.body.snapshot).toMatchObject({
      "os-extended-snapshot-attributes:progress": "0%",
      "os-extended-snapshot-attributes:project_id": "demo",
    });
    const list = await api(h, "get", "/v3/demo/snapshots", { token: MEMBER });
    expect(list.body.snapshots.map((x: { id: string }) => x.id)).toContain(s.id);
    const detail = await api(h, "get", "/v3/demo/snapshots/detail", { token: MEMBER });
    expect(detail.body.snapshots[0]).toHaveProperty("os-extended-snapshot-attributes:project_id");
  });

  test.each([
    [
      { migration_status: "migrating" as const },
      "Invalid volume: Snapshot cannot be created while volume is migrating.",
    ],
    [
      { status: "maintenance" as const, migration_status: "starting" as const },
      "Invalid volume: The snapshot cannot be created when the volume is in maintenance mode.",
    ],
    [
      { status: "in-use" as const },
      "Invalid volume: Volume %ID status must be available, but current status is: in-use.",
    ],
    [
      { host: null },
      "Invalid volume: The snapshot cannot be created because volume has not been scheduled to any host.",
    ],
  ])("refused for %j", async (fields, message) => {
    const v = await addVolume(h, fields);
    const before = await volumeRow(h, v.id);
    const res = await create(v.id);
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(message.replace("%ID", v.id));
    expect(await volumeRow(h, v.id)).toEqual(before);
    expect(await h.t.db("snapshots").where({ volume_id: v.id })).toEqual([]);
  });

  test("in-use needs force before 3.66; from 3.66 force=false is refused", async () => {
    const v = await addVolume(h, { status: "in-use" });
    expect((await create(v.id, { force: "True" })).status).toBe(202);
    const v2 = await addVolume(h, { status: "in-use" });
    expect((await create(v2.id, {}, MEMBER, "3.66")).status).toBe(202);
    const bad = await create(v2.id, { force: false }, MEMBER, "3.66");
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toMatch(/^Since microversion 3.66 the 'force' flag is invalid/);
  });

  test("delete: CAS to deleting and cast; a creating snapshot is refused", async () => {
    const v = await addVolume(h);
    const s = (await create(v.id)).body.snapshot;
    const refused = await api(h, "delete", `/v3/demo/snapshots/${s.id}`, { token: MEMBER });
    expect(refused.status).toBe(400);
    expect(refused.body.badRequest.message).toBe(
      "Invalid snapshot: Snapshot status must be available or error and must not be part of a group.",
    );
    await h.t.db("snapshots").where({ id: s.id }).update({ status: "available" });
    h.casts.length = 0;
    expect((await api(h, "delete", `/v3/demo/snapshots/${s.id}`, { token: MEMBER })).status).toBe(202);
    expect((await h.t.db("snapshots").where({ id: s.id }).first()).status).toBe("deleting");
    await h.flush();
    expect(h.casts).toEqual([
      { topic: "cinder-volume.node@lvm", method: "delete_snapshot", args: { snapshot_id: s.id } },
    ]);
  });

  test("another project's snapshot is 404", async () => {
    const id = randomUUID();
    const res = await api(h, "get", `/v3/demo/snapshots/${id}`, { token: MEMBER });
    expect(res.status).toBe(404);
    expect(res.body.itemNotFound.message).toBe(`Snapshot ${id} could not be found.`);
  });
});

describe("volume types", () => {
  test("create (admin) → 200 with Cinder's create view; show/list; delete → 202 then 404", async () => {
    const res = await api(h, "post", "/v3/demo/types").send({
      volume_type: {
        name: "gold",
        description: "fast",
        "os-volume-type-access:is_public": true,
        extra_specs: { volume_backend_name: "lvm", multiattach: "<is> True" },
      },
    });
    expect(res.status).toBe(200);
    const t = res.body.volume_type;
    expect(sorted(Object.keys(t))).toEqual(
      sorted(["id", "name", "is_public", "description", "extra_specs", "os-volume-type-access:is_public"]),
    );
    const admin = (await api(h, "get", `/v3/demo/types/${t.id}`)).body.volume_type;
    expect(admin).toMatchObject({ qos_specs_id: null, extra_specs: { volume_backend_name: "lvm" } });
    const member = (await api(h, "get", `/v3/demo/types/${t.id}`, { token: MEMBER })).body.volume_type;
    expect(member).not.toHaveProperty("qos_specs_id");
    expect(member.extra_specs).toEqual({ multiattach: "<is> True" });
    const list = await api(h, "get", "/v3/demo/types", { token: MEMBER });
    expect(list.body.volume_types.map((x: { name: string }) => x.name)).toEqual(
      expect.arrayContaining(["__DEFAULT__", "gold"]),
    );
    const dup = await api(h, "post", "/v3/demo/types").send({ volume_type: { name: "gold" } });
    expect(dup.status).toBe(409);
    expect(dup.body.conflictingRequest.message).toBe("Volume Type gold already exists.");
    expect((await api(h, "delete", `/v3/demo/types/${t.id}`)).status).toBe(202);
    const gone = await api(h, "get", `/v3/demo/types/${t.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.itemNotFound.message).toBe(`Volume type ${t.id} could not be found.`);
  });

  test("members may not manage types, but a malformed body is 400 first", async () => {
    const denied = await api(h, "post", "/v3/demo/types", { token: MEMBER }).send({
      volume_type: { name: "x" },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.forbidden.message).toBe(
      "Policy doesn't allow volume_extension:type_create to be performed.",
    );
    const malformed = await api(h, "post", "/v3/demo/types", { token: MEMBER }).send({
      volume_type: { name: "  " },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.badRequest.message).toBe(
      "An invalid 'name' value was provided. The 'name' can not be empty.",
    );
  });

  test("the default type and a type in use cannot be deleted", async () => {
    const def = await api(h, "get", "/v3/demo/types/default");
    expect(def.body.volume_type.name).toBe("__DEFAULT__");
    const id = def.body.volume_type.id as string;
    const res = await api(h, "delete", `/v3/demo/types/${id}`);
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(
      `The volume type ${id} is a default volume type and cannot be deleted.`,
    );
    const t = (await api(h, "post", "/v3/demo/types").send({ volume_type: { name: "used" } })).body
      .volume_type;
    await addVolume(h, { volume_type_id: t.id });
    const inUse = await api(h, "delete", `/v3/demo/types/${t.id}`);
    expect(inUse.status).toBe(400);
    expect(inUse.body.badRequest.message).toBe("Target volume type is still in use.");
  });
});

describe("get_pools", () => {
  test("up, enabled, not frozen services with capabilities; names host@backend#pool", async () => {
    const res = await api(h, "get", "/v3/demo/scheduler-stats/get_pools");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      pools: [{ name: "node@lvm#fast" }, { name: "node@lvm#lvm" }, { name: "node@lvm2#lvm2" }],
    });
  });

  test("detail=True adds capabilities with the service-level keys", async () => {
    const res = await api(h, "get", "/v3/scheduler-stats/get_pools?detail=True");
    const pool = res.body.pools.find((p: { name: string }) => p.name === "node@lvm2#lvm2");
    expect(pool.capabilities).toMatchObject({
      pool_name: "lvm2",
      total_capacity_gb: 100,
      free_capacity_gb: 80,
      reserved_percentage: 0,
      QoS_support: false,
      volume_backend_name: "lvm2",
      vendor_name: "Open Source",
      driver_version: "3.0.0",
      storage_protocol: "iSCSI",
      timestamp: "2026-11-21T20:04:39.350000",
    });
  });

  test("members → 403; a non-boolean detail → 400", async () => {
    const denied = await api(h, "get", "/v3/demo/scheduler-stats/get_pools", { token: MEMBER });
    expect(denied.status).toBe(403);
    expect(denied.body.forbidden.message).toBe(
      "Policy doesn't allow scheduler_extension:scheduler_stats:get_pools to be performed.",
    );
    const bad = await api(h, "get", "/v3/demo/scheduler-stats/get_pools?detail=maybe");
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toBe("Value 'maybe' for 'detail' is not a boolean.");
  });
});

describe("os-services and os-hosts", () => {
  test("os-services fields at 3.0, with filters; ?host matches the part before @", async () => {
    const res = await api(h, "get", "/v3/demo/os-services?host=node&binary=cinder-volume");
    const hosts = res.body.services.map((s: { host: string }) => s.host);
    expect(hosts).toEqual(expect.arrayContaining(["node@lvm", "node@lvm2", "node@off"]));
    expect(hosts).not.toContain("other@down");
    const off = res.body.services.find((s: { host: string }) => s.host === "node@off");
    expect(off).toEqual({
      binary: "cinder-volume",
      host: "node@off",
      zone: "nova",
      status: "disabled",
      state: "up",
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
      disabled_reason: "broken disk",
      replication_status: "disabled",
      active_backend_id: null,
      frozen: false,
    });
    const down = await api(h, "get", "/v3/demo/os-services?host=other@down");
    expect(down.body.services).toEqual([expect.objectContaining({ host: "other@down", state: "down" })]);
  });

  test("cluster from 3.7, backend_state from 3.49", async () => {
    const res = await api(h, "get", "/v3/demo/os-services?host=node@lvm", { version: "3.49" });
    expect(res.body.services).toEqual([
      expect.objectContaining({ host: "node@lvm", cluster: null, backend_state: "up" }),
    ]);
    const old = await api(h, "get", "/v3/demo/os-services?host=node@lvm", { version: "3.6" });
    expect(old.body.services[0]).not.toHaveProperty("cluster");
  });

  test("os-hosts lists enabled services", async () => {
    const res = await api(h, "get", "/v3/demo/os-hosts");
    expect(res.status).toBe(200);
    const names = res.body.hosts.map((x: { host_name: string }) => x.host_name);
    expect(names).not.toContain("node@off");
    expect(res.body.hosts.find((x: { host_name: string }) => x.host_name === "other@down")).toMatchObject({
      service: "cinder-volume",
      zone: "nova",
      "service-status": "unavailable",
      "service-state": "enabled",
    });
    const denied = await api(h, "get", "/v3/demo/os-hosts", { token: MEMBER });
    expect(denied.body.forbidden.message).toBe(
      "Policy doesn't allow volume_extension:hosts to be performed.",
    );
  });
});
