/** POST /snapshots/{id}/action: os-reset_status, os-force_delete, os-update_snapshot_status. */
import { randomUUID } from "node:crypto";

import { addVolume, ADMIN, api, type Harness, MEMBER, OTHER, startHarness } from "./api.harness";

let h: Harness;
let volumeId: string;
beforeAll(async () => {
  h = await startHarness();
  volumeId = (await addVolume(h)).id;
});
afterAll(async () => h.close());

async function snapshot(status: string): Promise<string> {
  const id = randomUUID();
  await h.t.db("snapshots").insert({
    id,
    volume_id: volumeId,
    status,
    volume_size: 1,
    project_id: "demo",
    user_id: "alice",
  });
  return id;
}

const act = (id: string, body: object, token = ADMIN, project = "demo") =>
  api(h, "post", `/v3/${project}/snapshots/${id}/action`, { token }).send(body);

const statusOf = async (id: string) =>
  ((await h.t.db("snapshots").where({ id }).first()) as { status: string; progress: string | null }) ?? null;

test("os-reset_status: admin only, any snapshot status, refused values are 400", async () => {
  const id = await snapshot("available");
  expect((await act(id, { "os-reset_status": { status: "creating" } })).status).toBe(202);
  expect((await statusOf(id)).status).toBe("creating");
  const member = await act(id, { "os-reset_status": { status: "error" } }, MEMBER);
  expect(member.status).toBe(403);
  expect(member.body.forbidden.message).toBe(
    "Policy doesn't allow volume_extension:snapshot_admin_actions:reset_status to be performed.",
  );
  expect((await act(id, { "os-reset_status": { status: "bogus" } })).status).toBe(400);
  expect((await act(id, { "os-reset_status": {} })).status).toBe(400);
  expect((await act(randomUUID(), { "os-reset_status": { status: "error" } })).status).toBe(404);
  expect((await statusOf(id)).status).toBe("creating");
});

test("os-update_snapshot_status: creating → available/error with progress, deleting → error_deleting, else 400", async () => {
  const id = await snapshot("creating");
  const r = await act(id, { "os-update_snapshot_status": { status: "error", progress: "80%" } }, MEMBER);
  expect(r.status).toBe(202);
  expect(await statusOf(id)).toMatchObject({ status: "error", progress: "80%" });
  const again = await act(id, { "os-update_snapshot_status": { status: "available" } }, MEMBER);
  expect(again.status).toBe(400);
  expect(again.body.badRequest.message).toBe(
    "Invalid snapshot: Provided snapshot status available not allowed for snapshot with status error.",
  );
  const deleting = await snapshot("deleting");
  expect((await act(deleting, { "os-update_snapshot_status": { status: "error_deleting" } })).status).toBe(
    202,
  );
  expect((await act(id, { "os-update_snapshot_status": { status: "error", progress: "101%" } })).status).toBe(
    400,
  );
  // Another project cannot see the snapshot at all.
  expect((await act(id, { "os-update_snapshot_status": { status: "error" } }, OTHER, "other")).status).toBe(
    404,
  );
});

test("os-force_delete: admin only, from any status, casts delete_snapshot to the volume's host", async () => {
  for (const status of ["creating", "deleting", "error_deleting", "error"]) {
    const id = await snapshot(status);
    expect((await act(id, { "os-force_delete": {} }, MEMBER)).status).toBe(403);
    h.casts.length = 0;
    expect((await act(id, { "os-force_delete": {} })).status).toBe(202);
    expect((await statusOf(id)).status).toBe("deleting");
    expect(h.casts).toEqual([
      expect.objectContaining({ method: "delete_snapshot", args: { snapshot_id: id } }),
    ]);
  }
  expect((await act(await snapshot("available"), { "os-unknown": {} })).status).toBe(400);
});
