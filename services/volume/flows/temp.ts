import type { AppConfig } from "../../../common/config";
import { coerceError } from "../../../common/errors";
import { backendOf } from "../../../common/hosts";
import type { Logger } from "../../../common/logger";
import { MigrationState, MigrationStatus, ServiceBinary, VolumeStatus } from "../../../common/states";
import type { Db } from "../../../db/connection";
import { recordMigrationFailure } from "../../../db/migrationOutcome";
import { type MigrationRow, updateMigrationIf } from "../../../db/migrationRecords";
import { listServices } from "../../../db/services";
import { insertVolume, updateVolumeIf, type VolumeRow } from "../../../db/volumes";
import type { VolumeRpc } from "../../rpc/stubs";

/** The steps the generic and compute flows share: the temp volume on the destination and its removal. */
export interface TempVolumeDeps {
  db: Db;
  config: AppConfig;
  volumeRpc: VolumeRpc;
  logger: Logger;
}

const GiB = 1024 ** 3;

/**
 * Creates the temp volume row (target of the source) and records it on the migration. The caller
 * holds the row before anything else can fail, so a rollback always knows what to remove.
 */
export async function createTempVolume(
  deps: TempVolumeDeps,
  migration: Pick<MigrationRow, "id" | "new_volume_type_id">,
  source: VolumeRow,
  destHost: string,
): Promise<VolumeRow> {
  // A retype's temp volume already has the new type, as in Cinder's generic migration.
  const temp = await insertTempVolume(
    deps,
    source,
    destHost,
    migration.new_volume_type_id ?? source.volume_type_id,
  );
  await updateMigrationIf(
    deps.db,
    migration.id,
    { temp_volume_id: temp.id, bytes_total: source.size * GiB },
    { state: MigrationState.MIGRATING },
  );
  return temp;
}

/**
 * Has the destination's worker create the temp volume; resolves once it is `available`, bounded by
 * migration_create_volume_timeout_secs (where Cinder polls the row with growing sleeps).
 */
export async function makeTempVolumeReady(deps: TempVolumeDeps, temp: VolumeRow): Promise<void> {
  await deps.volumeRpc.createMigrationTarget(
    temp.host!,
    { volume_id: temp.id },
    deps.config.migrationCreateVolumeTimeoutSecs * 1000,
  );
}

async function insertTempVolume(
  deps: TempVolumeDeps,
  source: VolumeRow,
  destHost: string,
  volumeTypeId: string | null,
): Promise<VolumeRow> {
  const [service] = await listServices(deps.db, deps.config.serviceDownTime, {
    binary: ServiceBinary.VOLUME,
    host: backendOf(destHost),
  });
  // Same fields as the source except identity, placement and state (cinder/volume/manager.py);
  // the temp volume takes the destination's zone and does not count against quota.
  return insertVolume(deps.db, {
    name: source.name,
    description: source.description,
    size: source.size,
    status: VolumeStatus.CREATING,
    attach_status: "detached",
    project_id: source.project_id,
    user_id: source.user_id,
    volume_type_id: volumeTypeId,
    bootable: source.bootable,
    multiattach: source.multiattach,
    encrypted: source.encrypted,
    metadata: source.metadata,
    snapshot_id: source.snapshot_id,
    source_volid: source.source_volid,
    host: destHost,
    availability_zone: service?.availability_zone ?? source.availability_zone,
    migration_target_of: source.id,
    use_quota: false,
  });
}

/** Source back to how it was (migration_status `error`, a locked volume unlocked); temp volume removed. */
export async function rollBackMigration(
  deps: TempVolumeDeps,
  r: { migrationId: string; sourceId: string; temp: VolumeRow | undefined; err: Error },
): Promise<void> {
  await recordMigrationFailure(deps.db, {
    volumeId: r.sourceId,
    migrationId: r.migrationId,
    from: MigrationStatus.MIGRATING,
    fromState: MigrationState.MIGRATING,
    error: r.err.message,
  });
  if (r.temp) {
    await removeTempVolume(deps, r.sourceId, r.temp);
  }
}

/** Marks the temp volume `deleting` (only while it is still the source's target) and has its worker delete it. */
export async function removeTempVolume(
  deps: TempVolumeDeps,
  sourceId: string,
  temp: VolumeRow,
): Promise<void> {
  try {
    const deleting = await updateVolumeIf(
      deps.db,
      temp.id,
      { status: VolumeStatus.DELETING },
      { migration_target_of: sourceId },
    );
    if (deleting) {
      await deps.volumeRpc.deleteVolume(temp.host!, { volume_id: temp.id });
    }
  } catch (e) {
    deps.logger.error({ err: coerceError(e), temp_volume_id: temp.id }, "could not remove the temp volume");
  }
}
