/**
 * os-migrate_volume as the API process runs it (cinder/volume/api.py `migrate_volume`), in
 * Cinder's order: policy → host/cluster presence → destination service → compare-and-swap on
 * the volume row → cast to the scheduler. The CAS and the `migrations` row are one transaction,
 * so a refused request changes nothing and an accepted one is always recorded.
 */
import type { Knex } from "knex";

import { insertMigration, type MigrationRow } from "../../../db/migrationRecords";
import { recordMigrationFailure } from "../../../db/migrationOutcome";
import { listServices } from "../../../db/services";
import { noSnapshots, updateVolumeIf, type VolumeRow } from "../../../db/volumes";
import { coerceError, InvalidHost, InvalidInput, InvalidVolume } from "../../common/errors";
import { backendOf, poolOf } from "../../common/hosts";
import {
  IDLE_MIGRATION_STATUSES,
  MigrationState,
  MigrationStatus,
  ServiceBinary,
  VolumeStatus,
} from "../../common/states";
import { SchedulerRpc } from "../../rpc/stubs";
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

export async function migrateVolume(
  o: VolumeApiOptions,
  caller: Caller,
  volume: VolumeRow,
  r: MigrateRequest,
): Promise<MigrationRow> {
  authorize(caller, AdminPolicy.MIGRATE_VOLUME);
  const dest = destination(r);
  if (dest.cluster !== null) {
    // Clusters are not modelled yet: no cluster has an available service.
    throw new InvalidHost(`No available service named '${dest.cluster}'`);
  }
  const host = dest.host!;
  const services = await listServices(o.db, o.config.serviceDownTime, {
    binary: ServiceBinary.VOLUME,
    host: backendOf(host),
  });
  if (!services.some((s) => s.is_up && !s.disabled)) {
    throw new InvalidHost(`No available service named '${host}'`);
  }

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
        noSnapshots(qb);
        // NULL hosts fail this too, as Cinder's `host != :host` does.
        qb.whereNot("volumes.host", host);
        if (poolOf(host) === null) {
          // Beyond Cinder: `node@lvm` names the backend a `node@lvm#pool` volume already is on; Cinder
          // lets it through and the copy then fails or writes onto itself.
          qb.whereRaw("split_part(volumes.host, '#', 1) <> ?", [host]);
        }
      },
    );
    if (!row) {
      throw refused(volume.id);
    }
    return insertMigration(trx, {
      volume_id: volume.id,
      source_host: row.host!,
      requested_dest: host,
      force_host_copy: r.forceHostCopy,
      lock_volume: r.lockVolume,
      user_id: caller.userId,
    });
  });

  try {
    await new SchedulerRpc(o.bus).migrateVolume({
      volume_id: volume.id,
      migration_id: migration.id,
      backend: host,
      force_host_copy: r.forceHostCopy,
    });
  } catch (err) {
    await abandon(o, migration, coerceError(err));
    throw err;
  }
  o.logger.info({ volumeId: volume.id, migrationId: migration.id, dest: host }, "migration accepted");
  return migration;
}

/**
 * The CAS updates, computed from the row being updated (not from our earlier read): the old status
 * becomes previous_status, and lock_volume turns only an `available` volume into `maintenance`.
 */
function casValues(trx: Knex.Transaction, lockVolume: boolean): Partial<VolumeRow> {
  const values: Record<string, unknown> = {
    migration_status: MigrationStatus.STARTING,
    previous_status: trx.raw("??", ["status"]),
  };
  if (lockVolume) {
    values["status"] = trx.raw("CASE WHEN ?? = ? THEN ? ELSE ?? END", [
      "status",
      VolumeStatus.AVAILABLE,
      VolumeStatus.MAINTENANCE,
      "status",
    ]);
  }
  return values as Partial<VolumeRow>;
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
