import fc from "fast-check";

import { planEvacuation, type PlanInput, type PlanVolume, SkipReason } from "../../services/evacuation/plan";
import { covers, coversWholeService, type HostMatch, resolveName } from "../../services/evacuation/spec";
import type { PoolState } from "../../services/scheduler/backends";
import { capacityPasses } from "../../services/scheduler/filters";

function pool(
  backend: string,
  caps: Partial<PoolState["capabilities"]> = {},
  clusterName: string | null = null,
): PoolState {
  const name = backend.split("@")[1]!;
  return {
    host: `${backend}#${caps.pool_name ?? name}`,
    serviceHost: backend,
    clusterName,
    availabilityZone: "nova",
    capabilities: {
      pool_name: name,
      total_capacity_gb: 100,
      free_capacity_gb: 100,
      allocated_capacity_gb: 0,
      provisioned_capacity_gb: 0,
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

let seq = 0;
function vol(v: Partial<PlanVolume> = {}): PlanVolume {
  seq += 1;
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
    size: 1,
    host: "old@lvm#lvm",
    status: "available",
    attach_status: "detached",
    migration_status: null,
    replication_status: null,
    in_group: false,
    has_snapshots: false,
    evacuation_id: null,
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)),
    extra_specs: {},
    ...v,
  };
}

const SOURCE: HostMatch = { name: "old", backends: new Set(["old@lvm"]), pool: null };
const SOURCE_POOL = pool("old@lvm", { free_capacity_gb: 10_000, total_capacity_gb: 10_000 });

function plan(volumes: PlanVolume[], pools: PoolState[], more: Partial<PlanInput> = {}) {
  return planEvacuation({
    volumes,
    pools: [SOURCE_POOL, ...pools],
    source: SOURCE,
    destination: null,
    order: "smallest_first",
    includeInUse: false,
    ...more,
  });
}

/** GiB the plan puts on each pool. */
function placed(items: { to_host: string | null; size: number }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of items) {
    if (i.to_host !== null) {
      out.set(i.to_host, (out.get(i.to_host) ?? 0) + i.size);
    }
  }
  return out;
}

describe("order", () => {
  const a = vol({ size: 5, created_at: new Date("2026-01-03") });
  const b = vol({ size: 1, created_at: new Date("2026-01-02") });
  const c = vol({ size: 3, created_at: new Date("2026-01-01") });
  const d = vol({ size: 3, created_at: new Date("2026-01-04") });
  test.each([
    ["smallest_first", [b, c, d, a]],
    ["largest_first", [a, c, d, b]],
    ["oldest_first", [c, b, a, d]],
  ] as const)("%s (ties by age), positions 0…n-1", (order, want) => {
    const p = plan([a, b, c, d], [pool("new@lvm")], { order });
    expect(p.items.map((i) => i.volume_id)).toEqual(want.map((v) => v.id));
    expect(p.items.map((i) => i.position)).toEqual([0, 1, 2, 3]);
  });
});

describe("skip reasons", () => {
  test.each([
    ["has snapshots", { has_snapshots: true }, SkipReason.SNAPSHOTS],
    ["in-use status", { status: "in-use", attach_status: "attached" }, "in use and include_in_use is false"],
    ["attached", { attach_status: "attached" }, "in use and include_in_use is false"],
    ["error", { status: "error" }, "in an error state (error)"],
    ["error_extending", { status: "error_extending" }, "in an error state (error_extending)"],
    ["migrating", { migration_status: "migrating" }, "migrating already"],
    ["starting", { migration_status: "starting", status: "maintenance" }, "migrating already"],
    ["busy", { status: "extending" }, "not available or in-use (extending)"],
    ["replicated", { replication_status: "enabled" }, "replicated"],
    ["grouped", { in_group: true }, "part of a group"],
    ["another evacuation", { evacuation_id: "e-1" }, "part of evacuation e-1 already"],
  ] as const)("%s", (_what, v, reason) => {
    const p = plan([vol(v)], [pool("new@lvm")]);
    expect(p.items[0]).toMatchObject({ state: "skipped", to_host: null, reason });
    expect(p.shortfall_gb).toBe(0);
  });

  test("in-use volumes move when include_in_use is true", () => {
    const p = plan([vol({ status: "in-use", attach_status: "attached" })], [pool("new@lvm")], {
      includeInUse: true,
    });
    expect(p.items[0]).toMatchObject({ state: "pending", to_host: "new@lvm#lvm", reason: null });
  });

  test("a migration that ended (success/error) does not block", () => {
    const p = plan(
      [vol({ migration_status: "success" }), vol({ migration_status: "error" })],
      [pool("new@lvm")],
    );
    expect(p.items.map((i) => i.state)).toEqual(["pending", "pending"]);
  });

  test("no pool up, or none matching the type", () => {
    expect(plan([vol({ size: 4 })], []).items[0]!.reason).toBe(SkipReason.NO_POOL);
    expect(plan([vol({ size: 4 })], []).shortfall_gb).toBe(4);
    const typed = plan([vol({ extra_specs: { volume_backend_name: "gold" } })], [pool("new@lvm")]);
    expect(typed.items[0]!.reason).toBe(SkipReason.NO_TYPE_MATCH);
    expect(typed.shortfall_gb).toBe(0);
  });
});

describe("bin-packing", () => {
  test("thick pools: never more than free − reserved, room for the rest reported as shortfall", () => {
    const pools = [
      pool("n1@a", { total_capacity_gb: 100, free_capacity_gb: 50, reserved_percentage: 10 }), // 40 usable
      pool("n2@b", { total_capacity_gb: 100, free_capacity_gb: 30 }), // 30 usable
    ];
    const volumes = [20, 20, 15, 10, 8, 7, 5, 30].map((size) => vol({ size }));
    const p = plan(volumes, pools);
    const byPool = placed(p.items);
    expect(byPool.get("n1@a#a") ?? 0).toBeLessThanOrEqual(40);
    expect(byPool.get("n2@b#b") ?? 0).toBeLessThanOrEqual(30);
    const unplaced = p.items.filter((i) => i.state === "skipped");
    expect(p.shortfall_gb).toBe(unplaced.reduce((s, i) => s + i.size, 0));
    expect(p.shortfall_gb).toBeGreaterThanOrEqual(115 - 70);
    for (const i of unplaced) {
      expect(i.reason).toBe(`no pool has room (needs ${i.size} GiB)`);
    }
    // Every placed volume was placeable at that point: replaying them in order never fails the filter.
    const replay = pools.map((x) => ({ ...x, capabilities: { ...x.capabilities } }));
    for (const i of [...p.items].filter((x) => x.to_host).sort((x, y) => y.size - x.size)) {
      const target = replay.find((x) => x.host === i.to_host)!;
      expect(capacityPasses(target, { size: i.size, extraSpecs: {} })).toBe(true);
      target.capabilities.free_capacity_gb -= i.size;
    }
  });

  test("thin pools: provisioned stays within total × ratio", () => {
    const thin = pool("n1@thin", {
      thin_provisioning_support: true,
      max_over_subscription_ratio: 2,
      total_capacity_gb: 100,
      free_capacity_gb: 90,
      provisioned_capacity_gb: 120,
    }); // 80 GiB more may be provisioned
    const volumes = Array.from({ length: 10 }, () => vol({ size: 10 }));
    const p = plan(volumes, [thin]);
    expect(placed(p.items).get("n1@thin#thin")).toBe(80);
    expect(p.items.filter((i) => i.state === "skipped")).toHaveLength(2);
    expect(p.shortfall_gb).toBe(20);
  });

  test("a thick-typed volume on a thin pool is charged to the free space", () => {
    const thin = pool("n1@thin", {
      thin_provisioning_support: true,
      max_over_subscription_ratio: 20,
      free_capacity_gb: 15,
    });
    const spec = { "provisioning:type": "thick" };
    const p = plan([vol({ size: 10, extra_specs: spec }), vol({ size: 10, extra_specs: spec })], [thin]);
    expect(p.items.map((i) => i.state)).toEqual(["pending", "skipped"]);
  });

  test("most room first: volumes spread over the pools like the scheduler's weigher", () => {
    const pools = [pool("n1@a", { free_capacity_gb: 50 }), pool("n2@b", { free_capacity_gb: 50 })];
    const p = plan(
      Array.from({ length: 6 }, () => vol({ size: 10 })),
      pools,
    );
    expect(placed(p.items)).toEqual(
      new Map([
        ["n1@a#a", 30],
        ["n2@b#b", 30],
      ]),
    );
    const first = plan(
      [vol({ size: 1 })],
      [pool("n1@a", { free_capacity_gb: 20 }), pool("n2@b", { free_capacity_gb: 60 })],
    );
    expect(first.items[0]!.to_host).toBe("n2@b#b");
  });

  test("infinite capacity takes everything", () => {
    const p = plan(
      [vol({ size: 500 }), vol({ size: 700 })],
      [pool("n1@x", { free_capacity_gb: "infinite" as unknown as number })],
    );
    expect(p.items.every((i) => i.to_host === "n1@x#x")).toBe(true);
  });
});

test("property: whatever the pools and volumes, no pool is overfilled", () => {
  const poolArb = fc.record({
    thin: fc.boolean(),
    total: fc.integer({ min: 1, max: 500 }),
    usedPct: fc.integer({ min: 0, max: 100 }),
    reserved: fc.integer({ min: 0, max: 30 }),
    ratio: fc.integer({ min: 1, max: 5 }),
  });
  fc.assert(
    fc.property(
      fc.array(poolArb, { minLength: 1, maxLength: 5 }),
      fc.array(fc.integer({ min: 1, max: 120 }), { maxLength: 60 }),
      fc.constantFrom("smallest_first", "largest_first", "oldest_first"),
      (specs, sizes, order) => {
        const pools = specs.map((s, i) => {
          const free = Math.floor((s.total * (100 - s.usedPct)) / 100);
          return pool(`n${i}@p${i}`, {
            total_capacity_gb: s.total,
            free_capacity_gb: free,
            provisioned_capacity_gb: s.total - free,
            reserved_percentage: s.reserved,
            thin_provisioning_support: s.thin,
            max_over_subscription_ratio: s.ratio,
          });
        });
        const p = plan(
          sizes.map((size) => vol({ size })),
          pools,
          { order },
        );
        const byPool = placed(p.items);
        for (const x of pools) {
          const c = x.capabilities;
          const got = byPool.get(x.host) ?? 0;
          const reserved = Math.floor((c.total_capacity_gb * c.reserved_percentage) / 100);
          if (c.thin_provisioning_support) {
            expect(c.provisioned_capacity_gb + got).toBeLessThanOrEqual(
              c.total_capacity_gb * c.max_over_subscription_ratio,
            );
          } else {
            expect(got).toBeLessThanOrEqual(Math.max(0, c.free_capacity_gb - reserved));
          }
        }
        const skipped = p.items.filter((i) => i.state === "skipped");
        expect(p.shortfall_gb).toBe(skipped.reduce((s, i) => s + i.size, 0));
        expect(p.items.some((i) => i.to_host === SOURCE_POOL.host)).toBe(false);
      },
    ),
    { numRuns: 300 },
  );
});

describe("destinations", () => {
  test("source pools are never chosen, even with the most room", () => {
    const other = pool("old@lvm2", { free_capacity_gb: 5 });
    const p = plan(
      Array.from({ length: 3 }, () => vol({ size: 2 })),
      [pool("old@lvm", { pool_name: "second", free_capacity_gb: 10_000, total_capacity_gb: 10_000 }), other],
    );
    expect(p.items.map((i) => i.to_host)).toEqual(["old@lvm2#lvm2", "old@lvm2#lvm2", null]);
    expect(p.shortfall_gb).toBe(2);
  });

  test("a destination list restricts the pools", () => {
    const pools = [pool("a@x", { free_capacity_gb: 90 }), pool("b@y", { free_capacity_gb: 20 }), pool("c@z")];
    const destination = [
      { name: "b", backends: new Set(["b@y"]), pool: null },
      { name: "c@z#z", backends: new Set(["c@z"]), pool: "z" },
    ];
    const p = plan(
      Array.from({ length: 4 }, () => vol({ size: 10 })),
      pools,
      { destination },
    );
    const byPool = placed(p.items);
    expect(byPool.has("a@x#x")).toBe(false);
    expect((byPool.get("b@y#y") ?? 0) + (byPool.get("c@z#z") ?? 0)).toBe(40);
  });

  test("a pool source: the other pools of its backend may receive", () => {
    const source: HostMatch = { name: "old@lvm#p1", backends: new Set(["old@lvm"]), pool: "p1" };
    const p = planEvacuation({
      volumes: [vol({ host: "old@lvm#p1" })],
      pools: [
        pool("old@lvm", { pool_name: "p1" }),
        pool("old@lvm", { pool_name: "p2", free_capacity_gb: 1 }),
      ],
      source,
      destination: null,
      order: "smallest_first",
      includeInUse: false,
    });
    expect(p.items[0]!.to_host).toBe("old@lvm#p2");
  });
});

describe("names (spec.ts)", () => {
  const services = [
    { host: "node1@lvm", cluster_name: null },
    { host: "node1@file", cluster_name: null },
    { host: "node2@lvm", cluster_name: "c1@lvm" },
    { host: "node3@lvm", cluster_name: "c1@lvm" },
    { host: "node3@file", cluster_name: "c1@file" },
  ];
  test.each([
    ["node1", ["node1@file", "node1@lvm"], null],
    ["node1@lvm", ["node1@lvm"], null],
    ["node1@lvm#lvm", ["node1@lvm"], "lvm"],
    ["c1@lvm", ["node2@lvm", "node3@lvm"], null],
    ["c1", ["node2@lvm", "node3@file", "node3@lvm"], null],
    ["c1@lvm#lvm", ["node2@lvm", "node3@lvm"], "lvm"],
  ])("%s", (name, backends, poolName) => {
    const m = resolveName(name, services)!;
    expect([...m.backends].sort()).toEqual(backends);
    expect(m.pool).toBe(poolName);
  });

  test("unknown names cover nothing; covers() and coversWholeService()", () => {
    expect(resolveName("node9", services)).toBeUndefined();
    expect(resolveName("node1@nope", services)).toBeUndefined();
    const m = resolveName("node1@lvm#a", services)!;
    expect(covers(m, "node1@lvm#a")).toBe(true);
    expect(covers(m, "node1@lvm#b")).toBe(false);
    expect(covers(m, "node1@file#a")).toBe(false);
    const caps = (pools: string[]) =>
      ({ pools: pools.map((pool_name) => ({ pool_name })) }) as unknown as Parameters<
        typeof coversWholeService
      >[1]["capabilities"];
    expect(coversWholeService(m, { host: "node1@lvm", capabilities: caps(["a"]) })).toBe(true);
    expect(coversWholeService(m, { host: "node1@lvm", capabilities: caps(["a", "b"]) })).toBe(false);
    expect(
      coversWholeService(resolveName("node1", services)!, { host: "node1@lvm", capabilities: null }),
    ).toBe(true);
  });
});
