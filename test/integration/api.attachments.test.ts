/** The attachments API (3.27+): reserve, connect, complete, delete, list and show. */
import {
  addAttachment,
  addVolume,
  api,
  type Harness,
  MEMBER,
  OTHER,
  startHarness,
  volumeRow,
} from "./api.harness";

let h: Harness;
const endpoints: string[] = [];
beforeAll(async () => {
  h = await startHarness();
  // The volume service of node@att answers where a volume's bytes are, as the raw-file driver does.
  await h.bus.serve("cinder-volume.node@att", {
    get_copy_endpoint: async (args: Record<string, unknown>) => {
      endpoints.push(String(args["volume_id"]));
      return {
        runner: { kind: "local" },
        path: `/srv/file-1/volume-${String(args["volume_id"])}`,
        sizeBytes: 1 << 30,
        directIo: false,
        sparseTarget: true,
      };
    },
  });
});
afterAll(async () => h.close());

const V = "3.44";
const connector = {
  initiator: "iqn.1993-08.org.debian:01:abc",
  ip: "10.0.0.5",
  host: "compute-1",
  mountpoint: "/dev/vdb",
};
const SERVER = "6f7e4a3c-2b1d-4c5e-8f90-123456789abc";

function create(volumeId: string, extra: Record<string, unknown> = {}, token = MEMBER, version = V) {
  return api(h, "post", "/v3/demo/attachments", { token, version }).send({
    attachment: { volume_uuid: volumeId, ...extra },
  });
}

test("reserve, connect with a connector, complete, delete: the volume's status follows", async () => {
  const v = await addVolume(h, { host: "node@att#att" });
  const reserved = await create(v.id, { instance_uuid: SERVER, connector: {} });
  expect(reserved.status).toBe(200);
  const a = reserved.body.attachment;
  expect(a).toEqual({
    id: expect.any(String),
    status: "reserved",
    instance: SERVER,
    volume_id: v.id,
    attached_at: "",
    detached_at: "",
    attach_mode: "null",
    connection_info: {},
  });
  expect((await volumeRow(h, v.id))["status"]).toBe("reserved");

  const upd = await api(h, "put", `/v3/demo/attachments/${a.id}`, { token: MEMBER, version: V }).send({
    attachment: { connector },
  });
  expect(upd.status).toBe(200);
  expect(upd.body.attachment).toMatchObject({
    status: "attaching",
    attach_mode: "rw",
    attached_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    connection_info: {
      driver_volume_type: "local",
      data: {
        device_path: `/srv/file-1/volume-${v.id}`,
        volume_id: v.id,
        access_mode: "rw",
        storage_host: null,
        discard: false,
      },
    },
  });
  expect(await volumeRow(h, v.id)).toMatchObject({ status: "attaching", attach_status: "attaching" });

  const done = await api(h, "post", `/v3/demo/attachments/${a.id}/action`, {
    token: MEMBER,
    version: V,
  }).send({
    "os-complete": null,
  });
  expect(done.status).toBe(204);
  expect(await volumeRow(h, v.id)).toMatchObject({ status: "in-use", attach_status: "attached" });
  const shown = await api(h, "get", `/v3/demo/attachments/${a.id}`, { token: MEMBER, version: V });
  expect(shown.body.attachment.status).toBe("attached");

  const del = await api(h, "delete", `/v3/demo/attachments/${a.id}`, { token: MEMBER, version: V });
  expect(del.status).toBe(200);
  expect(del.body).toEqual({ attachments: [] });
  expect(await volumeRow(h, v.id)).toMatchObject({ status: "available", attach_status: "detached" });
  expect((await api(h, "get", `/v3/demo/attachments/${a.id}`, { version: V })).status).toBe(404);
});

test("create with a connector connects at once; 3.54 mode ro wins over the connector's", async () => {
  const v = await addVolume(h, { host: "node@att#att" });
  const res = await create(v.id, { connector: { ...connector, mode: "rw" }, mode: "ro" }, MEMBER, "3.54");
  expect(res.status).toBe(200);
  expect(res.body.attachment).toMatchObject({ status: "attaching", attach_mode: "ro", instance: null });
  expect(res.body.attachment.connection_info.data.access_mode).toBe("ro");
  const old = await create(v.id, { mode: "ro" }, MEMBER, "3.44");
  expect(old.status).toBe(400);
});

test("refusals: status, error state, duplicate connectors, microversion, other projects", async () => {
  const busy = await addVolume(h, { status: "in-use", host: "node@att#att" });
  const refused = await create(busy.id);
  expect(refused.status).toBe(400);
  expect(refused.body.badRequest.message).toBe(
    `Invalid volume: Volume ${busy.id} status must be available or downloading to reserve, but the current status is in-use.`,
  );
  const broken = await addVolume(h, { status: "error", host: "node@att#att" });
  expect((await create(broken.id)).body.badRequest.message).toBe(
    "Invalid volume: Volume attachments can not be created if the volume is in an error state. " +
      `The Volume ${broken.id} currently has a status of: error `,
  );
  expect((await create(busy.id, {}, MEMBER, "3.26")).status).toBe(404);
  const foreign = await api(h, "post", "/v3/other/attachments", { token: OTHER, version: V }).send({
    attachment: { volume_uuid: busy.id },
  });
  expect(foreign.status).toBe(404);

  const v = await addVolume(h, { host: "node@att#att" });
  const first = (await create(v.id, { connector })).body.attachment;
  await h.t.db("volumes").where({ id: v.id }).update({ status: "available" });
  const second = (await create(v.id)).body.attachment;
  const dup = await api(h, "put", `/v3/demo/attachments/${second.id}`, { token: MEMBER, version: V }).send({
    attachment: { connector },
  });
  expect(dup.status).toBe(409);
  expect(dup.body.conflictingRequest.message).toBe(
    `Resource conflict: duplicate connectors detected on volume ${v.id}`,
  );
  expect(
    (await api(h, "get", `/v3/other/attachments/${first.id}`, { token: OTHER, version: V })).status,
  ).toBe(404);
});

test("list and detail: the project's attachments (old-style ones too), filters, all_tenants for admins", async () => {
  const v = await addVolume(h, { status: "in-use", attach_status: "attached", host: "node@att#att" });
  const old = await addAttachment(h, v.id, { instance_uuid: SERVER });
  const list = await api(h, "get", `/v3/demo/attachments?volume_id=${v.id}`, { token: MEMBER, version: V });
  expect(list.body).toEqual({
    attachments: [{ id: old, status: "attached", instance: SERVER, volume_id: v.id }],
  });
  const detail = await api(h, "get", `/v3/demo/attachments/detail?volume_id=${v.id}`, {
    token: MEMBER,
    version: V,
  });
  expect(Object.keys(detail.body.attachments[0]).sort()).toEqual(
    [
      "attach_mode",
      "attached_at",
      "connection_info",
      "detached_at",
      "id",
      "instance",
      "status",
      "volume_id",
    ].sort(),
  );
  const mine = await api(h, "get", "/v3/other/attachments", { token: OTHER, version: V });
  expect(mine.body.attachments).toEqual([]);
  const all = await api(h, "get", "/v3/demo/attachments?all_tenants=1&status=attached", { version: V });
  expect(all.body.attachments.map((a: { id: string }) => a.id)).toContain(old);
});
