/**
 * Which pending items of an evacuation may start now without passing its caps: the migrations
 * running at once in all, per source backend (`host@backend` of the item's `from_host`) and per
 * destination pool (its `to_host`). Pure: the driver gives it the running items and the pending
 * candidates in start order.
 */
import { backendOf } from "../../common/hosts";
import type { EvacuationItemRow, EvacuationRow } from "../../db/evacuations";

export type Caps = Pick<EvacuationRow, "max_parallel" | "max_parallel_per_host" | "max_parallel_per_pool">;
type Placed = Pick<EvacuationItemRow, "from_host" | "to_host">;

/** Running migrations per source backend and per destination pool, and in all. */
export interface Load {
  total: number;
  perBackend: Map<string, number>;
  perPool: Map<string, number>;
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

export function loadOf(running: readonly Placed[]): Load {
  const load: Load = { total: 0, perBackend: new Map(), perPool: new Map() };
  for (const r of running) {
    load.total += 1;
    bump(load.perBackend, backendOf(r.from_host));
    bump(load.perPool, r.to_host ?? "");
  }
  return load;
}

/** Source backends and destination pools at their cap: no candidate of theirs can start. */
export function saturated(load: Load, caps: Caps): { backends: string[]; pools: string[] } {
  return {
    backends: [...load.perBackend].filter(([, n]) => n >= caps.max_parallel_per_host).map(([k]) => k),
    pools: [...load.perPool].filter(([, n]) => n >= caps.max_parallel_per_pool).map(([k]) => k),
  };
}

/**
 * The candidates that start now, in their order: each one is taken when, counting the ones taken
 * before it, all three caps still have room; one that does not fit is passed over (a later one of
 * another backend or pool may fit).
 */
export function pickStarts<T extends Placed>(
  running: readonly Placed[],
  candidates: readonly T[],
  caps: Caps,
): T[] {
  const load = loadOf(running);
  const picked: T[] = [];
  for (const c of candidates) {
    if (load.total >= caps.max_parallel) {
      break;
    }
    const backend = backendOf(c.from_host);
    const pool = c.to_host ?? "";
    if (
      (load.perBackend.get(backend) ?? 0) >= caps.max_parallel_per_host ||
      (load.perPool.get(pool) ?? 0) >= caps.max_parallel_per_pool
    ) {
      continue;
    }
    picked.push(c);
    load.total += 1;
    bump(load.perBackend, backend);
    bump(load.perPool, pool);
  }
  return picked;
}
