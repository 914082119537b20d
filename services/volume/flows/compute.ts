import { coerceError, InternalError, VolumeMigrationFailed } from "../../../common/errors";
import { AttachStatus } from "../../../common/states";
import { listAttachments } from "../../../db/attachments";
import { getMigration } from "../../../db/migrationRecords";
import { getVolume, type VolumeRow } from "../../../db/volumes";
import type { ComputeClient } from "../../compute/nova";
import { createTempVolume, makeTempVolumeReady, rollBackMigration, type TempVolumeDeps } from "./temp";

export interface ComputeFlowDeps extends TempVolumeDeps {
  nova: ComputeClient | null;
}

/**
 * An attached volume can only be moved by the hypervisor that uses it (cinder/volume/manager.py
 * _migrate_volume_generic, attached branch): a temp volume on the destination, then Nova's swap
 * volume for each attachment. Nova copies the data, pivots the guest and calls
 * os-migrate_volume_completion, which finishes the migration (completion.ts); until then the
 * migration stays `migrating`, bounded by [nova] swap_timeout_secs (recovery.ts).
 */
export async function runComputeMigration(deps: ComputeFlowDeps, migrationId: string): Promise<void> {
  const migration = await getMigration(deps.db, migrationId);
  const source = migration ? await getVolume(deps.db, migration.volume_id) : undefined;
  if (!migration || !source || !migration.dest_host) {
    throw new InternalError(`migration ${migrationId} has no volume or destination`);
  }
  let temp: VolumeRow | undefined;
  try {
    if (!deps.nova) {
      throw new VolumeMigrationFailed(
        `volume ${source.id} is attached; moving it needs Nova's swap volume and [nova] endpoint_override is not set`,
      );
    }
    temp = await createTempVolume(deps, migration, source, migration.dest_host);
    await makeTempVolumeReady(deps, temp);
    const attachments = (await listAttachments(deps.db, [source.id])).filter(
      (a) => a.attach_status === AttachStatus.ATTACHED && a.instance_uuid,
    );
    if (attachments.length === 0) {
      throw new VolumeMigrationFailed(`volume ${source.id} has no attachment to a server to swap`);
    }
    for (const a of attachments) {
      await deps.nova.swapVolume(a.instance_uuid!, source.id, temp.id);
    }
    deps.logger.info({ migration_id: migrationId, temp_volume_id: temp.id }, "Nova is swapping the volume");
  } catch (e) {
    const err = coerceError(e);
    deps.logger.error({ err, migration_id: migrationId }, "compute-assisted migration failed; rolling back");
    await rollBackMigration(deps, { migrationId, sourceId: source.id, temp, err });
    throw err;
  }
}
