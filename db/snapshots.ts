import { randomUUID } from "node:crypto";

import type { Knex } from "knex";

import type { SnapshotStatus } from "../common/states";
import { conditionalUpdate, type Expected, type Updates } from "./conditional";
import { isUuid } from "./volumes";

export interface SnapshotRow {
  id: string;
  volume_id: string;
  name: string | null;
  description: string | null;
  status: SnapshotStatus;
  volume_size: number;
  project_id: string;
  user_id: string;
  progress: string | null;
  provider_location: string | null;
  /** The backend object's name when it is not the id's (a snapshot that moved with its volume). */
  name_id: string | null;
  metadata: Record<string, string>;
  created_at: Date;
  updated_at: Date | null;
  deleted: boolean;
  deleted_at: Date | null;
}

type Conn = Knex | Knex.Transaction;

export async function insertSnapshot(
  db: Conn,
  s: Pick<
    SnapshotRow,
    "volume_id" | "name" | "description" | "status" | "volume_size" | "project_id" | "user_id"
  > & {
    metadata?: Record<string, string>;
  },
): Promise<SnapshotRow> {
  const rows = (await db("snapshots")
    .insert({ id: randomUUID(), ...s, metadata: JSON.stringify(s.metadata ?? {}) })
    .returning("*")) as SnapshotRow[];
  return rows[0]!;
}

export async function getSnapshot(db: Conn, id: string): Promise<SnapshotRow | undefined> {
  if (!isUuid(id)) {
    return undefined;
  }
  return (await db("snapshots").where({ id, deleted: false }).first()) as SnapshotRow | undefined;
}

export async function listSnapshots(
  db: Conn,
  filter: {
    projectId?: string;
    volumeId?: string;
    name?: string;
    status?: string;
    /** Columns and directions, replacing the default newest-first order. */
    sort?: { key: string; dir: "asc" | "desc" }[];
  },
): Promise<SnapshotRow[]> {
  const qb = db("snapshots")
    .where({ deleted: false })
    .orderBy(
      (
        filter.sort ?? [
          { key: "created_at", dir: "desc" },
          { key: "id", dir: "desc" },
        ]
      ).map((s) => ({ column: s.key, order: s.dir })),
    );
  if (filter.projectId !== undefined) {
    qb.where("project_id", filter.projectId);
  }
  if (filter.volumeId !== undefined) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(filter.volumeId)) {
      return [];
    }
    qb.where("volume_id", filter.volumeId);
  }
  if (filter.name !== undefined) {
    qb.where("name", filter.name);
  }
  if (filter.status !== undefined) {
    qb.where("status", filter.status);
  }
  return (await qb) as SnapshotRow[];
}

export function updateSnapshotIf(
  db: Conn,
  id: string,
  values: Updates<SnapshotRow>,
  expected: Expected<SnapshotRow>,
): Promise<SnapshotRow | undefined> {
  return conditionalUpdate<SnapshotRow>(db, "snapshots", id, values, { deleted: false, ...expected });
}

export async function softDeleteSnapshot(db: Conn, id: string): Promise<void> {
  // Only a row already marked `deleting` (by a compare-and-swap) is retired.
  await db("snapshots")
    .where({ id, deleted: false, status: "deleting" })
    .update({ deleted: true, deleted_at: db.fn.now(), status: "deleted", updated_at: db.fn.now() });
}

/** Per project: number and total size of the live snapshots of volumes on a backend (any pool). */
export async function snapshotUsageOnHost(
  db: Conn,
  host: string,
): Promise<{ project_id: string; count: number; gigabytes: number }[]> {
  const like = `${host.replace(/[\\%_]/g, "\\$&")}#%`;
  const rows = (await db("snapshots")
    .join("volumes", "volumes.id", "snapshots.volume_id")
    .where("snapshots.deleted", false)
    .andWhere((w) => w.where("volumes.host", host).orWhere("volumes.host", "like", like))
    .groupBy("snapshots.project_id")
    .select(
      "snapshots.project_id",
      db.raw("count(*) AS count"),
      db.raw("coalesce(sum(snapshots.volume_size), 0) AS gigabytes"),
    )) as { project_id: string; count: string | number; gigabytes: string | number }[];
  return rows.map((r) => ({
    project_id: r.project_id,
    count: Number(r.count),
    gigabytes: Number(r.gigabytes),
  }));
}

/** The live snapshots of these volumes. */
export async function listSnapshotsOfVolumes(db: Conn, volumeIds: string[]): Promise<SnapshotRow[]> {
  if (volumeIds.length === 0) {
    return [];
  }
  return (await db("snapshots").where({ deleted: false }).whereIn("volume_id", volumeIds)) as SnapshotRow[];
}

/** Replace a snapshot's metadata; the row as it is afterwards. */
export async function setSnapshotMetadata(
  db: Conn,
  id: string,
  metadata: Record<string, string>,
): Promise<SnapshotRow | undefined> {
  const rows = (await db("snapshots")
    .where({ id, deleted: false })
    .update({ metadata: db.raw("?::jsonb", [JSON.stringify(metadata)]), updated_at: db.fn.now() })
    .returning("*")) as SnapshotRow[];
  return rows[0];
}
