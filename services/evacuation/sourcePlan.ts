/**
 * An evacuation's plan from the database: the source's live volumes (one query), the volume types
 * and the pools, handed to planEvacuation (plan.ts); and a planned item as a dry run shows it.
 */
import type { Knex } from "knex";

import { ENDED_EVACUATION_STATUSES, EvacuationItemState } from "../../common/states";
import type { NewEvacuation } from "../../db/evacuations";
import { listVolumeTypes } from "../../db/volumeTypes";
import { loadPools } from "../scheduler/backends";
import type { VolumeApiOptions } from "../volumeApi/lookup";
import { type Plan, planEvacuation, type PlanVolume } from "./plan";
import type { ItemLike } from "./progress";
import { covers, type EvacuationHosts } from "./spec";

/** Rows as the volumes query returns them (one query for the whole source). */
interface SourceVolumeRow {
  id: string;
  size: number;
  host: string;
  status: string;
  attach_status: string;
  migration_status: string | null;
  replication_status: string | null;
  consistencygroup_id: string | null;
  group_id: string | null;
  volume_type_id: string | null;
  created_at: Date;
  has_snapshots: boolean;
  evacuation_id: string | null;
}

/** The plan for resolved hosts: one query for the source's volumes, one for the volume types. */
export async function planFor(o: VolumeApiOptions, hosts: EvacuationHosts, e: NewEvacuation): Promise<Plan> {
  const { db, config } = o;
  const [volumes, types, pools] = await Promise.all([
    sourceVolumes(db, hosts),
    listVolumeTypes(db),
    loadPools(db, config.serviceDownTime),
  ]);
  const specs = new Map(types.map((t) => [t.id, t.extra_specs]));
  return planEvacuation({
    volumes: volumes.map((v): PlanVolume => ({
      id: v.id,
      size: Number(v.size),
      host: v.host,
      status: v.status,
      attach_status: v.attach_status,
      migration_status: v.migration_status,
      replication_status: v.replication_status,
      in_group: v.consistencygroup_id !== null || v.group_id !== null,
      has_snapshots: v.has_snapshots,
      evacuation_id: v.evacuation_id,
      created_at: v.created_at,
      extra_specs: (v.volume_type_id === null ? undefined : specs.get(v.volume_type_id)) ?? {},
    })),
    pools,
    source: hosts.source,
    destination: hosts.destination,
    order: e.order,
    includeInUse: e.include_in_use,
    snapshotsMove: config.migrateVolumesWithSnapshots,
  });
}

/**
 * Live volumes of the source (migration temp volumes are not volumes of their own), with whether
 * each has snapshots and which other evacuation, if any, has it pending or running.
 */
async function sourceVolumes(db: Knex, hosts: EvacuationHosts): Promise<SourceVolumeRow[]> {
  const backends = [...hosts.source.backends];
  const qb = db("volumes as v")
    .select(
      "v.id",
      "v.size",
      "v.host",
      "v.status",
      "v.attach_status",
      "v.migration_status",
      "v.replication_status",
      "v.consistencygroup_id",
      "v.group_id",
      "v.volume_type_id",
      "v.created_at",
      db.raw(
        "EXISTS (SELECT 1 FROM snapshots s WHERE s.volume_id = v.id AND s.deleted = false) AS has_snapshots",
      ),
      db.raw(
        "(SELECT ei.evacuation_id FROM evacuation_items ei JOIN evacuations e ON e.id = ei.evacuation_id " +
          `WHERE ei.volume_id = v.id AND ei.state IN (?, ?) AND e.status NOT IN (${ENDED_EVACUATION_STATUSES.map(() => "?").join(", ")}) ` +
          "LIMIT 1) AS evacuation_id",
        [EvacuationItemState.PENDING, EvacuationItemState.RUNNING, ...ENDED_EVACUATION_STATUSES],
      ),
    )
    .where("v.deleted", false)
    .whereNull("v.migration_target_of")
    .whereNotNull("v.host")
    .whereRaw(`split_part(v.host, '#', 1) IN (${backends.map(() => "?").join(", ")})`, backends);
  if (hosts.source.pool !== null) {
    qb.whereRaw("split_part(v.host, '#', 2) = ?", [hosts.source.pool]);
  }
  const rows = (await qb) as SourceVolumeRow[];
  // The SQL split matches covers(); keep the one definition authoritative.
  return rows.filter((v) => covers(hosts.source, v.host));
}

/** A planned item as a dry run shows it: nothing started. */
export function dryItem(i: Plan["items"][number]): ItemLike {
  return {
    volume_id: i.volume_id,
    size: i.size,
    from_host: i.from_host,
    to_host: i.to_host,
    state: i.state,
    reason: i.reason,
    migration_id: null,
    attempts: 0,
    bytes: null,
    started_at: null,
    finished_at: null,
  };
}
