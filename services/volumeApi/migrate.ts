/**
 * os-migrate_volume as the API process runs it (cinder/volume/api.py `migrate_volume`), in
 * Cinder's order: policy → host/cluster presence → destination service (by host, or by cluster
 * from 3.16) → compare-and-swap on the volume row → cast to the scheduler. The CAS and the
 * `migrations` row are one transaction, so a refused request changes nothing and an accepted one
 * is always recorded. An evacuation starts its migrations through the same function
 * (`MigrateOptions`), recording its own bookkeeping in that transaction too.
 */
import type { Knex } from "knex";

import { coerceError, InvalidHost, InvalidInput, InvalidVolume } from "../../common/errors";
import { backendOf, poolOf } from "../../common/hosts";
import {
  IDLE_MIGRATION_STATUSES,
  MigrationState,
  MigrationStatus,
  ServiceBinary,
  VolumeStatus,
} from "../../common/states";
import { recordMigrationFailure } from "../../db/migrationOutcome";
import { insertMigration, type MigrationRow } from "../../db/migrationRecords";
import { listServices } from "../../db/services";
import { snapshotsMayMove } from "../../db/snapshotMoves";
import { updateVolumeIf, type VolumeRow, type VolumeUpdates } from "../../db/volumes";
import { SchedulerRpc } from "../rpc/stubs";
import { AdminPolicy, authorize, type Caller } from "./caller";
import type { VolumeApiOptions } from "./lookup";

export interface MigrateRequest {
  host: string | null;
  cluster: string | null;
  forceHostCopy: boolean;
  lockVolume: boolean;
  /** The request's microversion allows `cluster` (≥ 3.16). */
  clusterAllowed: boolean;
}

/** What an evacuation adds to a migration it starts (os-migrate_volume passes none of it). */
export interface MigrateOptions {
  /** Recorded on the migrations row. */
  evacuationId?: string;
  /** The migration's own copy limit in bytes/s (null or absent: the backend's). */
  bpsLimit?: number | null;
  /**
   * Runs inside the transaction of the volume's compare-and-swap and the migrations insert, after
   * both: what it writes commits with them, and if it throws nothing is recorded, the volume is
   * left as it was, nothing is cast, and its error is what migrateVolume throws.
   */
  within?: (trx: Knex.Transaction, migration: MigrationRow) => Promise<void>;
}

function refused(volumeId: string): InvalidVolume {
  return new InvalidVolume(
    `Volume ${volumeId} status must be available or in-use, must not be migrating, have snapshots, ` +
      "be replicated, be part of a group and destination host/cluster must be different than the current one",
  );
}

/** Cinder's `common.get_cluster_host`: exactly one destination, worded by microversion. */
function destination(r: MigrateRequest): { host: string | null; cluster: string | null } {
  const cluster = r.clusterAllowed ? r.cluster : null;
  if (Boolean(cluster) === Boolean(r.host)) {
    throw new InvalidInput(
      r.clusterAllowed ? "One and only one of cluster and host must be set." : "Host field is missing.",
    );
  }
  return { host: r.host || null, cluster: cluster || null };
}

/**
 * The service the destination names (Cinder's `Service.get_by_id(..., is_up=True, disabled=False,
 * host=… or cluster_name=…)`, pool stripped), and where the migration goes. A host that belongs to
 * a cluster becomes a cluster migration, as in Cinder, but keeps its `#pool` (the scheduler accepts
 * `cluster@backend#pool`).
 */
async function resolveDestination(
  o: VolumeApiOptions,
  dest: { host: string | null; cluster: string | null },
): Promise<{ backend: string; cluster: boolean }> {
  const sent = (dest.cluster ?? dest.host)!;
  const services = await listServices(o.db, o.config.serviceDownTime, {
    binary: ServiceBinary.VOLUME,
    ...(dest.cluster !== null ? { clusterName: backendOf(sent) } : { host: backendOf(sent) }),
  });
  const svc = services.find((s) => s.is_up && !s.disabled);
  if (!svc) {
    throw new InvalidHost(`No available service named '${sent}'`);
  }
  if (svc.cluster_name === null) {
    return { backend: sent, cluster: false };
  }
  const pool = poolOf(sent);
  return { backend: pool === null ? svc.cluster_name : `${svc.cluster_name}#${pool}`, cluster: true };
}

/**
 * Cinder's "destination must be different than the current one" (`host != :host`, or
 * `cluster_name != :cluster`), by backend and pool: a destination without a pool names the whole
 * backend, so `node@lvm` is where a `node@lvm#lvm` volume already is. Cinder compares the raw
 * strings, lets that through and the copy then fails or writes onto itself.
 */
function notAlreadyThere(qb: Knex.QueryBuilder, backend: string, cluster: boolean): void {
  const target = backendOf(backend);
  const pool = poolOf(backend);
  // NULL hosts fail this, as Cinder's `host != :host` does.
  qb.whereNotNull("volumes.host");
  qb.whereNot((w) => {
    w.where((at) => {
      at.whereRaw("split_part(volumes.host, '#', 1) = ?", [target]);
      if (cluster) {
        at.orWhereRaw("split_part(coalesce(volumes.cluster_name, ''), '#', 1) = ?", [target]);
      }
    });
    if (pool !== null) {
      w.whereRaw("split_part(volumes.host, '#', 2) = ?", [pool]);
    }
  });
}

export async function migrateVolume(
  o: VolumeApiOptions,
  caller: Caller,
  volume: VolumeRow,
  r: MigrateRequest,
  opts: MigrateOptions = {},
): Promise<MigrationRow> {
  authorize(caller, AdminPolicy.MIGRATE_VOLUME);
  const dest = destination(r);
  const { backend, cluster } = await resolveDestination(o, dest);

  const migration = await o.db.transaction(async (trx) => {
    const row = await updateVolumeIf(
      trx,
      volume.id,
      casValues(trx, r.lockVolume),
      {
        status: [VolumeStatus.AVAILABLE, VolumeStatus.IN_USE],
        migration_status: IDLE_MIGRATION_STATUSES,
        migration_target_of: null,
        replication_status: [null, "disabled", "not-capable"],
        consistencygroup_id: null,
        group_id: null,
      },
      (qb) => {
        snapshotsMayMove(o.config.migrateVolumesWithSnapshots)(qb);
        notAlreadyThere(qb, backend, cluster);
      },
    );
    if (!row) {
      throw refused(volume.id);
    }
    const inserted = await insertMigration(trx, {
      volume_id: volume.id,
      source_host: row.host!,
      requested_dest: (dest.cluster ?? dest.host)!,
      force_host_copy: r.forceHostCopy,
      lock_volume: r.lockVolume,
      user_id: caller.userId,
      ...(opts.evacuationId === undefined ? {} : { evacuation_id: opts.evacuationId }),
      ...(opts.bpsLimit === undefined ? {} : { bps_limit: opts.bpsLimit }),
    });
    await opts.within?.(trx, inserted);
    return inserted;
  });

  try {
    await new SchedulerRpc(o.bus).migrateVolume({
      volume_id: volume.id,
      migration_id: migration.id,
      backend,
      force_host_copy: r.forceHostCopy,
    });
  } catch (err) {
    await abandon(o, migration, coerceError(err));
    throw err;
  }
  o.logger.info({ volumeId: volume.id, migrationId: migration.id, dest: backend }, "migration accepted");
  return migration;
}

/**
 * The CAS updates, computed from the row being updated (not from our earlier read): the old status
 * becomes previous_status, and lock_volume turns only an `available` volume into `maintenance`.
 */
function casValues(trx: Knex.Transaction, lockVolume: boolean): VolumeUpdates {
  const values: VolumeUpdates = {
    migration_status: MigrationStatus.STARTING,
    previous_status: trx.raw("??", ["status"]),
  };
  if (lockVolume) {
    values.status = trx.raw("CASE WHEN ?? = ? THEN ? ELSE ?? END", [
      "status",
      VolumeStatus.AVAILABLE,
      VolumeStatus.MAINTENANCE,
      "status",
    ]);
  }
  return values;
}

/** The cast never left: no scheduler will move this volume, so undo `starting` and record why. */
async function abandon(o: VolumeApiOptions, migration: MigrationRow, err: Error): Promise<void> {
  o.logger.error({ err, migrationId: migration.id }, "could not cast migrate_volume to the scheduler");
  await recordMigrationFailure(o.db, {
    volumeId: migration.volume_id,
    migrationId: migration.id,
    from: MigrationStatus.STARTING,
    fromState: MigrationState.STARTING,
    error: err.message,
  });
}
