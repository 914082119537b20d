/**
 * The evacuation driver's reads and its two bulk writes, each one query whatever the size of the
 * evacuation: the running items with their migrations (bounded by the caps), the next pending
 * candidates (a bounded window), item counts by state, and the cancel of every pending item.
 */
import { EvacuationItemState, type MigrationFlow, MigrationState } from "../../common/states";
import type { Db } from "../../db/connection";
import type { EvacuationItemRow } from "../../db/evacuations";

/** What the driver reads of a running item's migration. */
export interface ItemMigration {
  id: string;
  state: MigrationState;
  flow: MigrationFlow | null;
  error: string | null;
  bytes_done: number;
  cancel_requested_at: Date | null;
  requested_dest: string;
  force_host_copy: boolean;
  /** Still `starting`, untouched for longer than the driver's stuck-start delay. */
  stuck: boolean;
}

export interface RunningItem extends EvacuationItemRow {
  /** Null when the item names no migration or its row is gone. */
  migration: ItemMigration | null;
}

interface JoinedRow extends EvacuationItemRow {
  m_id: string | null;
  m_state: MigrationState | null;
  m_flow: MigrationFlow | null;
  m_error: string | null;
  m_bytes_done: string | number | null;
  m_cancel_requested_at: Date | null;
  m_requested_dest: string | null;
  m_force_host_copy: boolean | null;
  m_stuck: boolean | null;
}

function item(row: EvacuationItemRow): EvacuationItemRow {
  return { ...row, bytes: row.bytes === null ? null : Number(row.bytes) };
}

/** The running items of an evacuation, in start order, each with its migration: one query. */
export async function runningItems(db: Db, evacuationId: string, stuckMs: number): Promise<RunningItem[]> {
  const rows = (await db("evacuation_items as i")
    .leftJoin("migrations as m", "m.id", "i.migration_id")
    .select(
      "i.*",
      "m.id as m_id",
      "m.state as m_state",
      "m.flow as m_flow",
      "m.error as m_error",
      "m.bytes_done as m_bytes_done",
      "m.cancel_requested_at as m_cancel_requested_at",
      "m.requested_dest as m_requested_dest",
      "m.force_host_copy as m_force_host_copy",
      db.raw(
        "(m.state = ? AND coalesce(m.updated_at, m.created_at) < now() - (? * interval '1 millisecond')) AS m_stuck",
        [MigrationState.STARTING, stuckMs],
      ),
    )
    .where({ "i.evacuation_id": evacuationId, "i.state": EvacuationItemState.RUNNING })
    .orderBy("i.position")) as JoinedRow[];
  return rows.map((r) => {
    const {
      m_id,
      m_state,
      m_flow,
      m_error,
      m_bytes_done,
      m_cancel_requested_at,
      m_requested_dest,
      m_force_host_copy,
      m_stuck,
      ...rest
    } = r;
    return {
      ...item(rest),
      migration:
        m_id === null || m_state === null
          ? null
          : {
              id: m_id,
              state: m_state,
              flow: m_flow,
              error: m_error,
              bytes_done: Number(m_bytes_done ?? 0),
              cancel_requested_at: m_cancel_requested_at,
              requested_dest: m_requested_dest ?? "",
              force_host_copy: m_force_host_copy ?? false,
              stuck: m_stuck === true,
            },
    };
  });
}

/**
 * The first pending items in start order that may start: none of a saturated source backend or
 * destination pool, none whose last attempt failed less than `retryDelayMs` ago; at most `limit`.
 */
export async function pendingCandidates(
  db: Db,
  evacuationId: string,
  o: {
    excludeBackends: readonly string[];
    excludePools: readonly string[];
    retryDelayMs: number;
    limit: number;
  },
): Promise<EvacuationItemRow[]> {
  const qb = db("evacuation_items")
    .where({ evacuation_id: evacuationId, state: EvacuationItemState.PENDING })
    .andWhere((w) => {
      w.where("attempts", 0).orWhereRaw(
        "coalesce(updated_at, created_at) < now() - (? * interval '1 millisecond')",
        [o.retryDelayMs],
      );
    })
    .orderBy("position")
    .limit(o.limit);
  if (o.excludeBackends.length > 0) {
    qb.whereRaw(`split_part(from_host, '#', 1) NOT IN (${o.excludeBackends.map(() => "?").join(", ")})`, [
      ...o.excludeBackends,
    ]);
  }
  if (o.excludePools.length > 0) {
    qb.where((w) => {
      w.whereNull("to_host").orWhereNotIn("to_host", o.excludePools);
    });
  }
  return ((await qb) as EvacuationItemRow[]).map(item);
}

export type ItemCounts = Record<EvacuationItemState, number>;

/** Items by state: one query. */
export async function countItems(db: Db, evacuationId: string): Promise<ItemCounts> {
  const rows = (await db("evacuation_items")
    .select("state")
    .count({ n: "*" })
    .where({ evacuation_id: evacuationId })
    .groupBy("state")) as { state: EvacuationItemState; n: string | number }[];
  const counts = Object.fromEntries(Object.values(EvacuationItemState).map((s) => [s, 0])) as ItemCounts;
  for (const r of rows) {
    counts[r.state] = Number(r.n);
  }
  return counts;
}

/** One item as it is now. */
export async function getItem(db: Db, id: string): Promise<EvacuationItemRow | undefined> {
  const row = (await db("evacuation_items").where({ id }).first()) as EvacuationItemRow | undefined;
  return row ? item(row) : undefined;
}

/**
 * Every pending item of the evacuation → `cancelled`, in one compare-and-swap on the state (an item
 * a start took meanwhile is `running` and left to the cancel of its migration). Returns how many.
 */
export async function cancelPendingItems(db: Db, evacuationId: string, reason: string): Promise<number> {
  return db("evacuation_items")
    .where({ evacuation_id: evacuationId, state: EvacuationItemState.PENDING })
    .update({
      state: EvacuationItemState.CANCELLED,
      reason,
      finished_at: db.fn.now(),
      updated_at: db.fn.now(),
    });
}
