/** GET /volumes/summary (3.12; metadata from 3.36): per project, all_tenants for admins. */
import { addVolume, api, type Harness, startHarness } from "./api.harness";

let h: Harness;
const P = "sump";
beforeAll(async () => {
  h = await startHarness();
  await addVolume(h, { project_id: P, size: 2, metadata: { tier: "gold", readonly: "True" } });
  await addVolume(h, { project_id: P, size: 3, metadata: { tier: "silver", app: "db" } });
  await addVolume(h, { project_id: P, size: 1, metadata: { tier: "gold" } });
  // A migration's temp volume is the service's, not the project's.
  const src = await addVolume(h, { project_id: P, size: 1 });
  await addVolume(h, { project_id: P, size: 1, migration_target_of: src.id });
  await addVolume(h, { project_id: "elsewhere", size: 7, metadata: { zone: "b" } });
});
afterAll(async () => h.close());

const summary = (project: string, token: string, version: string, query = "") =>
  api(h, "get", `/v3/${project}/volumes/summary${query}`, { token, version });

test("count, total size and distinct user metadata of the caller's project", async () => {
  const r = await summary(P, `lucy:${P}`, "3.36");
  expect(r.status).toBe(200);
  expect(r.body).toEqual({
    "volume-summary": {
      total_count: 4,
      total_size: 7,
      metadata: { tier: ["gold", "silver"], app: ["db"] },
    },
  });
});

test("before 3.36 there is no metadata; before 3.12 the path is a volume id (404)", async () => {
  const r = await summary(P, `lucy:${P}`, "3.35");
  expect(r.body).toEqual({ "volume-summary": { total_count: 4, total_size: 7 } });
  const old = await summary(P, `lucy:${P}`, "3.11");
  expect(old.status).toBe(404);
  expect(old.body.itemNotFound.message).toBe("Volume summary could not be found.");
});

test("all_tenants counts every project for an admin and is ignored for a member", async () => {
  const admin = await summary("demo", "admin:demo", "3.12", "?all_tenants=1");
  expect(admin.body["volume-summary"]).toEqual({ total_count: 5, total_size: 14 });
  const member = await summary(P, `lucy:${P}`, "3.12", "?all_tenants=1");
  expect(member.body["volume-summary"]).toEqual({ total_count: 4, total_size: 7 });
  const bad = await summary("demo", "admin:demo", "3.12", "?all_tenants=maybe");
  expect(bad.status).toBe(400);
});
