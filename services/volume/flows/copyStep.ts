import { recordProgress, updateMigrationIf } from "../../../db/migrationRecords";
import type { VolumeRow } from "../../../db/volumes";
import { VolumeMigrationFailed, coerceError } from "../../common/errors";
import { MigrationState } from "../../common/states";
import { driverVolume } from "../driverViews";
import type { GenericFlowDeps } from "./generic";

/** Progress rows are written at most this often; the API reads them. */
const PROGRESS_WRITE_MS = 2000;

/**
 * The generic flow's copy: endpoints from both drivers, the copy engine, progress written to the
 * migrations row, and the checksums compared before anything may retire the source.
 */
export async function copyAndVerify(
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
    // The source driver knows how many bytes the volume holds on its host.
    sizeBytes: src.sizeBytes,
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
