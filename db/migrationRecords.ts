import { randomUUID } from "node:crypto";

import type { Knex } from "knex";

import type { CopyCheckpoint } from "../services/copy/types";
import type { MigrationFlow, MigrationKind, MigrationState } from "../services/common/states";
import { conditionalUpdate, type Expected } from "./conditional";

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
    Partial<Pick<MigrationRow, "kind" | "new_volume_type_id" | "dest_host">>,
): Promise<MigrationRow> {
  const rows = (await db("migrations")
    .insert({ id: randomUUID(), state: "starting", ...m })
    .returning("*")) as MigrationRow[];
  return fromDb(rows[0])!;
}

export async function getMigration(db: Conn, id: string): Promise<MigrationRow | undefined> {
  return fromDb((await db("migrations").where({ id }).first()) as MigrationRow | undefined);
}

export async function listMigrations(db: Conn, filter: { volumeId?: string } = {}): Promise<MigrationRow[]> {
  const qb = db("migrations").orderBy("created_at", "desc");
  if (filter.volumeId !== undefined) {
    qb.where("volume_id", filter.volumeId);
  }
  return ((await qb) as MigrationRow[]).map((r) => fromDb(r)!);
}

export async function updateMigrationIf(
  db: Conn,
  id: string,
  values: Partial<MigrationRow>,
  expected: Expected<MigrationRow>,
): Promise<MigrationRow | undefined> {
  return fromDb(await conditionalUpdate<MigrationRow>(db, "migrations", id, values, expected));
}

/** Progress is not a status: plain update of the counters. */
export async function recordProgress(
  db: Conn,
  id: string,
  p: { bytesDone: number; rateBps: number },
): Promise<void> {
  await db("migrations")
    .where({ id })
    .update({ bytes_done: p.bytesDone, rate_bps: p.rateBps, updated_at: db.fn.now() });
}
