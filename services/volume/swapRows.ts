import type { Knex } from "knex";

import { coerceError, InternalError, InvalidVolume, VolumeMigrationFailed } from "../../common/errors";
import type { Logger } from "../../common/logger";
import { MigrationState, MigrationStatus, VolumeStatus } from "../../common/states";
import type { Db } from "../../db/connection";
import { getMigration, listMigrations, updateMigrationIf } from "../../db/migrationRecords";
import {
  getVolume,
  softDeleteVolume,
  updateVolumeIf,
  type VolumeRow,
  type VolumeUpdates,
} from "../../db/volumes";
import type { VolumeDriver, VolumeModelUpdate } from "../../drivers/types";
import { driverVolume } from "./driverViews";
import { rollBackMigration, type TempVolumeDeps } from "./flows/temp";

/**
 * Cinder's migrate_volume_completion + finish_volume_migration in one transaction: the source row
 * (the id users know) takes the destination's placement and backend name; the temp row becomes the
 * retired source, pointing at the old data, to be deleted on the old host. Returns the retired row.
 */
export async function completeMigration(
  db: Db,
  ids: { migrationId: string; sourceId: string; tempId: string },
  /** The destination's answer to update_migrated_volume; without it the temp's name is kept. */
  named?: VolumeModelUpdate,
  /** More rows that follow the volume, in the same transaction (its snapshots' rows). */
  within?: (trx: Knex.Transaction) => Promise<void>,
): Promise<VolumeRow> {
  return db.transaction(async (trx) => {
    const source = await cas(
      trx,
      ids.sourceId,
      { migration_status: MigrationStatus.COMPLETING },
      { migration_status: MigrationStatus.MIGRATING },
    );
    const temp = await getVolume(trx, ids.tempId);
    const migration = await getMigration(trx, ids.migrationId);
    if (!temp || temp.migration_target_of !== source.id || temp.status !== VolumeStatus.AVAILABLE) {
      throw new InternalError(`temp volume ${ids.tempId} is not an available target of ${source.id}`);
    }
    await cas(
      trx,
      source.id,
      {
        host: temp.host,
        availability_zone: temp.availability_zone,
        cluster_name: temp.cluster_name,
        name_id: named && "name_id" in named ? (named.name_id ?? null) : (temp.name_id ?? temp.id),
        provider_location:
          named && "provider_location" in named ? (named.provider_location ?? null) : temp.provider_location,
        // SQL evaluates the right-hand sides on the old row, so this swaps the two columns.
        status: trx.raw("coalesce(previous_status, status)"),
        previous_status: trx.raw("status"),
        migration_status: MigrationStatus.SUCCESS,
        // A retype's type flips in the same update as `success` (tempest waits on exactly that).
        volume_type_id: migration?.new_volume_type_id ?? source.volume_type_id,
      },
      { migration_status: MigrationStatus.COMPLETING },
    );
    const retired = await cas(
      trx,
      temp.id,
      {
        host: source.host,
        availability_zone: source.availability_zone,
        cluster_name: source.cluster_name,
        name_id: source.name_id ?? source.id,
        provider_location: source.provider_location,
        status: VolumeStatus.DELETING,
        migration_status: MigrationStatus.DELETING,
        migration_target_of: null,
        description: `migration src for ${source.id}`,
      },
      { migration_target_of: source.id },
    );
    await within?.(trx);
    await updateMigrationIf(
      trx,
      ids.migrationId,
      { state: MigrationState.SUCCESS, finished_at: trx.fn.now() },
      { state: MigrationState.MIGRATING },
    );
    return retired;
  });
}

async function cas(
  trx: Knex.Transaction,
  id: string,
  values: VolumeUpdates,
  expected: Partial<VolumeRow>,
): Promise<VolumeRow> {
  const row = await updateVolumeIf(trx, id, values, expected);
  if (!row) {
    throw new InternalError(
      `volume ${id} changed under the migration (expected ${JSON.stringify(expected)})`,
    );
  }
  return row;
}

/** The retired row now names the old data on this (the old) backend: delete it, then the row. */
export async function deleteRetiredSource(
  deps: { db: Db; driver: VolumeDriver; config: { volumeNameTemplate: string }; logger: Logger },
  retired: VolumeRow,
): Promise<void> {
  try {
    await deps.driver.deleteVolume(driverVolume(deps.config.volumeNameTemplate, retired));
    await softDeleteVolume(deps.db, retired.id);
  } catch (e) {
    deps.logger.error(
      { err: coerceError(e), volume_id: retired.id },
      "could not delete the migration source's old data",
    );
    await updateVolumeIf(
      deps.db,
      retired.id,
      { status: VolumeStatus.ERROR_DELETING },
      { status: VolumeStatus.DELETING },
    );
  }
}

export interface CompletionDeps extends TempVolumeDeps {
  driver: VolumeDriver;
}

/**
 * Nova's callback after a swap (os-migrate_volume_completion, Cinder's migrate_volume_completion on
 * the source's service). With error: the temp volume goes, the source is restored. Without: the
 * rows swap as in the generic flow (the attachments stay with the id Nova keeps), and the old
 * data is deleted in the background. Returns the id Nova must keep: always the source's.
 */
export async function finishComputeMigration(
  deps: CompletionDeps,
  req: { volumeId: string; newVolumeId: string; error: boolean },
): Promise<{ saveVolumeId: string; cleanup: Promise<void> }> {
  const migration = (await listMigrations(deps.db, { volumeId: req.volumeId })).find(
    (m) => m.state === MigrationState.MIGRATING && m.temp_volume_id === req.newVolumeId,
  );
  if (!migration) {
    throw new InvalidVolume("Source volume not mid-migration.");
  }
  if (req.error) {
    const temp = await getVolume(deps.db, req.newVolumeId);
    const err = new VolumeMigrationFailed("Nova reported that the swap failed");
    await rollBackMigration(deps, { migrationId: migration.id, sourceId: req.volumeId, temp, err });
    return { saveVolumeId: req.volumeId, cleanup: Promise.resolve() };
  }
  const retired = await completeMigration(deps.db, {
    migrationId: migration.id,
    sourceId: req.volumeId,
    tempId: req.newVolumeId,
  });
  return { saveVolumeId: req.volumeId, cleanup: deleteRetiredSource(deps, retired) };
}
