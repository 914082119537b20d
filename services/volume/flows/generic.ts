import { coerceError, VolumeMigrationFailed } from "../../../common/errors";
import { VolumeStatus } from "../../../common/states";
import { getMigration, type MigrationRow } from "../../../db/migrationRecords";
import { getVolume, type VolumeRow } from "../../../db/volumes";
import type { VolumeModelUpdate } from "../../../drivers/types";
import { completeMigration, deleteRetiredSource } from "../swapRows";
import { copyAndVerify } from "./copyStep";
import type { GenericFlowDeps } from "./genericDeps";
import { createTempVolume, makeTempVolumeReady, rollBackMigration } from "./temp";

/**
 * Cinder's _migrate_volume_generic for an unattached volume: a temp volume on the destination
 * marked as target of the source, a verified copy, then the row swap that keeps the user-facing
 * id. Until the swap, any failure removes the temp volume and leaves the source as it was.
 * A migration a killed worker left with a checkpoint and its temp volume `available` (recovery.ts
 * "resume-copy") keeps that temp volume and copies on from the checkpoint.
 */
export async function runGenericMigration(deps: GenericFlowDeps, migrationId: string): Promise<void> {
  const { db, logger } = deps;
  const migration = await getMigration(db, migrationId);
  const source = migration ? await getVolume(db, migration.volume_id) : undefined;
  if (!migration || !source || !migration.dest_host) {
    throw new Error(`migration ${migrationId} has no volume or destination`);
  }
  const log = logger.child({ migration_id: migrationId, volume_id: source.id, dest: migration.dest_host });
  let temp: VolumeRow | undefined;
  let named: VolumeModelUpdate;
  try {
    // Set only when a restarted worker resumes this migration (it is recorded right after insert).
    temp = migration.temp_volume_id ? await getVolume(db, migration.temp_volume_id) : undefined;
    if (temp) {
      assertResumable(migration, temp, source.id);
      const offset = migration.checkpoint?.offset ?? 0;
      log.info({ temp_volume_id: temp.id, offset }, `resuming copy from offset ${offset}`);
    } else {
      temp = await createTempVolume(deps, migration, source, migration.dest_host);
      await makeTempVolumeReady(deps, temp);
      log.info({ temp_volume_id: temp.id }, "temp volume ready; copying");
    }
    await copyAndVerify(deps, migrationId, source, temp, migration.checkpoint ?? undefined);
    // Cinder asks the destination which name the data keeps before swapping the rows (LVM renames
    // the temp LV to the source's name; the temp row follows, so a rollback deletes the right LV).
    named = await deps.volumeRpc.updateMigratedVolume(temp.host!, {
      volume_id: source.id,
      new_volume_id: temp.id,
      original_status: source.previous_status ?? source.status,
    });
  } catch (e) {
    const err = coerceError(e);
    log.error({ err }, "generic migration failed before completion; rolling back");
    await rollBackMigration(deps, { migrationId, sourceId: source.id, temp, err });
    throw err;
  }
  const retired = await completeMigration(db, { migrationId, sourceId: source.id, tempId: temp.id }, named);
  log.info("migration complete; deleting the old data");
  await deleteRetiredSource(deps, retired);
}

/** A resumed copy goes on only into the temp volume it checkpointed; anything else rolls back. */
function assertResumable(migration: MigrationRow, temp: VolumeRow, sourceId: string): void {
  if (
    !migration.checkpoint ||
    temp.status !== VolumeStatus.AVAILABLE ||
    temp.migration_target_of !== sourceId
  ) {
    throw new VolumeMigrationFailed(
      `the interrupted copy cannot resume: temp volume ${temp.id} is ${temp.status}` +
        (migration.checkpoint ? "" : " and no checkpoint was recorded"),
    );
  }
}
