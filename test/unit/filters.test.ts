import type { PoolState } from "../../services/scheduler/backends";
import { capabilitiesPass, capacityPasses, rankPools } from "../../services/scheduler/filters";

function pool(name: string, caps: Partial<PoolState["capabilities"]>): PoolState {
  return {
    host: `h@${name}#${name}`,
    serviceHost: `h@${name}`,
    clusterName: null,
    availabilityZone: "nova",
    capabilities: {
      pool_name: name,
      total_capacity_gb: 100,
      free_capacity_gb: 50,
      allocated_capacity_gb: 50,
      provisioned_capacity_gb: 50,
      reserved_percentage: 0,
      max_over_subscription_ratio: 1,
      thin_provisioning_support: false,
      thick_provisioning_support: true,
      QoS_support: false,
      multiattach: false,
      location_info: "x",
      volume_backend_name: name,
      ...caps,
    },
  };
}

test("thick pools need the size in free space after the reserve", () => {
  expect(capacityPasses(pool("a", {}), { size: 50, extraSpecs: {} })).toBe(true);
  expect(capacityPasses(pool("a", {}), { size: 51, extraSpecs: {} })).toBe(false);
  expect(capacityPasses(pool("a", { reserved_percentage: 10 }), { size: 41, extraSpecs: {} })).toBe(false);
});

test("thin pools may over-subscribe up to the ratio", () => {
  const thin = pool("t", {
    thin_provisioning_support: true,
    max_over_subscription_ratio: 20,
    free_capacity_gb: 5,
  });
  expect(capacityPasses(thin, { size: 80, extraSpecs: {} })).toBe(true);
  expect(capacityPasses(thin, { size: 80, extraSpecs: { "provisioning:type": "thick" } })).toBe(false);
  expect(capacityPasses(thin, { size: 1951, extraSpecs: {} })).toBe(false);
});

test("unscoped and capabilities: extra specs must match; other scopes are ignored", () => {
  const p = pool("a", { thin_provisioning_support: true });
  expect(capabilitiesPass(p, { size: 1, extraSpecs: { volume_backend_name: "a" } })).toBe(true);
  expect(capabilitiesPass(p, { size: 1, extraSpecs: { volume_backend_name: "b" } })).toBe(false);
  expect(
    capabilitiesPass(p, { size: 1, extraSpecs: { "capabilities:thin_provisioning_support": "<is> True" } }),
  ).toBe(true);
  expect(capabilitiesPass(p, { size: 1, extraSpecs: { "vendor:anything": "x" } })).toBe(true);
  expect(capabilitiesPass(p, { size: 1, extraSpecs: { missing_cap: "x" } })).toBe(false);
});

test("rankPools filters then puts the most free space first", () => {
  const ranked = rankPools(
    [
      pool("a", { free_capacity_gb: 10 }),
      pool("b", { free_capacity_gb: 40 }),
      pool("c", { free_capacity_gb: 1 }),
    ],
    {
      size: 5,
      extraSpecs: {},
    },
  );
  expect(ranked.map((p) => p.host)).toEqual(["h@b#b", "h@a#a"]);
});
