/**
 * What changed since a moment, for the API's live events (services/events/changeFeed.ts). A row
 * changed when `coalesce(updated_at, created_at)` is later than the moment; the moment is read
 * from the database's clock (`now()`), the clock that wrote those columns. These are light reads
 * (ids and times) so that a poller can drop what it has already sent before loading full rows.
 * Reads several tables on purpose: it is a feed across them, not a repository of one.
 */
import type { Knex } from "knex";

import type { VolumeRow } from "./volumes";

type Conn = Knex | Knex.Transaction;

/** One changed row: its id and when it last changed. */
export interface Change {
  id: string;
  changed_at: Date;
}

/** A changed migration with the project of the volume it moves (null if that row is gone). */
export interface MigrationChange extends Change {
  project_id: string | null;
}

const CHANGED = (table: string): string => `coalesce(${table}.updated_at, ${table}.created_at)`;

/** The database's clock. */
export async function databaseNow(db: Conn): Promise<Date> {
  const r = (await db.raw("SELECT now() AS now")) as { rows: { now: Date | string }[] };
  return new Date(r.rows[0]!.now);
}

export async function changedMigrations(db: Conn, since: Date): Promise<MigrationChange[]> {
  const rows = (await db("migrations")
    .leftJoin("volumes", "volumes.id", "migrations.volume_id")
    .select("migrations.id", db.raw(`${CHANGED("migrations")} AS changed_at`), "volumes.project_id")
    .whereRaw(`${CHANGED("migrations")} > ?`, [since])) as MigrationChange[];
  return rows.map((r) => ({ ...r, changed_at: new Date(r.changed_at) }));
}

/** Volumes, deleted ones included (a deletion is a change too). */
export async function changedVolumes(db: Conn, since: Date): Promise<Change[]> {
  const rows = (await db("volumes")
    .select("id", db.raw(`${CHANGED("volumes")} AS changed_at`))
    .whereRaw(`${CHANGED("volumes")} > ?`, [since])) as Change[];
  return rows.map((r) => ({ ...r, changed_at: new Date(r.changed_at) }));
}

/**
 * Evacuations whose row, one of whose items, or one of whose migrations changed; `changed_at` is
 * the latest of those changes.
 */
export async function changedEvacuations(db: Conn, since: Date): Promise<Change[]> {
  const rows = (await db.raw(
    `SELECT id, max(changed_at) AS changed_at FROM (
       SELECT id, ${CHANGED("evacuations")} AS changed_at FROM evacuations
        WHERE ${CHANGED("evacuations")} > :since
       UNION ALL
       SELECT evacuation_id, ${CHANGED("evacuation_items")} FROM evacuation_items
        WHERE ${CHANGED("evacuation_items")} > :since
       UNION ALL
       SELECT evacuation_id, ${CHANGED("migrations")} FROM migrations
        WHERE evacuation_id IS NOT NULL AND ${CHANGED("migrations")} > :since
     ) c
     WHERE id IN (SELECT id FROM evacuations)
     GROUP BY id`,
    { since },
  )) as { rows: Change[] };
  return rows.rows.map((r) => ({ ...r, changed_at: new Date(r.changed_at) }));
}

/** Volume rows by id, deleted ones included. */
export async function volumesByIds(db: Conn, ids: readonly string[]): Promise<VolumeRow[]> {
  if (ids.length === 0) {
    return [];
  }
  return (await db("volumes").whereIn("id", ids)) as VolumeRow[];
}
