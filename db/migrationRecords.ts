import { randomUUID } from "node:crypto";

import type { Knex } from "knex";

import type { CopyCheckpoint } from "../common/checkpoint";
import { requestIdColumns } from "../common/requestContext";
import { type MigrationFlow, type MigrationKind, MigrationState } from "../common/states";
import { conditionalUpdate, type Expected, jsonb, type Updates } from "./conditional";

/** One attempt to move a volume (table `migrations`). */
export interface MigrationRow {
  id: string;
  volume_id: string;
  state: MigrationState;
  kind: MigrationKind;
  flow: MigrationFlow | null;
  /** A retype's new type: set on the volume in the same update as migration_status `success`. */
  new_volume_type_id: string | null;
  source_host: string;
  requested_dest: string;
  dest_host: string | null;
  temp_volume_id: string | null;
  force_host_copy: boolean;
  lock_volume: boolean;
  bytes_total: number | null;
  bytes_done: number;
  rate_bps: number | null;
  source_checksum: string | null;
  dest_checksum: string | null;
  error: string | null;
  /** Bytes per second for this migration's copy (null: the backend's volume_copy_bps_limit). */
  bps_limit: number | null;
  eta_seconds: number | null;
  /** Set by the migrations API; the source worker stops the copy and rolls back. */
  cancel_requested_at: Date | null;
  /** The copy engine's last checkpoint (CopyCheckpoint): where a restarted worker resumes. */
  checkpoint: CopyCheckpoint | null;
  compression: string | null;
  transport: string | null;
  user_id: string | null;
  /** The request that made it (migration 006): later loops continue its work under these ids. */
  request_id: string | null;
  global_request_id: string | null;
  created_at: Date;
  updated_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
}

type Conn = Knex | Knex.Transaction;

/** pg returns bigint columns as strings; the API and flows want numbers. */
function fromDb(row: MigrationRow | undefined): MigrationRow | undefined {
  if (!row) {
    return undefined;
  }
  const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    ...row,
    bytes_total: n(row.bytes_total),
    bytes_done: n(row.bytes_done) ?? 0,
    rate_bps: n(row.rate_bps),
    bps_limit: n(row.bps_limit),
  };
}

export async function insertMigration(
  db: Conn,
  m: Pick<
    MigrationRow,
    "volume_id" | "source_host" | "requested_dest" | "force_host_copy" | "lock_volume" | "user_id"
  > &
    Partial<Pick<MigrationRow, "kind" | "new_volume_type_id" | "dest_host" | "bps_limit">> & {
      /** The evacuation that starts it (column `evacuation_id`, migration 004). */
      evacuation_id?: string | null;
    },
): Promise<MigrationRow> {
  const rows = (await db("migrations")
    // Under the ids of the request at work now (none outside one): see requestContext.ts.
    .insert({ id: randomUUID(), state: "starting", ...requestIdColumns(), ...m })
    .returning("*")) as MigrationRow[];
  return fromDb(rows[0])!;
}

export async function getMigration(db: Conn, id: string): Promise<MigrationRow | undefined> {
  return fromDb((await db("migrations").where({ id }).first()) as MigrationRow | undefined);
}

export interface MigrationFilter {
  volumeId?: string;
  state?: MigrationState;
  /** Only migrations not finished (neither `success` nor `error`). */
  active?: boolean;
}

/** Newest first. */
export async function listMigrations(db: Conn, filter: MigrationFilter = {}): Promise<MigrationRow[]> {
  const qb = db("migrations").orderBy([
    { column: "created_at", order: "desc" },
    { column: "id", order: "desc" },
  ]);
  if (filter.volumeId !== undefined) {
    qb.where("volume_id", filter.volumeId);
  }
  if (filter.state !== undefined) {
    qb.where("state", filter.state);
  }
  if (filter.active) {
    qb.whereNotIn("state", FINISHED_STATES);
  }
  return ((await qb) as MigrationRow[]).map((r) => fromDb(r)!);
}

export const FINISHED_STATES: readonly MigrationState[] = [MigrationState.SUCCESS, MigrationState.ERROR];

/** The backend (`host@backend`) a migration leaves: its source host without the pool. */
const SOURCE_BACKEND = "split_part(source_host, '#', 1)";

/**
 * The queue of one backend, first requested first served (the order the source worker starts
 * them in): queued migrations leaving `backend`.
 */
export async function queuedMigrations(db: Conn, backend: string): Promise<MigrationRow[]> {
  const rows = (await db("migrations")
    .where("state", MigrationState.QUEUED)
    .andWhereRaw(`${SOURCE_BACKEND} = ?`, [backend])
    .orderBy([{ column: "created_at" }, { column: "id" }])) as MigrationRow[];
  return rows.map((r) => fromDb(r)!);
}

/** 1-based place of every queued migration in its backend's queue, by id. */
export async function queuePositions(db: Conn): Promise<Map<string, number>> {
  const rows = (await db("migrations")
    .select(
      "id",
      db.raw(`row_number() OVER (PARTITION BY ${SOURCE_BACKEND} ORDER BY created_at, id) AS position`),
    )
    .where("state", MigrationState.QUEUED)) as { id: string; position: string | number }[];
  return new Map(rows.map((r) => [r.id, Number(r.position)]));
}

/** What a running migration's worker polls: the cancel request and the bandwidth limit. */
export async function readControls(
  db: Conn,
  ids: readonly string[],
): Promise<Pick<MigrationRow, "id" | "state" | "bps_limit" | "cancel_requested_at">[]> {
  if (ids.length === 0) {
    return [];
  }
  const rows = (await db("migrations")
    .select("id", "state", "bps_limit", "cancel_requested_at")
    .whereIn("id", ids)) as Pick<MigrationRow, "id" | "state" | "bps_limit" | "cancel_requested_at">[];
  return rows.map((r) => ({ ...r, bps_limit: r.bps_limit === null ? null : Number(r.bps_limit) }));
}

/**
 * A migration update: any column but the jsonb checkpoint may be a SQL expression; a checkpoint is
 * serialised here (null clears it).
 */
export type MigrationUpdates = Updates<Omit<MigrationRow, "checkpoint">> &
  Partial<Pick<MigrationRow, "checkpoint">>;

export async function updateMigrationIf(
  db: Conn,
  id: string,
  values: MigrationUpdates,
  expected: Expected<MigrationRow>,
): Promise<MigrationRow | undefined> {
  const v: Updates<MigrationRow> = values.checkpoint
    ? { ...values, checkpoint: jsonb(db, values.checkpoint) }
    : values;
  return fromDb(await conditionalUpdate<MigrationRow>(db, "migrations", id, v, expected));
}

/**
 * Progress is not a status: plain update of the counters. Returns the row's bandwidth limit
 * (null: the backend's default), which the copy re-reads on every write.
 */
export async function recordProgress(
  db: Conn,
  id: string,
  p: { bytesDone: number; bytesTotal?: number; rateBps: number | null; etaSeconds: number | null },
): Promise<{ bpsLimit: number | null }> {
  const rows = (await db("migrations")
    .where({ id })
    .update({
      bytes_done: p.bytesDone,
      ...(p.bytesTotal === undefined ? {} : { bytes_total: p.bytesTotal }),
      rate_bps: p.rateBps,
      eta_seconds: p.etaSeconds,
      updated_at: db.fn.now(),
    })
    .returning("bps_limit")) as { bps_limit: string | number | null }[];
  const limit = rows[0]?.bps_limit;
  return { bpsLimit: limit === null || limit === undefined ? null : Number(limit) };
}
