import { randomUUID } from "node:crypto";

import type { Knex } from "knex";

import type { AttachStatus, MigrationStatus, VolumeStatus } from "../common/states";
import { conditionalUpdate, type Expected, jsonb, type Updates } from "./conditional";

export interface VolumeRow {
  id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: VolumeStatus;
  previous_status: VolumeStatus | null;
  attach_status: AttachStatus;
  migration_status: MigrationStatus | null;
  migration_target_of: string | null;
  name_id: string | null;
  host: string | null;
  cluster_name: string | null;
  availability_zone: string | null;
  volume_type_id: string | null;
  project_id: string;
  user_id: string;
  bootable: boolean;
  multiattach: boolean;
  encrypted: boolean;
  provider_location: string | null;
  provider_id: string | null;
  snapshot_id: string | null;
  source_volid: string | null;
  replication_status: string | null;
  consistencygroup_id: string | null;
  group_id: string | null;
  use_quota: boolean;
  metadata: Record<string, string>;
  created_at: Date;
  updated_at: Date | null;
  deleted: boolean;
  deleted_at: Date | null;
}

export type NewVolume = Pick<VolumeRow, "size" | "status" | "project_id" | "user_id"> & Partial<VolumeRow>;

type Conn = Knex | Knex.Transaction;

export async function insertVolume(db: Conn, volume: NewVolume): Promise<VolumeRow> {
  const rows = (await db("volumes")
    .insert({ id: randomUUID(), ...volume, metadata: JSON.stringify(volume.metadata ?? {}) })
    .returning("*")) as VolumeRow[];
  return rows[0]!;
}

/** A live (not soft-deleted) volume, or undefined. */
export async function getVolume(db: Conn, id: string): Promise<VolumeRow | undefined> {
  if (!isUuid(id)) {
    return undefined;
  }
  return (await db("volumes").where({ id, deleted: false }).first()) as VolumeRow | undefined;
}

/**
 * One live volume and the id and name of its (live) type, in one query: what a volume show needs
 * (issue 14 measured show as the API's hottest path; each query is a round trip to PostgreSQL).
 */
export async function getVolumeAndTypeName(
  db: Conn,
  id: string,
): Promise<{ volume: VolumeRow; typeName: string | null } | undefined> {
  if (!isUuid(id)) {
    return undefined;
  }
  const row = (await db("volumes")
    .leftJoin("volume_types", function (this: Knex.JoinClause) {
      this.on("volume_types.id", "volumes.volume_type_id").andOnVal("volume_types.deleted", false);
    })
    .select("volumes.*", { __type_name: "volume_types.name" })
    .where({ "volumes.id": id, "volumes.deleted": false })
    .first()) as (VolumeRow & { __type_name: string | null }) | undefined;
  if (!row) {
    return undefined;
  }
  const { __type_name: typeName, ...volume } = row;
  return { volume, typeName };
}

export interface VolumeFilter {
  projectId?: string;
  name?: string;
  status?: string;
  /** Hide migration temp volumes (Cinder's no_migration_targets for non-admin lists). */
  hideMigrationTargets?: boolean;
  limit?: number;
  /** Every key/value must be in the volume's metadata. */
  metadata?: Record<string, string>;
  bootable?: boolean;
  availabilityZone?: string;
  size?: number;
  host?: string;
  migrationStatus?: string;
  groupId?: string;
  /** Columns and directions, replacing the default newest-first order. */
  sort?: { key: string; dir: "asc" | "desc" }[];
}

export async function listVolumes(db: Conn, filter: VolumeFilter): Promise<VolumeRow[]> {
  const qb = db("volumes")
    .where({ deleted: false })
    .orderBy(
      (
        filter.sort ?? [
          { key: "created_at", dir: "desc" },
          { key: "id", dir: "desc" },
        ]
      ).map((s) => ({ column: s.key, order: s.dir })),
    );
  for (const [column, value] of [
    ["bootable", filter.bootable],
    ["availability_zone", filter.availabilityZone],
    ["size", filter.size],
    ["host", filter.host],
    ["migration_status", filter.migrationStatus],
    ["group_id", filter.groupId],
  ] as const) {
    if (value !== undefined) {
      qb.where(column, value);
    }
  }
  if (filter.metadata !== undefined) {
    qb.whereRaw("metadata @> ?::jsonb", [JSON.stringify(filter.metadata)]);
  }
  if (filter.projectId !== undefined) {
    qb.where("project_id", filter.projectId);
  }
  if (filter.name !== undefined) {
    qb.where("name", filter.name);
  }
  if (filter.status !== undefined) {
    qb.where("status", filter.status);
  }
  if (filter.hideMigrationTargets) {
    qb.whereNull("migration_target_of");
  }
  if (filter.limit !== undefined) {
    qb.limit(filter.limit);
  }
  return (await qb) as VolumeRow[];
}

/** A volume update: any column but the jsonb metadata may be a SQL expression; metadata is serialised here. */
export type VolumeUpdates = Updates<Omit<VolumeRow, "metadata">> & Partial<Pick<VolumeRow, "metadata">>;

export function updateVolumeIf(
  db: Conn,
  id: string,
  values: VolumeUpdates,
  expected: Expected<VolumeRow>,
  extra?: (qb: Knex.QueryBuilder) => void,
): Promise<VolumeRow | undefined> {
  const v: Updates<VolumeRow> = values.metadata
    ? { ...values, metadata: jsonb(db, values.metadata) }
    : values;
  return conditionalUpdate<VolumeRow>(db, "volumes", id, v, { deleted: false, ...expected }, extra);
}

/**
 * Lock a live volume row for the rest of the transaction (SELECT … FOR UPDATE): for changes that
 * also touch other tables (attachments), decided on the locked row and still written by a
 * compare-and-swap against what was read.
 */
export async function lockVolume(trx: Knex.Transaction, id: string): Promise<VolumeRow | undefined> {
  if (!isUuid(id)) {
    return undefined;
  }
  return (await trx("volumes").where({ id, deleted: false }).forUpdate().first()) as VolumeRow | undefined;
}

/** Per project: number and total size of the live volumes on a backend (`host@backend`, any pool). */
export async function volumeUsageOnHost(
  db: Conn,
  host: string,
): Promise<{ project_id: string; count: number; gigabytes: number }[]> {
  const rows = (await db("volumes")
    .where({ deleted: false })
    .andWhere((w) => w.where("host", host).orWhere("host", "like", `${host.replace(/[\\%_]/g, "\\$&")}#%`))
    .groupBy("project_id")
    .orderBy("project_id")
    .select("project_id", db.raw("count(*) AS count"), db.raw("coalesce(sum(size), 0) AS gigabytes"))) as {
    project_id: string;
    count: string | number;
    gigabytes: string | number;
  }[];
  return rows.map((r) => ({
    project_id: r.project_id,
    count: Number(r.count),
    gigabytes: Number(r.gigabytes),
  }));
}

/** Extra CAS condition: the volume has no live snapshot. */
export function noSnapshots(qb: Knex.QueryBuilder): void {
  qb.whereNotExists(function (this: Knex.QueryBuilder) {
    this.select(1)
      .from("snapshots")
      .whereRaw("snapshots.volume_id = volumes.id")
      .andWhere("snapshots.deleted", false);
  });
}

/** Soft delete, as Cinder does: the row stays for history with deleted = true and status `deleted`. */
export async function softDeleteVolume(db: Conn, id: string): Promise<void> {
  // Only a row already marked `deleting` (by a compare-and-swap) is retired.
  await db("volumes")
    .where({ id, deleted: false, status: "deleting" })
    .update({ deleted: true, deleted_at: db.fn.now(), status: "deleted", updated_at: db.fn.now() });
}

/** The backend name of a volume: template % (name_id or id), as Cinder's `Volume.name`. */
export function backendName(template: string, volume: Pick<VolumeRow, "id" | "name_id">): string {
  return template.replace("%s", volume.name_id ?? volume.id);
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** The live volumes (temp and retired rows too) placed on a backend (`host@backend`, any pool). */
export async function volumesOnBackend(db: Conn, backend: string): Promise<VolumeRow[]> {
  return (await db("volumes")
    .where({ deleted: false })
    .andWhere((w) =>
      w.where("host", backend).orWhere("host", "like", `${backend.replace(/[\\%_]/g, "\\$&")}#%`),
    )) as VolumeRow[];
}
