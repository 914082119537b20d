import type { PoolState } from "./backends";

export interface PlacementRequest {
  /** GiB. */
  size: number;
  /** Extra specs of the volume type that applies (the current type for a migration). */
  extraSpecs: Record<string, string>;
}

/**
 * Cinder's CapacityFilter (cinder/scheduler/filters/capacity_filter.py), for the cases our
 * drivers report: `free - reserved` must hold the volume, thin pools may over-subscribe up to
 * max_over_subscription_ratio.
 */
export function capacityPasses(pool: PoolState, req: PlacementRequest): boolean {
  const c = pool.capabilities;
  const total = Number(c.total_capacity_gb);
  const free = Number(c.free_capacity_gb);
  if (!Number.isFinite(total) || !Number.isFinite(free)) {
    // "infinite" / "unknown" pass, as in Cinder.
    return true;
  }
  const reserved = Math.floor((total * c.reserved_percentage) / 100);
  const freeAfterReserve = free - reserved;
  const wantsThick = req.extraSpecs["provisioning:type"] === "thick";
  if (c.thin_provisioning_support && !wantsThick && c.max_over_subscription_ratio >= 1) {
    const provisionedRatio = (Number(c.provisioned_capacity_gb) + req.size) / total;
    if (total > 0 && provisionedRatio > c.max_over_subscription_ratio) {
      return false;
    }
    return freeAfterReserve * c.max_over_subscription_ratio >= req.size;
  }
  return freeAfterReserve >= req.size;
}

/**
 * Cinder's CapabilitiesFilter: every unscoped or `capabilities:` scoped extra spec must match the
 * pool's capability; other scopes (`vendor:`, `provisioning:` …) are ignored. Supports plain
 * equality and `<is> True|False`.
 */
export function capabilitiesPass(pool: PoolState, req: PlacementRequest): boolean {
  for (const [rawKey, want] of Object.entries(req.extraSpecs)) {
    const scoped = rawKey.split(":");
    if (scoped.length > 1 && scoped[0] !== "capabilities") {
      continue;
    }
    const key = scoped.length > 1 ? scoped.slice(1).join(":") : rawKey;
    const have = pool.capabilities[key];
    if (have === undefined) {
      return false;
    }
    const is = /^<is>\s*(\S+)$/i.exec(want);
    if (is) {
      if (String(have).toLowerCase() !== is[1]!.toLowerCase()) {
        return false;
      }
    } else if (String(have) !== want) {
      return false;
    }
  }
  return true;
}

/** The filters then Cinder's CapacityWeigher (most free space first). */
export function rankPools(pools: PoolState[], req: PlacementRequest): PoolState[] {
  return pools
    .filter((p) => capacityPasses(p, req) && capabilitiesPass(p, req))
    .sort((a, b) => Number(b.capabilities.free_capacity_gb) - Number(a.capabilities.free_capacity_gb));
}
