/**
 * The old attach/detach flow Nova and tempest drive (os-reserve, os-unreserve, os-attach,
 * os-begin_detaching, os-roll_detaching, os-detach, os-force_detach): statuses by
 * compare-and-swap, attachment rows, and Cinder's refusals.
 */
import { randomUUID } from "node:crypto";

import {
  action,
  addAttachment,
  addVolume,
  api,
  type Harness,
  MEMBER,
  startHarness,
  stateOf,
  volumeRow,
} from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

const INSTANCE = "2e4d7f0c-3e7a-4e6b-9b8f-1c2d3e4f5a6b";
const member = (id: string, body: unknown) => action(h, id, body, { token: MEMBER });

async function attachments(volumeId: string): Promise<Record<string, unknown>[]> {
  return h.t.db("volume_attachments").where({ volume_id: volumeId, deleted: false });
}

describe("reserve and unreserve", () => {
  test("available → attaching → available", async () => {
    const v = await addVolume(h);
    expect((await member(v.id, { "os-reserve": {} })).status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "attaching" });
    expect((await member(v.id, { "os-unreserve": null })).status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "available" });
  });

  test("unreserve of a volume with an attachment goes back to in-use; of an available one does nothing", async () => {
    const v = await addVolume(h, { status: "attaching", attach_status: "attached" });
    await addAttachment(h, v.id);
    await member(v.id, { "os-unreserve": {} });
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "in-use" });
    const idle = await addVolume(h);
    const before = await stateOf(h, idle.id);
    expect((await member(idle.id, { "os-unreserve": {} })).status).toBe(202);
    expect(await stateOf(h, idle.id)).toEqual(before);
  });

  test.each([
    [false, "Invalid volume: Volume status must be available to reserve, but the status is in-use."],
    [true, "Invalid volume: Volume status must be available or in-use to reserve, but the status is error."],
  ])("refused (multiattach %p)", async (multiattach, message) => {
    const v = await addVolume(h, { status: multiattach ? "error" : "in-use", multiattach });
    const before = await stateOf(h, v.id);
    const res = await member(v.id, { "os-reserve": {} });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(message);
    expect(await stateOf(h, v.id)).toEqual(before);
  });

  test("a multiattach volume in use can be reserved again", async () => {
    const v = await addVolume(h, { status: "in-use", multiattach: true });
    expect((await member(v.id, { "os-reserve": {} })).status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "attaching" });
  });
});

describe("os-attach", () => {
  test("reserve then attach: in-use, an attachment, readonly/attached_mode metadata, shown to the owner", async () => {
    const v = await addVolume(h);
    await member(v.id, { "os-reserve": {} });
    const res = await member(v.id, {
      "os-attach": { instance_uuid: INSTANCE, mountpoint: "/dev/vdb", host_name: "Compute_1.example" },
    });
    expect(res.status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({
      status: "in-use",
      attach_status: "attached",
      metadata: { readonly: "False", attached_mode: "rw" },
    });
    const [a] = await attachments(v.id);
    expect(a).toMatchObject({
      instance_uuid: INSTANCE,
      attached_host: "compute-1.example",
      attach_mode: "rw",
    });

    const shown = await api(h, "get", `/v3/demo/volumes/${v.id}`, { token: MEMBER });
    expect(shown.body.volume.attachments).toEqual([
      {
        id: v.id,
        attachment_id: a!["id"],
        volume_id: v.id,
        server_id: INSTANCE,
        host_name: null,
        device: "/dev/vdb",
        attached_at: expect.stringMatching(/^\d{4}-/),
      },
    ]);
    const admin = await api(h, "get", `/v3/demo/volumes/${v.id}`);
    expect(admin.body.volume.attachments[0].host_name).toBe("compute-1.example");

    // The same instance again changes nothing; another one is refused (not multiattach).
    expect(
      (await member(v.id, { "os-attach": { instance_uuid: INSTANCE, mountpoint: "/dev/vdb" } })).status,
    ).toBe(202);
    expect(await attachments(v.id)).toHaveLength(1);
    const before = await stateOf(h, v.id);
    const other = await member(v.id, {
      "os-attach": { instance_uuid: randomUUID(), mountpoint: "/dev/vdc" },
    });
    expect(other.status).toBe(400);
    expect(other.body.badRequest.message).toBe(
      "Invalid volume: volume is already attached and multiple attachments are not enabled",
    );
    expect(await stateOf(h, v.id)).toEqual(before);
  });

  test("a read-only volume attaches only read-only", async () => {
    const v = await addVolume(h, { metadata: { readonly: "True" } });
    const before = await stateOf(h, v.id);
    const rw = await member(v.id, { "os-attach": { host_name: "bare-metal", mountpoint: "/mnt" } });
    expect(rw.status).toBe(400);
    expect(rw.body.badRequest.message).toBe(`Invalid attaching mode 'rw' for volume ${v.id}.`);
    expect(await stateOf(h, v.id)).toEqual(before);
    const ro = await member(v.id, {
      "os-attach": { host_name: "bare-metal", mountpoint: "/mnt", mode: "ro" },
    });
    expect(ro.status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ metadata: { readonly: "True", attached_mode: "ro" } });
  });

  test.each([
    [
      { instance_uuid: INSTANCE },
      `Invalid input for field/attribute os-attach. Value: {'instance_uuid': '${INSTANCE}'}. 'mountpoint' is a required property`,
    ],
    [
      { mountpoint: "/dev/vdb" },
      "Invalid input for field/attribute os-attach. Value: {'mountpoint': '/dev/vdb'}. {'mountpoint': '/dev/vdb'} is not valid under any of the given schemas",
    ],
    [
      { instance_uuid: INSTANCE, mountpoint: "/dev/vdb", mode: "wo" },
      "Invalid input for field/attribute mode. Value: wo. 'wo' is not one of ['rw', 'ro']",
    ],
    [
      { instance_uuid: "i-1", mountpoint: "/dev/vdb" },
      "Invalid input for field/attribute instance_uuid. Value: i-1. 'i-1' is not a 'uuid'",
    ],
  ])("schema: %j → 400", async (body, message) => {
    const v = await addVolume(h);
    const res = await member(v.id, { "os-attach": body });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(message);
  });
});

describe("detach", () => {
  test("begin_detaching, roll_detaching, then detach: available and detached, attached_mode gone", async () => {
    const v = await addVolume(h, {
      status: "in-use",
      attach_status: "attached",
      metadata: { readonly: "False", attached_mode: "rw", k: "v" },
    });
    await addAttachment(h, v.id);
    await member(v.id, { "os-begin_detaching": {} });
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "detaching" });
    await member(v.id, { "os-roll_detaching": {} });
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "in-use" });
    await member(v.id, { "os-begin_detaching": {} });
    expect((await member(v.id, { "os-detach": null })).status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({
      status: "available",
      attach_status: "detached",
      metadata: { readonly: "False", k: "v" },
    });
    expect(await attachments(v.id)).toEqual([]);
  });

  test("begin_detaching of a volume that is not in use → 400, nothing changes", async () => {
    const v = await addVolume(h);
    const before = await stateOf(h, v.id);
    const res = await member(v.id, { "os-begin_detaching": {} });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(
      "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.",
    );
    expect(await stateOf(h, v.id)).toEqual(before);
  });

  test("one of two attachments, by id: still in use", async () => {
    const v = await addVolume(h, { status: "in-use", attach_status: "attached", multiattach: true });
    const a1 = await addAttachment(h, v.id);
    await addAttachment(h, v.id);
    expect((await member(v.id, { "os-detach": { attachment_id: a1 } })).status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "in-use", attach_status: "attached" });
    expect(await attachments(v.id)).toHaveLength(1);
  });

  test.each([
    [
      "no attachment id with two attachments",
      () => null,
      409,
      "Detach volume from instance  using the Compute API",
    ],
    [
      "an unknown attachment id",
      () => randomUUID(),
      409,
      "Detach volume from instance  using the Compute API",
    ],
  ])("%s → 409", async (_name, attachmentId, status, message) => {
    const v = await addVolume(h, { status: "in-use", attach_status: "attached", multiattach: true });
    await addAttachment(h, v.id);
    await addAttachment(h, v.id);
    const before = await stateOf(h, v.id);
    const res = await member(v.id, { "os-detach": { attachment_id: attachmentId() } });
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ conflictingRequest: { code: status, message } });
    expect(await stateOf(h, v.id)).toEqual(before);
  });

  test("another volume's attachment → 400", async () => {
    const v = await addVolume(h, { status: "in-use", attach_status: "attached" });
    await addAttachment(h, v.id);
    const other = await addVolume(h, { status: "in-use", attach_status: "attached" });
    const foreign = await addAttachment(h, other.id);
    const res = await member(v.id, { "os-detach": { attachment_id: foreign } });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe("Invalid input received: Mismatched volume and attachment");
  });

  test("detach of a volume without attachments makes it available", async () => {
    const v = await addVolume(h, { status: "detaching", attach_status: "attached" });
    expect((await member(v.id, { "os-detach": {} })).status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "available", attach_status: "detached" });
  });

  test("during a migration the status is left to the migration", async () => {
    const v = await addVolume(h, {
      status: "in-use",
      attach_status: "attached",
      migration_status: "migrating",
    });
    await addAttachment(h, v.id);
    await action(h, v.id, { "os-detach": {} });
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "in-use", attach_status: "detached" });
  });

  test("os-force_detach: admins only", async () => {
    const v = await addVolume(h, { status: "in-use", attach_status: "attached" });
    const a = await addAttachment(h, v.id);
    const denied = await member(v.id, { "os-force_detach": { attachment_id: a } });
    expect(denied.status).toBe(403);
    expect(denied.body.forbidden.message).toBe(
      "Policy doesn't allow volume_extension:volume_admin_actions:force_detach to be performed.",
    );
    const bad = await action(h, v.id, { "os-force_detach": { attachment_id: 5 } });
    expect(bad.body.badRequest.message).toBe(
      "Invalid input for field/attribute attachment_id. Value: 5. 5 is not of type 'string', 'null'",
    );
    const res = await action(h, v.id, { "os-force_detach": { attachment_id: a, connector: null } });
    expect(res.status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "available", attach_status: "detached" });
  });
});
