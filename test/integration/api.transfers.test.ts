/** os-volume-transfer and volume-transfers (cinder/transfer/api.py, cinder/api/contrib/volume_transfer.py). */
import { randomUUID } from "node:crypto";

import { addVolume, ADMIN, api, type Harness, MEMBER, OTHER, startHarness, volumeRow } from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

const create = (volumeId: string, opts: { version?: string; path?: string; extra?: object } = {}) =>
  api(h, "post", `/v3/demo/${opts.path ?? "os-volume-transfer"}`, {
    token: MEMBER,
    version: opts.version,
  }).send({
    transfer: { volume_id: volumeId, name: " t1 ", ...opts.extra },
  });

const accept = (id: string, authKey: unknown, token = OTHER, project = "other") =>
  api(h, "post", `/v3/${project}/os-volume-transfer/${id}/accept`, { token }).send({
    accept: { auth_key: authKey },
  });

test("create → awaiting-transfer; accept by another project moves the volume, its snapshots and their quota", async () => {
  const v = await addVolume(h);
  const snap = randomUUID();
  await h.t.db("snapshots").insert({
    id: snap,
    volume_id: v.id,
    status: "available",
    volume_size: 1,
    project_id: "demo",
    user_id: "alice",
  });
  const r = await create(v.id);
  expect(r.status).toBe(202);
  expect(r.body.transfer).toEqual({
    id: expect.any(String),
    created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    name: "t1",
    volume_id: v.id,
    auth_key: expect.stringMatching(/^[0-9a-f]{16}$/),
    links: expect.any(Array),
  });
  const id = r.body.transfer.id as string;
  expect((await volumeRow(h, v.id))["status"]).toBe("awaiting-transfer");
  // The owner sees it; another project does not, until it accepts with the key.
  const shown = await api(h, "get", `/v3/demo/os-volume-transfer/${id}`, { token: MEMBER });
  expect(shown.body.transfer).toMatchObject({ id, volume_id: v.id, name: "t1" });
  expect((await api(h, "get", `/v3/other/os-volume-transfer/${id}`, { token: OTHER })).status).toBe(404);
  const wrong = await accept(id, "0000000000000000");
  expect(wrong.status).toBe(400);
  expect(wrong.body.badRequest.message).toBe(
    `Invalid auth key: Attempt to transfer ${id} with invalid auth key.`,
  );

  const ok = await accept(id, r.body.transfer.auth_key);
  expect(ok.status).toBe(202);
  expect(ok.body.transfer).toEqual({ id, volume_id: v.id, name: "t1", links: expect.any(Array) });
  expect(await volumeRow(h, v.id)).toMatchObject({
    status: "available",
    project_id: "other",
    user_id: "bob",
  });
  expect(await h.t.db("snapshots").where({ id: snap }).first()).toMatchObject({
    project_id: "other",
    user_id: "bob",
  });
  const usage = await api(h, "get", "/v3/other/os-quota-sets/other?usage=true", { token: OTHER });
  expect(usage.body.quota_set.volumes.in_use).toBe(1);
  expect(usage.body.quota_set.snapshots.in_use).toBe(1);
  // The transfer is gone; at 3.57 an admin's history shows where it went (not listed: deleted).
  expect((await api(h, "get", `/v3/demo/os-volume-transfer/${id}`, { token: MEMBER })).status).toBe(404);
  expect((await accept(id, r.body.transfer.auth_key)).status).toBe(404);
  const row = await h.t.db("transfers").where({ id }).first();
  expect(row).toMatchObject({ deleted: true, accepted: true, destination_project_id: "other" });
});

test("delete withdraws the offer: the volume is available again", async () => {
  const v = await addVolume(h);
  const id = (await create(v.id)).body.transfer.id as string;
  const list = await api(h, "get", "/v3/demo/os-volume-transfer/detail", { token: MEMBER });
  expect(list.body.transfers.map((t: { id: string }) => t.id)).toContain(id);
  expect((await api(h, "delete", `/v3/other/os-volume-transfer/${id}`, { token: OTHER })).status).toBe(404);
  expect((await api(h, "delete", `/v3/demo/os-volume-transfer/${id}`, { token: MEMBER })).status).toBe(202);
  expect((await volumeRow(h, v.id))["status"]).toBe("available");
  expect((await api(h, "get", `/v3/demo/os-volume-transfer/${id}`, { token: MEMBER })).status).toBe(404);
});

test("refusals: a volume not available, a snapshot not available, a volume of another project", async () => {
  const busy = await addVolume(h, { status: "in-use" });
  const r = await create(busy.id);
  expect([r.status, r.body.badRequest?.message]).toEqual([400, "Invalid volume: status must be available"]);
  const v = await addVolume(h);
  const snap = randomUUID();
  await h.t.db("snapshots").insert({
    id: snap,
    volume_id: v.id,
    status: "creating",
    volume_size: 1,
    project_id: "demo",
    user_id: "alice",
  });
  const s = await create(v.id);
  expect([s.status, s.body.badRequest?.message]).toEqual([
    400,
    `Invalid snapshot: snapshot: ${snap} status must be available`,
  ]);
  // Without its snapshots (3.55, volume-transfers) the volume may go.
  const without = await create(v.id, {
    version: "3.55",
    path: "volume-transfers",
    extra: { no_snapshots: true },
  });
  expect(without.status).toBe(202);
  expect(without.body.transfer.no_snapshots).toBe(true);
  // os-volume-transfer's schema has no no_snapshots.
  expect((await create(v.id, { version: "3.55", extra: { no_snapshots: true } })).status).toBe(400);
  expect((await create(randomUUID())).status).toBe(404);
  const foreign = await addVolume(h, { project_id: "other" });
  expect((await create(foreign.id)).status).toBe(404);
});

test("accept over the recipient's quota is a 413 and changes nothing", async () => {
  const v = await addVolume(h);
  const created = await create(v.id);
  await api(h, "put", "/v3/demo/os-quota-sets/full", { token: ADMIN }).send({ quota_set: { volumes: 0 } });
  const r = await accept(created.body.transfer.id, created.body.transfer.auth_key, "carol:full", "full");
  expect(r.status).toBe(413);
  expect((await volumeRow(h, v.id))["status"]).toBe("awaiting-transfer");
  expect((await volumeRow(h, v.id))["project_id"]).toBe("demo");
});

test("3.57 shows the history fields; volume-transfers lists like os-volume-transfer", async () => {
  const v = await addVolume(h);
  const r = await create(v.id, { version: "3.57", path: "volume-transfers" });
  expect(r.body.transfer).toMatchObject({
    no_snapshots: false,
    source_project_id: "demo",
    destination_project_id: null,
    accepted: false,
  });
  const list = await api(h, "get", "/v3/demo/volume-transfers", { token: MEMBER, version: "3.57" });
  expect(list.body.transfers.find((t: { id: string }) => t.id === r.body.transfer.id)).toEqual({
    id: r.body.transfer.id,
    volume_id: v.id,
    name: "t1",
    links: expect.any(Array),
  });
  const filtered = await api(h, "get", "/v3/demo/volume-transfers?name=nope", { token: MEMBER });
  expect(filtered.body.transfers).toEqual([]);
});

test("fuzzer findings: a volume_id filter that is no uuid lists nothing; a second transfer of a volume reset to available is a 400", async () => {
  for (const path of ["os-volume-transfer", "volume-transfers"]) {
    const listed = await api(h, "get", `/v3/demo/${path}?volume_id=false`, {
      token: MEMBER,
      version: "3.55",
    });
    expect(listed.status).toBe(200);
    expect(listed.body.transfers).toEqual([]);
  }
  const v = await addVolume(h);
  expect((await create(v.id)).status).toBe(202);
  // An admin resets the volume while its transfer is open: the next offer must not reach the index.
  await h.t.db("volumes").where({ id: v.id }).update({ status: "available" });
  const again = await create(v.id);
  expect(again.status).toBe(400);
  expect(again.body.badRequest.message).toBe(
    `Invalid volume: Volume ${v.id} already has a transfer in progress.`,
  );
  // The refused offer changed nothing: the volume stays as the reset left it.
  expect((await volumeRow(h, v.id))["status"]).toBe("available");
});
