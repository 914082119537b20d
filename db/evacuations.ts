import { randomUUID } from "node:crypto";

import type { Knex } from "knex";

import { requestIdColumns } from "../common/requestContext";
import { type EvacuationItemState, type EvacuationOrder, type EvacuationStatus } from "../common/states";
import { conditionalUpdate, type Expected, jsonb, type Updates, whereExpected } from "./conditional";
import { deletedAny } from "./deleted";

type Conn = Knex | Knex.Transaction;

/** One evacuation (table `evacuations`). Caps are counts of migrations at once. */
export interface EvacuationRow {
  id: string;
  status: EvacuationStatus;
  /** What is emptied: a node, `host@backend`, `host@backend#pool` or a cluster name. */
  source: string;
  /** Where volumes may go (same forms); null: wherever the scheduler would place them. */
  destination: string[] | null;
  max_parallel: number;
  max_parallel_per_host: number;
  max_parallel_per_pool: number;
  order: EvacuationOrder;
  include_in_use: boolean;
  disable_source: boolean;
  /** MiB/s of each migration's copy; null: the backends' own limit. */
  bandwidth_limit: number | null;
  /** How often a failed volume is tried again before it counts as failed. */
  max_retries: number;
  /** The `host@backend` services this evacuation disabled at its start. */
  disabled_services: string[] | null;
  project_id: string | null;
  user_id: string | null;
  /** The request that made it (migration 006): the driver runs it under these ids. */
  request_id: string | null;
  global_request_id: string | null;
  /** The process driving it now, and until when its lease holds. */
  driver: string | null;
  lease_until: Date | null;
  error: string | null;
  created_at: Date;
  updated_at: Date | null;
  finished_at: Date | null;
}

/** One volume of an evacuation (table `evacuation_items`). */
export interface EvacuationItemRow {
  id: string;
  evacuation_id: string;
  /** Order of start (the evacuation's `order`), 0-based. */
  position: number;
  volume_id: string;
  size: number;
  from_host: string;
  /** The pool the plan chose; null when skipped for want of one. */
  to_host: string | null;
  state: EvacuationItemState;
  /** Why it is skipped or failed (the last failure while retried). */
  reason: string | null;
  migration_id: string | null;
  attempts: number;
  /** Bytes the successful migration copied. */
  bytes: number | null;
  started_at: Date | null;
  finished_at: Date | null;
  created_at: Date;
  updated_at: Date | null;
}

export type NewEvacuation = Omit<
  EvacuationRow,
  | "id"
  | "driver"
  | "lease_until"
  | "error"
  | "created_at"
  | "updated_at"
  | "finished_at"
  | "request_id"
  | "global_request_id"
>;
export type NewEvacuationItem = Pick<
  EvacuationItemRow,
  "position" | "volume_id" | "size" | "from_host" | "to_host" | "state" | "reason"
>;

function itemFromDb(row: EvacuationItemRow): EvacuationItemRow {
  return { ...row, bytes: row.bytes === null ? null : Number(row.bytes) };
}

/** The evacuation and its items in one transaction; items are inserted in batches. */
export async function insertEvacuation(
  db: Knex,
  e: NewEvacuation,
  items: readonly NewEvacuationItem[],
): Promise<EvacuationRow> {
  return db.transaction(async (trx) => {
    const id = randomUUID();
    const rows = (await trx("evacuations")
      .insert({
        ...requestIdColumns(),
        ...e,
        id,
        destination: e.destination === null ? null : jsonb(trx, e.destination),
        disabled_services: e.disabled_services === null ? null : jsonb(trx, e.disabled_services),
      })
      .returning("*")) as EvacuationRow[];
    const withIds = items.map((it) => ({ ...it, id: randomUUID(), evacuation_id: id }));
    for (let i = 0; i < withIds.length; i += 500) {
      await trx("evacuation_items").insert(withIds.slice(i, i + 500));
    }
    return rows[0]!;
  });
}

export async function getEvacuation(db: Conn, id: string): Promise<EvacuationRow | undefined> {
  return (await db("evacuations").where({ id }).first()) as EvacuationRow | undefined;
}

/** Newest first. */
export async function listEvacuations(db: Conn): Promise<EvacuationRow[]> {
  return (await db("evacuations").orderBy([
    { column: "created_at", order: "desc" },
    { column: "id", order: "desc" },
  ])) as EvacuationRow[];
}

/** In start order. */
export async function listEvacuationItems(db: Conn, evacuationId: string): Promise<EvacuationItemRow[]> {
  const rows = (await db("evacuation_items")
    .where({ evacuation_id: evacuationId })
    .orderBy("position")) as EvacuationItemRow[];
  return rows.map(itemFromDb);
}

/** Items of many evacuations at once (the list view's totals), grouped by evacuation id. */
export async function listItemsOf(
  db: Conn,
  evacuationIds: readonly string[],
): Promise<Map<string, EvacuationItemRow[]>> {
  const out = new Map<string, EvacuationItemRow[]>(evacuationIds.map((id) => [id, []]));
  if (evacuationIds.length === 0) {
    return out;
  }
  const rows = (await db("evacuation_items")
    .whereIn("evacuation_id", evacuationIds)
    .orderBy("position")) as EvacuationItemRow[];
  for (const r of rows) {
    out.get(r.evacuation_id)?.push(itemFromDb(r));
  }
  return out;
}

export type EvacuationUpdates = Updates<Omit<EvacuationRow, "destination" | "disabled_services">> &
  Partial<Pick<EvacuationRow, "destination" | "disabled_services">>;

/** The only way an evacuation's status changes: compare-and-swap. */
export async function updateEvacuationIf(
  db: Conn,
  id: string,
  values: EvacuationUpdates,
  expected: Expected<EvacuationRow>,
): Promise<EvacuationRow | undefined> {
  const v: Updates<EvacuationRow> = {
    ...values,
    ...(values.destination ? { destination: jsonb(db, values.destination) } : {}),
    ...(values.disabled_services ? { disabled_services: jsonb(db, values.disabled_services) } : {}),
  };
  return conditionalUpdate<EvacuationRow>(db, "evacuations", id, v, expected);
}

/** The only way an item's state changes: compare-and-swap. */
export async function updateEvacuationItemIf(
  db: Conn,
  id: string,
  values: Updates<EvacuationItemRow>,
  expected: Expected<EvacuationItemRow>,
): Promise<EvacuationItemRow | undefined> {
  const row = await conditionalUpdate<EvacuationItemRow>(db, "evacuation_items", id, values, expected);
  return row ? itemFromDb(row) : undefined;
}

/**
 * Takes or renews the lease on an evacuation for `driver` until now + `leaseMs`: succeeds when the
 * row is unleased, leased by this driver, or its lease has run out (its driver died). Returns the
 * row when this driver holds it.
 */
export async function leaseEvacuation(
  db: Conn,
  id: string,
  driver: string,
  leaseMs: number,
): Promise<EvacuationRow | undefined> {
  const rows = (await db("evacuations")
    .where({ id })
    .andWhere((w) => {
      w.whereNull("driver").orWhere("driver", driver).orWhere("lease_until", "<", db.fn.now());
    })
    .update({
      driver,
      lease_until: db.raw("now() + (? * interval '1 millisecond')", [leaseMs]),
    })
    .returning("*")) as EvacuationRow[];
  return rows[0];
}

/** Gives the lease up (a clean stop), so another process need not wait for it to run out. */
export async function releaseEvacuation(db: Conn, id: string, driver: string): Promise<void> {
  await db("evacuations").where({ id, driver }).update({ driver: null, lease_until: null });
}

/** Evacuations a driver has work in: not ended. */
export async function activeEvacuationIds(db: Conn, ended: readonly string[]): Promise<string[]> {
  const rows = (await db("evacuations").select("id").whereNotIn("status", ended).orderBy("created_at")) as {
    id: string;
  }[];
  return rows.map((r) => r.id);
}

/** Deletes an evacuation (its items go with it) when `expected` holds; false when it did not. */
export async function deleteEvacuationIf(
  db: Conn,
  id: string,
  expected: Expected<EvacuationRow>,
): Promise<boolean> {
  const qb = db("evacuations").where("evacuations.id", id);
  whereExpected(qb, "evacuations", expected);
  return deletedAny(qb);
}
