/** os-availability-zone, extensions and capabilities/{host}. */
import {
  addVolumeService,
  api,
  capabilities,
  type Harness,
  MEMBER,
  setService,
  startHarness,
} from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await addVolumeService(h, "node@lvm", { caps: capabilities("lvm", ["lvm", "fast"]) });
  await addVolumeService(h, "node@east", { zone: "east" });
  await setService(h, "node@east", { disabled: true });
});
afterAll(async () => h.close());

test("availability zones: one per volume service zone, unavailable when all its services are disabled", async () => {
  const res = await api(h, "get", "/v3/demo/os-availability-zone", { token: MEMBER });
  expect(res.status).toBe(200);
  expect(res.body.availabilityZoneInfo).toEqual(
    expect.arrayContaining([
      { zoneName: "nova", zoneState: { available: true } },
      { zoneName: "east", zoneState: { available: false } },
    ]),
  );
});

test("extensions: Cinder's descriptors of what is implemented", async () => {
  const res = await api(h, "get", "/v3/demo/extensions", { token: MEMBER });
  expect(res.status).toBe(200);
  expect(res.body.extensions).toContainEqual({
    name: "TypesExtraSpecs",
    alias: "os-types-extra-specs",
    description: "Type extra specs support.",
    updated: "2011-08-24T00:00:00+00:00",
    links: [],
  });
});

test("capabilities of a backend (admin only), as get_pools reports it", async () => {
  const res = await api(h, "get", "/v3/demo/capabilities/node@lvm%23fast");
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    namespace: "OS::Storage::Capabilities::node@lvm#fast",
    vendor_name: "Open Source",
    volume_backend_name: "lvm",
    pool_name: "fast",
    driver_version: "3.0.0",
    storage_protocol: "iSCSI",
    replication_targets: [],
    visibility: null,
  });
  expect(res.body.properties.thin_provisioning).toEqual({
    title: "Thin Provisioning",
    description: "Sets thin provisioning.",
    type: "boolean",
  });
  const missing = await api(h, "get", "/v3/demo/capabilities/nowhere@x");
  expect(missing.status).toBe(404);
  expect(missing.body.itemNotFound.message).toBe("Can't find service: nowhere@x");
  const member = await api(h, "get", "/v3/demo/capabilities/node@lvm", { token: MEMBER });
  expect(member.status).toBe(403);
});
