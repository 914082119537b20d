import type { Db } from "../../../db/connection";
import { getMigration, recordProgress, updateMigrationIf } from "../../../db/migrationRecords";
import { getVolume, type VolumeRow } from "../../../db/volumes";
import type { VolumeDriver } from "../../../drivers/types";
import type { AppConfig, BackendConfig } from "../../common/config";
import { coerceError, VolumeMigrationFailed } from "../../common/errors";
import type { Logger } from "../../common/logger";
import { MigrationState } from "../../common/states";
import type { VolumeCopier } from "../../copy/types";
import type { VolumeRpc } from "../../rpc/stubs";
import { completeMigration, deleteRetiredSource } from "../completion";
import { createTempVolume, makeTempVolumeReady, rollBackMigration } from "./temp";
import { driverVolume } from "../driverViews";

export interface GenericFlowDeps {
  db: Db;
  config: AppConfig;
  backend: BackendConfig;
  driver: VolumeDriver;
  copier: VolumeCopier;
  volumeRpc: VolumeRpc;
  logger: Logger;
  signal: AbortSignal;
}

const GiB = 1024 ** 3;
/** Progress rows are written at most this often; the API reads them. */
const PROGRESS_WRITE_MS = 2000;

/**
 * Cinder's _migrate_volume_generic for an unattached volume: a temp volume on the destination
 * marked as target of the source, a verified copy, then the row swap that keeps the user-facing
 * id. Until the swap, any failure removes the temp volume and leaves the source as it was.
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
  try {
    temp = await createTempVolume(deps, migration, source, migration.dest_host);
    await makeTempVolumeReady(deps, temp);
    log.info({ temp_volume_id: temp.id }, "temp volume ready; copying");
    await copyAndVerify(deps, migrationId, source, temp);
  } catch (e) {
    const err = coerceError(e);
    log.error({ err }, "generic migration failed before completion; rolling back");
    await rollBackMigration(deps, { migrationId, sourceId: source.id, temp, err });
    throw err;
  }
  const retired = await completeMigration(db, { migrationId, sourceId: source.id, tempId: temp.id });
  log.info("migration complete; deleting the old data");
  await deleteRetiredSource(deps, retired);
}

async function copyAndVerify(
  deps: GenericFlowDeps,
  migrationId: string,
  source: VolumeRow,
  temp: VolumeRow,
): Promise<void> {
  const [src, dest] = await Promise.all([
    deps.driver.copyEndpoint(driverVolume(deps.config.volumeNameTemplate, source)),
    deps.volumeRpc.getCopyEndpoint(temp.host!, { volume_id: temp.id }),
  ]);
  let lastWrite = 0;
  let writing: Promise<void> = Promise.resolve();
  const result = await deps.copier.copy({
    source: src,
    dest,
    sizeBytes: source.size * GiB,
    blockSize: deps.config.volumeDdBlocksize,
    signal: deps.signal,
    onProgress: (p) => {
      const now = Date.now();
      if (now - lastWrite < PROGRESS_WRITE_MS && p.bytesDone < p.bytesTotal) {
        return;
      }
      lastWrite = now;
      writing = writing
        .then(() => recordProgress(deps.db, migrationId, { bytesDone: p.bytesDone, rateBps: p.rateBps }))
        .catch((e) => deps.logger.warn({ err: coerceError(e) }, "could not record progress"));
    },
  });
  await writing;
  await updateMigrationIf(
    deps.db,
    migrationId,
    { bytes_done: result.bytes, source_checksum: result.sourceSha256, dest_checksum: result.destSha256 },
    { state: MigrationState.MIGRATING },
  );
  if (result.sourceSha256 !== result.destSha256) {
    throw new VolumeMigrationFailed(
      `checksum mismatch: source ${result.sourceSha256}, destination ${result.destSha256}; the source is kept`,
    );
  }
}
