/**
 * The plan of an evacuation: for every volume of the source, the pool it goes to or why it stays.
 * Pure (like chooseFlow), so it is table-tested; evacuationApi.ts loads its inputs.
 *
 * - A volume stays (`skipped`) when `os-migrate_volume` would refuse it or no pool can take it.
 * - Placement is the scheduler's (services/scheduler/filters.ts): the capabilities filter on the
 *   volume type's extra specs, the capacity filter on each pool, and the most room first. Each
 *   placed volume is then charged to its pool (Cinder's consume_from_volume), so the plan never
 *   overfills one: thick pools lose the size from their free space (`free − reserved` must hold
 *   the next volume), thin pools add it to their provisioned capacity (which must stay within
 *   `total × max_over_subscription_ratio`).
 * - Volumes are placed largest first (big ones find room while there is most of it) and the items
 *   are then ordered by the evacuation's `order`; what is placed is the same whatever the order
 *   of start, since the plan is about where every volume ends.
 */
import { type EvacuationOrder, VolumeStatus } from "../../common/states";
import type { NewEvacuationItem } from "../../db/evacuations";
import type { PoolState } from "../scheduler/backends";
import { capabilitiesPass, capacityPasses, type PlacementRequest } from "../scheduler/filters";
import { covers, type HostMatch } from "./spec";

/** One volume of the source, with what the plan needs to know about it. */
export interface PlanVolume {
  id: string;
  /** GiB. */
  size: number;
  /** `host@backend#pool`. */
  host: string;
  status: string;
  attach_status: string;
  migration_status: string | null;
  replication_status: string | null;
  /** Member of a consistency group or group (migration refuses those). */
  in_group: boolean;
  has_snapshots: boolean;
  /** Another evacuation that has this volume pending or running, if any. */
  evacuation_id: string | null;
  created_at: Date;
  /** Extra specs of its volume type. */
  extra_specs: Record<string, string>;
}

export interface PlanInput {
  volumes: readonly PlanVolume[];
  /** Pools that may receive volumes: up, enabled (loadPools). Pools of the source are never chosen. */
  pools: readonly PoolState[];
  source: HostMatch;
  /** Only pools these cover; null: any pool outside the source. */
  destination: readonly HostMatch[] | null;
  order: EvacuationOrder;
  includeInUse: boolean;
  /**
   * [DEFAULT] migrate_volumes_with_snapshots: a detached volume's snapshots move with it, so they
   * keep only an attached volume here. @defaultValue false
   */
  snapshotsMove?: boolean;
}

export type PlanItem = NewEvacuationItem;

export interface Plan {
  /** In start order; `position` 0-based. */
  items: PlanItem[];
  /** GiB of volumes that could move but no pool has room for. */
  shortfall_gb: number;
}

/** Why a volume is not moved (the item's `reason`). */
export const SkipReason = {
  SNAPSHOTS: "has snapshots",
  IN_USE: "in use and include_in_use is false",
  MIGRATING: "migrating already",
  REPLICATED: "replicated",
  IN_GROUP: "part of a group",
  errorState: (status: string) => `in an error state (${status})`,
  busy: (status: string) => `not available or in-use (${status})`,
  otherEvacuation: (id: string) => `part of evacuation ${id} already`,
  NO_TYPE_MATCH: "no destination pool matches its volume type",
  NO_POOL: "no destination pool is up and enabled",
  noRoom: (gb: number) => `no pool has room (needs ${gb} GiB)`,
} as const;

/** Reasons that count in the shortfall: the volume could move, the destinations lack capacity. */
export function isShortfall(reason: string | null): boolean {
  return reason !== null && (reason === SkipReason.NO_POOL || reason.startsWith("no pool has room"));
}

const MIGRATING_STATUSES = ["starting", "migrating", "completing"];
const NOT_REPLICATED = [null, "disabled", "not-capable"];

/** Why `os-migrate_volume` (or the caller's options) would leave this volume where it is, or null. */
export function refusal(v: PlanVolume, includeInUse: boolean, snapshotsMove = false): string | null {
  if (v.migration_status !== null && MIGRATING_STATUSES.includes(v.migration_status)) {
    return SkipReason.MIGRATING;
  }
  if (v.evacuation_id !== null) {
    return SkipReason.otherEvacuation(v.evacuation_id);
  }
  if (v.status.startsWith("error")) {
    return SkipReason.errorState(v.status);
  }
  if (v.status !== VolumeStatus.AVAILABLE && v.status !== VolumeStatus.IN_USE) {
    return SkipReason.busy(v.status);
  }
  if (
    v.has_snapshots &&
    !(snapshotsMove && v.status === VolumeStatus.AVAILABLE && v.attach_status !== "attached")
  ) {
    return SkipReason.SNAPSHOTS;
  }
  if (!includeInUse && (v.status === VolumeStatus.IN_USE || v.attach_status === "attached")) {
    return SkipReason.IN_USE;
  }
  if (!NOT_REPLICATED.includes(v.replication_status)) {
    return SkipReason.REPLICATED;
  }
  if (v.in_group) {
    return SkipReason.IN_GROUP;
  }
  return null;
}

function finite(v: unknown): number | null {
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function isThin(pool: PoolState, req: PlacementRequest): boolean {
  const c = pool.capabilities;
  return (
    c.thin_provisioning_support &&
    req.extraSpecs["provisioning:type"] !== "thick" &&
    c.max_over_subscription_ratio >= 1
  );
}

/**
 * Cinder's CapacityWeigher: GiB a pool can still take, virtual for thin pools
 * (`total × ratio − provisioned − reserved`), else `free − reserved`; infinite/unknown is endless.
 */
export function roomOf(pool: PoolState): number {
  const c = pool.capabilities;
  const total = finite(c.total_capacity_gb);
  const free = finite(c.free_capacity_gb);
  if (total === null || free === null) {
    return Number.POSITIVE_INFINITY;
  }
  const reserved = Math.floor((total * c.reserved_percentage) / 100);
  if (c.thin_provisioning_support && c.max_over_subscription_ratio >= 1) {
    return Math.floor(total * c.max_over_subscription_ratio - Number(c.provisioned_capacity_gb) - reserved);
  }
  return free - reserved;
}

/** Charges a placed volume to its pool (Cinder's HostState.consume_from_volume). */
function consume(pool: PoolState, req: PlacementRequest): void {
  const c = pool.capabilities;
  c.provisioned_capacity_gb = Number(c.provisioned_capacity_gb) + req.size;
  c.allocated_capacity_gb = Number(c.allocated_capacity_gb) + req.size;
  const free = finite(c.free_capacity_gb);
  if (!isThin(pool, req) && free !== null) {
    c.free_capacity_gb = free - req.size;
  }
}

function byCreation(a: PlanVolume, b: PlanVolume): number {
  return new Date(a.created_at).getTime() - new Date(b.created_at).getTime() || a.id.localeCompare(b.id);
}

const ORDERS: Record<EvacuationOrder, (a: PlanVolume, b: PlanVolume) => number> = {
  smallest_first: (a, b) => a.size - b.size || byCreation(a, b),
  largest_first: (a, b) => b.size - a.size || byCreation(a, b),
  oldest_first: byCreation,
};

/** The plan: where every volume of the source goes, or why it stays. */
export function planEvacuation(input: PlanInput): Plan {
  // Copies: the plan charges placed volumes to them.
  const pools = input.pools
    .filter(
      (p) =>
        !covers(input.source, p.host) &&
        (input.destination === null || input.destination.some((d) => covers(d, p.host))),
    )
    .map((p) => ({ ...p, capabilities: { ...p.capabilities } }));

  const decided = new Map<string, { to: string | null; reason: string | null }>();
  const movable: PlanVolume[] = [];
  for (const v of input.volumes) {
    const reason = refusal(v, input.includeInUse, input.snapshotsMove);
    if (reason === null) {
      movable.push(v);
    } else {
      decided.set(v.id, { to: null, reason });
    }
  }

  let shortfall = 0;
  for (const v of movable.sort(ORDERS.largest_first)) {
    const req: PlacementRequest = { size: v.size, extraSpecs: v.extra_specs };
    const typed = pools.filter((p) => capabilitiesPass(p, req));
    let best: PoolState | undefined;
    let bestRoom = Number.NEGATIVE_INFINITY;
    for (const p of typed) {
      if (!capacityPasses(p, req)) {
        continue;
      }
      const raw = roomOf(p);
      const room = Number.isNaN(raw) ? Number.NEGATIVE_INFINITY : raw;
      if (best === undefined || room > bestRoom || (room === bestRoom && p.host < best.host)) {
        best = p;
        bestRoom = room;
      }
    }
    if (best) {
      consume(best, req);
      decided.set(v.id, { to: best.host, reason: null });
      continue;
    }
    const reason =
      pools.length === 0
        ? SkipReason.NO_POOL
        : typed.length === 0
          ? SkipReason.NO_TYPE_MATCH
          : SkipReason.noRoom(v.size);
    if (isShortfall(reason)) {
      shortfall += v.size;
    }
    decided.set(v.id, { to: null, reason });
  }

  const items = [...input.volumes].sort(ORDERS[input.order]).map((v, position): PlanItem => {
    const d = decided.get(v.id)!;
    return {
      position,
      volume_id: v.id,
      size: v.size,
      from_host: v.host,
      to_host: d.to,
      state: d.to === null ? "skipped" : "pending",
      reason: d.reason,
    };
  });
  return { items, shortfall_gb: shortfall };
}
