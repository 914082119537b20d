/** /snapshots/{id}/metadata: create (merge), update_all, show and update one item, delete. */
import { randomUUID } from "node:crypto";

import { addVolume, api, type Harness, MEMBER, OTHER, startHarness } from "./api.harness";

let h: Harness;
let sid: string;
beforeAll(async () => {
  h = await startHarness();
  const v = await addVolume(h);
  sid = randomUUID();
  await h.t.db("snapshots").insert({
    id: sid,
    volume_id: v.id,
    status: "available",
    volume_size: 1,
    project_id: "demo",
    user_id: "alice",
    metadata: JSON.stringify({ a: "1" }),
  });
});
afterAll(async () => h.close());

const url = (suffix = ""): string => `/v3/demo/snapshots/${sid}/metadata${suffix}`;

test("merge, replace, item show/update, delete, as Cinder answers them", async () => {
  expect((await api(h, "get", url(), { token: MEMBER })).body).toEqual({ metadata: { a: "1" } });
  const merged = await api(h, "post", url(), { token: MEMBER }).send({ metadata: { b: "2" } });
  expect(merged.body).toEqual({ metadata: { a: "1", b: "2" } });
  const replaced = await api(h, "put", url(), { token: MEMBER }).send({ metadata: { c: "3" } });
  expect(replaced.body).toEqual({ metadata: { c: "3" } });
  expect((await api(h, "get", url("/c"), { token: MEMBER })).body).toEqual({ meta: { c: "3" } });
  const item = await api(h, "put", url("/c"), { token: MEMBER }).send({ meta: { c: "4" } });
  expect(item.body).toEqual({ meta: { c: "4" } });
  const mismatch = await api(h, "put", url("/c"), { token: MEMBER }).send({ meta: { d: "4" } });
  expect(mismatch.body.badRequest.message).toBe("Request body and URI mismatch");
  expect((await api(h, "delete", url("/c"), { token: MEMBER })).status).toBe(200);
  const gone = await api(h, "get", url("/c"), { token: MEMBER });
  expect(gone.status).toBe(404);
  expect(gone.body.itemNotFound.message).toBe(`Snapshot ${sid} has no metadata with key c.`);
  expect((await api(h, "delete", url("/c"), { token: MEMBER })).status).toBe(404);
  expect((await api(h, "get", `/v3/demo/snapshots/${sid}`)).body.snapshot.metadata).toEqual({});
  expect((await api(h, "get", `/v3/other/snapshots/${sid}/metadata`, { token: OTHER })).status).toBe(404);
});
