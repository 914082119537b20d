/** DELETE /volumes/{id}?cascade=true[&force=true] (cinder/volume/api.py `delete`, cinder/api/v3/volumes.py). */
import { randomUUID } from "node:crypto";

import { addVolume, ADMIN, api, type Harness, MEMBER, startHarness, stateOf, volumeRow } from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

async function snapshot(volumeId: string, status: string, project = "demo"): Promise<string> {
  const id = randomUUID();
  await h.t.db("snapshots").insert({
    id,
    volume_id: volumeId,
    status,
    volume_size: 1,
    project_id: project,
    user_id: "alice",
  });
  return id;
}

const del = (id: string, query: string, opts: { token?: string; version?: string } = {}) =>
  api(h, "delete", `/v3/demo/volumes/${id}${query}`, { token: opts.token ?? MEMBER, version: opts.version });

const snapshotStatuses = async (volumeId: string) =>
  (await h.t.db("snapshots").where({ volume_id: volumeId }).orderBy("id")).map(
    (s: { status: string }) => s.status,
  );

const REFUSED =
  "Invalid volume: Volume status must be available or error or error_restoring or error_extending or " +
  "error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a " +
  "transfer, or be disassociated from snapshots after volume transfer.";

test("cascade marks the volume and its available and error snapshots deleting, then casts delete_volume", async () => {
  const v = await addVolume(h);
  await snapshot(v.id, "available");
  await snapshot(v.id, "error");
  h.casts.length = 0;
  const r = await del(v.id, "?cascade=true");
  expect(r.status).toBe(202);
  expect((await volumeRow(h, v.id))["status"]).toBe("deleting");
  expect(await snapshotStatuses(v.id)).toEqual(["deleting", "deleting"]);
  await h.flush();
  expect(h.casts).toEqual([
    expect.objectContaining({
      topic: "cinder-volume.node@lvm",
      method: "delete_volume",
      args: { volume_id: v.id },
    }),
  ]);
});

test("without cascade (or cascade=false) a volume with snapshots is refused, untouched", async () => {
  const v = await addVolume(h);
  await snapshot(v.id, "available");
  const before = await stateOf(h, v.id);
  for (const query of ["", "?cascade=false", "?cascade=0"]) {
    const r = await del(v.id, query);
    expect(r.status).toBe(400);
    expect(r.body.badRequest.message).toBe(REFUSED);
  }
  expect(await stateOf(h, v.id)).toEqual(before);
});

test("cascade is refused while a snapshot is creating, or when one belongs to another project (members)", async () => {
  const busy = await addVolume(h);
  await snapshot(busy.id, "available");
  await snapshot(busy.id, "creating");
  const before = await stateOf(h, busy.id);
  const r = await del(busy.id, "?cascade=true");
  expect(r.status).toBe(400);
  expect(r.body.badRequest.message).toBe(REFUSED);
  expect(await stateOf(h, busy.id)).toEqual(before);

  const shared = await addVolume(h);
  await snapshot(shared.id, "available", "other");
  expect((await del(shared.id, "?cascade=true")).status).toBe(400);
  expect(await snapshotStatuses(shared.id)).toEqual(["available"]);
  // An admin may take another project's snapshots along.
  expect((await del(shared.id, "?cascade=true", { token: ADMIN })).status).toBe(202);
  expect(await snapshotStatuses(shared.id)).toEqual(["deleting"]);
});

test("cascade still refuses a volume that is not deletable itself (status, migration, attachment)", async () => {
  const inUse = await addVolume(h, { status: "in-use" });
  await snapshot(inUse.id, "available");
  const migrating = await addVolume(h, { migration_status: "migrating" });
  for (const v of [inUse, migrating]) {
    const before = await stateOf(h, v.id);
    expect((await del(v.id, "?cascade=true")).status).toBe(400);
    expect(await stateOf(h, v.id)).toEqual(before);
  }
});

test("force (3.23+, admin: volume:force_delete) with cascade takes snapshots in any status", async () => {
  const v = await addVolume(h, { status: "error_deleting" });
  await snapshot(v.id, "creating");
  await snapshot(v.id, "error_deleting");
  // Below 3.23 `force` is ignored: a plain cascade, refused on the volume's status.
  expect((await del(v.id, "?cascade=true&force=true", { token: ADMIN, version: "3.22" })).status).toBe(400);
  const member = await del(v.id, "?cascade=true&force=true", { version: "3.23" });
  expect(member.status).toBe(403);
  expect(member.body.forbidden.message).toBe("Policy doesn't allow volume:force_delete to be performed.");
  const r = await del(v.id, "?cascade=true&force=true", { token: ADMIN, version: "3.23" });
  expect(r.status).toBe(202);
  expect((await volumeRow(h, v.id))["status"]).toBe("deleting");
  expect(await snapshotStatuses(v.id)).toEqual(["deleting", "deleting"]);
});

test("force without cascade still refuses a volume with snapshots", async () => {
  const v = await addVolume(h, { status: "error" });
  await snapshot(v.id, "available");
  const r = await del(v.id, "?force=true", { token: ADMIN, version: "3.23" });
  expect(r.status).toBe(400);
  expect(r.body.badRequest.message).toBe(
    "Invalid volume: Volume  must not be migrating, attached, belong to a group, have snapshots, awaiting " +
      "a transfer, or be disassociated from snapshots after volume transfer.",
  );
});

test("a cascade or force value that is not a boolean is a 400 before the volume is looked up", async () => {
  const r = await del(randomUUID(), "?cascade=maybe");
  expect(r.status).toBe(400);
  expect(r.body.badRequest.message).toBe("Value 'maybe' for 'cascade' is not a boolean.");
  expect((await del(randomUUID(), "?force=maybe", { version: "3.23" })).status).toBe(400);
  expect((await del(randomUUID(), "?cascade=true")).status).toBe(404);
});
