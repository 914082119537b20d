/** os-reset_status (cinder-behaviour §1.5, tests of §6): the admin's way to unstick a volume. */
import { randomUUID } from "node:crypto";

import { action, addVolume, type Harness, MEMBER, startHarness, volumeRow } from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

const VOLUME_STATUSES =
  "('creating', 'available', 'deleting', 'error', 'error_deleting', 'error_managing', 'managing', " +
  "'attaching', 'in-use', 'detaching', 'maintenance', 'restoring-backup', 'error_restoring', 'reserved', " +
  "'awaiting-transfer', 'backing-up', 'error_backing-up', 'error_extending', 'downloading', 'uploading', " +
  "'retyping', 'extending')";

async function attach(volumeId: string): Promise<void> {
  await h.t.db("volume_attachments").insert({
    id: randomUUID(),
    volume_id: volumeId,
    instance_uuid: randomUUID(),
    attach_status: "attached",
  });
}

describe("refusals change nothing", () => {
  test.each([
    [{}, "Must specify 'status', 'attach_status' or 'migration_status' for update."],
    [{ status: "" }, "Must specify 'status', 'attach_status' or 'migration_status' for update."],
    [
      { migration_status: "bogus-status" },
      "Volume migration status: bogus-status is invalid, valid statuses are: ('migrating', 'error', 'success', 'completing', 'none', 'starting').",
    ],
    [
      { migration_status: "deleting" },
      expect.stringContaining("Volume migration status: deleting is invalid"),
    ],
    [{ status: "bogus" }, `Volume status: bogus is invalid, valid statuses are: ${VOLUME_STATUSES}.`],
    [
      { attach_status: "half" },
      "Volume attach status: half is invalid, valid statuses are: ['attached', 'detached'].",
    ],
    [
      { status: "available", foo: 1 },
      "Invalid input for field/attribute os-reset_status. Value: {'status': 'available', 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)",
    ],
    [{ status: 5 }, "Invalid input for field/attribute status. Value: 5. 5 is not of type 'string', 'null'"],
    [{ status: "deleting" }, "Cannot reset-state to deleting"],
    [{ status: "in-use" }, "Cannot reset-state to in-use because volume does not have any attachments."],
  ])("%j → 400", async (body, message) => {
    const v = await addVolume(h, { migration_status: "migrating" });
    const before = await volumeRow(h, v.id);
    const res = await action(h, v.id, { "os-reset_status": body });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ badRequest: { code: 400, message } });
    expect(await volumeRow(h, v.id)).toEqual(before);
  });

  test("non-admin → 403, but a malformed body is 400 first", async () => {
    const v = await addVolume(h);
    const denied = await action(h, v.id, { "os-reset_status": { status: "error" } }, { token: MEMBER });
    expect(denied.status).toBe(403);
    expect(denied.body.forbidden.message).toBe(
      "Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be performed.",
    );
    const malformed = await action(h, v.id, { "os-reset_status": {} }, { token: MEMBER });
    expect(malformed.status).toBe(400);
    expect((await volumeRow(h, v.id))["status"]).toBe("available");
  });

  test("unknown volume → 404", async () => {
    const id = randomUUID();
    const res = await action(h, id, { "os-reset_status": { status: "error" } });
    expect(res.status).toBe(404);
    expect(res.body.itemNotFound.message).toBe(`Volume ${id} could not be found.`);
  });
});

describe("accepted resets", () => {
  test("unstick a locked migration: status and migration_status none → NULL", async () => {
    const v = await addVolume(h, {
      status: "maintenance",
      previous_status: "available",
      migration_status: "migrating",
    });
    const res = await action(h, v.id, {
      "os-reset_status": { status: "available", migration_status: "none" },
    });
    expect(res.status).toBe(202);
    expect(res.text).toBe("");
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "available", migration_status: null });
  });

  test("values are case-insensitive; migrating is settable (test_admin_actions)", async () => {
    const v = await addVolume(h);
    expect(
      (await action(h, v.id, { "os-reset_status": { status: "ERROR", migration_status: "Migrating" } }))
        .status,
    ).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "error", migration_status: "migrating" });
  });

  test("error_deleting is allowed (Cinder's tuple quirk)", async () => {
    const v = await addVolume(h);
    expect((await action(h, v.id, { "os-reset_status": { status: "error_deleting" } })).status).toBe(202);
    expect((await volumeRow(h, v.id))["status"]).toBe("error_deleting");
  });

  test("in-use with an attachment", async () => {
    const v = await addVolume(h);
    await attach(v.id);
    expect((await action(h, v.id, { "os-reset_status": { status: "in-use" } })).status).toBe(202);
    expect((await volumeRow(h, v.id))["status"]).toBe("in-use");
  });

  test("attach_status detached ends the attachments and makes the volume available", async () => {
    const v = await addVolume(h, { status: "in-use", attach_status: "attached" });
    await attach(v.id);
    expect((await action(h, v.id, { "os-reset_status": { attach_status: "detached" } })).status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "available", attach_status: "detached" });
    const left = await h.t.db("volume_attachments").where({ volume_id: v.id, deleted: false });
    expect(left).toEqual([]);
  });

  test("resetting a temp volume's migration status makes it an ordinary volume", async () => {
    const src = await addVolume(h);
    const temp = await addVolume(h, { status: "error" });
    await h.t.db("volumes").where({ id: temp.id }).update({ migration_target_of: src.id });
    expect((await action(h, temp.id, { "os-reset_status": { migration_status: "none" } })).status).toBe(202);
    expect(await volumeRow(h, temp.id)).toMatchObject({ migration_target_of: null, migration_status: null });
  });
});
