/** GET os-hosts/{host} (cinder/api/contrib/hosts.py `show`, tempest's test_show_host). */
import { insertSnapshot } from "../../db/snapshots";
import {
  addVolume,
  addVolumeService,
  api,
  type Harness,
  MEMBER,
  setService,
  startHarness,
} from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await addVolumeService(h, "node@lvm");
  await addVolumeService(h, "node@off");
  await setService(h, "node@off", { disabled: true });
  await addVolume(h, { size: 2, project_id: "demo" });
  const snapped = await addVolume(h, { size: 3, project_id: "other", host: "node@lvm#fast" });
  await insertSnapshot(h.t.db, {
    volume_id: snapped.id,
    name: "s",
    description: null,
    status: "available",
    volume_size: 3,
    project_id: "other",
    user_id: "bob",
  });
  await addVolume(h, { size: 5, host: "node@lvm2#lvm2" });
});
afterAll(async () => h.close());

test("totals on the host, then per project, as strings", async () => {
  const res = await api(h, "get", "/v3/demo/os-hosts/node@lvm");
  expect(res.status).toBe(200);
  expect(res.body).toEqual({
    host: [
      {
        resource: {
          host: "node@lvm",
          project: "(total)",
          volume_count: "2",
          total_volume_gb: "5",
          snapshot_count: "1",
          total_snapshot_gb: "3",
        },
      },
      {
        resource: {
          host: "node@lvm",
          project: "demo",
          volume_count: "1",
          total_volume_gb: "2",
          snapshot_count: "0",
          total_snapshot_gb: "0",
        },
      },
      {
        resource: {
          host: "node@lvm",
          project: "other",
          volume_count: "1",
          total_volume_gb: "3",
          snapshot_count: "1",
          total_snapshot_gb: "3",
        },
      },
    ],
  });
});

test("a bare host name finds its backend service; its name is echoed", async () => {
  const res = await api(h, "get", "/v3/os-hosts/node");
  expect(res.body.host[0].resource).toMatchObject({ host: "node", project: "(total)", volume_count: "2" });
});

test("unknown or disabled hosts are 404; members are refused", async () => {
  for (const host of ["elsewhere@lvm", "node@off"]) {
    const res = await api(h, "get", `/v3/demo/os-hosts/${host}`);
    expect(res.status).toBe(404);
    expect(res.body.itemNotFound.message).toBe(`Service cinder-volume could not be found on host ${host}.`);
  }
  const denied = await api(h, "get", "/v3/demo/os-hosts/node@lvm", { token: MEMBER });
  expect(denied.status).toBe(403);
});
