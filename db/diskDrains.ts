/**
 * Disk drains (table `disk_drains`, migration 007): one row per drain of a physical volume of an
 * LVM backend. The API makes the row; the backend's worker moves it on and writes its progress.
 * Every status change is a compare-and-swap (updateDiskDrainIf).
 */
import { randomUUID } from "node:crypto";

import type { Knex } from "knex";

import { requestIdColumns } from "../common/requestContext";
import { ACTIVE_DISK_DRAIN_STATUSES, type DiskDrainStatus } from "../common/states";
import { conditionalUpdate, type Expected, type Updates } from "./conditional";

type Conn = Knex | Knex.Transaction;

export interface DiskDrainRow {
  id: string;
  /** The backend's service, `host@backend`. */
  backend: string;
  /** The PV drained, a device path on the storage host. */
  pv: string;
  /** Its volume group (the backend's). */
  vg: string;
  /** vgreduce the PV once empty. */
  remove_from_group: boolean;
  /** Seconds between progress samples (pvmove -i). */
  interval: number;
  status: DiskDrainStatus;
  /** Bytes allocated on the PV when the drain was made. */
  bytes_total: number;
  bytes_moved: number;
  percent: number;
  /** Bytes/s between the last two samples; null before two samples. */
  rate_bps: number | null;
  /** How often the worker continued the move after an interruption (host crash, worker restart). */
  resumes: number;
  error: string | null;
  project_id: string | null;
  user_id: string | null;
  request_id: string | null;
  global_request_id: string | null;
  created_at: Date;
  updated_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
}

export type NewDiskDrain = Pick<
  DiskDrainRow,
  "backend" | "pv" | "vg" | "remove_from_group" | "interval" | "bytes_total" | "project_id" | "user_id"
>;

/** bigint columns come back as strings from pg. */
function fromDb(row: DiskDrainRow): DiskDrainRow {
  return {
    ...row,
    bytes_total: Number(row.bytes_total),
    bytes_moved: Number(row.bytes_moved),
    percent: Number(row.percent),
    rate_bps: row.rate_bps === null ? null : Number(row.rate_bps),
  };
}

/** Inserts a `pending` drain; undefined when the backend already has an active one. */
export async function insertDiskDrain(db: Conn, d: NewDiskDrain): Promise<DiskDrainRow | undefined> {
  const rows = (await db("disk_drains")
    .insert({ ...requestIdColumns(), ...d, id: randomUUID(), status: "pending" })
    .onConflict(db.raw("(backend) WHERE status IN (?, ?, ?, ?)", [...ACTIVE_DISK_DRAIN_STATUSES]))
    .ignore()
    .returning("*")) as DiskDrainRow[];
  return rows[0] ? fromDb(rows[0]) : undefined;
}

export async function getDiskDrain(db: Conn, id: string): Promise<DiskDrainRow | undefined> {
  const row = (await db("disk_drains").where({ id }).first()) as DiskDrainRow | undefined;
  return row ? fromDb(row) : undefined;
}

/** Newest first, optionally of one backend and/or status. */
export async function listDiskDrains(
  db: Conn,
  filter: { backend?: string; status?: DiskDrainStatus } = {},
): Promise<DiskDrainRow[]> {
  const qb = db("disk_drains").orderBy([
    { column: "created_at", order: "desc" },
    { column: "id", order: "desc" },
  ]);
  if (filter.backend !== undefined) {
    qb.where({ backend: filter.backend });
  }
  if (filter.status !== undefined) {
    qb.where({ status: filter.status });
  }
  return ((await qb) as DiskDrainRow[]).map(fromDb);
}

/** The backend's drains that are not over (what its worker continues at start). */
export async function activeDiskDrains(db: Conn, backend: string): Promise<DiskDrainRow[]> {
  const rows = (await db("disk_drains")
    .where({ backend })
    .whereIn("status", ACTIVE_DISK_DRAIN_STATUSES)
    .orderBy("created_at")) as DiskDrainRow[];
  return rows.map(fromDb);
}

export async function updateDiskDrainIf(
  db: Conn,
  id: string,
  values: Updates<DiskDrainRow>,
  expected: Expected<DiskDrainRow>,
): Promise<DiskDrainRow | undefined> {
  const row = await conditionalUpdate<DiskDrainRow>(db, "disk_drains", id, values, expected);
  return row ? fromDb(row) : undefined;
}

/** Drains not over, and those that ended within the last `windowSecs` (what /metrics shows). */
export async function recentDiskDrains(db: Conn, windowSecs: number): Promise<DiskDrainRow[]> {
  const rows = (await db("disk_drains")
    .whereIn("status", ACTIVE_DISK_DRAIN_STATUSES)
    .orWhere("finished_at", ">=", db.raw("now() - make_interval(secs => ?)", [windowSecs]))
    .orderBy("created_at")) as DiskDrainRow[];
  return rows.map(fromDb);
}
