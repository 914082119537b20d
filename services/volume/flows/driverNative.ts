import type { AppConfig } from "../../../common/config";
import { coerceError, InternalError } from "../../../common/errors";
import { backendOf } from "../../../common/hosts";
import type { Logger } from "../../../common/logger";
import { MigrationFlow, MigrationState, MigrationStatus, ServiceBinary } from "../../../common/states";
import type { Db } from "../../../db/connection";
import { recordMigrationFailure } from "../../../db/migrationOutcome";
import { getMigration, updateMigrationIf } from "../../../db/migrationRecords";
import { listServices } from "../../../db/services";
import { getVolume, updateVolumeIf } from "../../../db/volumes";
import type { MigrationDestination, VolumeDriver } from "../../../drivers/types";
import { driverVolume } from "../driverViews";

export interface DriverFlowDeps {
  db: Db;
  config: AppConfig;
  driver: VolumeDriver;
  logger: Logger;
}

/**
 * The driver moves the volume itself (cinder/volume/manager.py migrate_volume, driver branch).
 * Returns false when the driver declines (`{moved: false}`): the caller continues with the
 * generic copy. A driver error ends the migration in `error`, with no fallback, as in Cinder.
 */
export async function runDriverMigration(
  deps: DriverFlowDeps,
  migrationId: string,
  dest: MigrationDestination,
): Promise<boolean> {
  const { db, driver } = deps;
  const migration = await getMigration(db, migrationId);
  const source = migration ? await getVolume(db, migration.volume_id) : undefined;
  if (!migration || !source || !driver.migrateVolume) {
    throw new InternalError(`migration ${migrationId} cannot run the driver flow`);
  }
  let result;
  try {
    result = await driver.migrateVolume(driverVolume(deps.config.volumeNameTemplate, source), dest);
  } catch (e) {
    const err = coerceError(e);
    deps.logger.error({ err, migration_id: migrationId }, "driver migration failed");
    await recordMigrationFailure(db, {
      volumeId: source.id,
      migrationId,
      from: MigrationStatus.MIGRATING,
      fromState: MigrationState.MIGRATING,
      error: err.message,
    });
    throw err;
  }
  if (!result.moved) {
    await updateMigrationIf(
      db,
      migrationId,
      { flow: MigrationFlow.GENERIC },
      { state: MigrationState.MIGRATING },
    );
    return false;
  }
  const [service] = await listServices(db, deps.config.serviceDownTime, {
    binary: ServiceBinary.VOLUME,
    host: backendOf(dest.host),
  });
  await db.transaction(async (trx) => {
    const moved = await updateVolumeIf(
      trx,
      source.id,
      {
        ...result.modelUpdate,
        host: dest.host,
        availability_zone: service?.availability_zone ?? source.availability_zone,
        cluster_name: service?.cluster_name ?? null,
        migration_status: MigrationStatus.SUCCESS,
        volume_type_id: migration.new_volume_type_id ?? source.volume_type_id,
        status: trx.raw("coalesce(previous_status, status)"),
        previous_status: trx.raw("status"),
      },
      { migration_status: MigrationStatus.MIGRATING },
    );
    if (!moved) {
      throw new InternalError(`volume ${source.id} left 'migrating' during a driver migration`);
    }
    await updateMigrationIf(
      trx,
      migrationId,
      { state: MigrationState.SUCCESS, bytes_done: 0, finished_at: trx.fn.now() },
      { state: MigrationState.MIGRATING },
    );
  });
  return true;
}
