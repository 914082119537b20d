import { VolumeMigrationFailed } from "../../../common/errors";
import { MigrationState } from "../../../common/states";
import { readControls, updateMigrationIf } from "../../../db/migrationRecords";
import type { VolumeRow } from "../../../db/volumes";
import type { CopyCheckpoint } from "../../copy/types";
import { abortedError, cancelledByAdmin } from "../cancel";
import { driverVolume } from "../driverViews";
import { CopyMeter } from "./copyProgress";
import type { GenericFlowDeps } from "./genericDeps";

/**
 * The generic flow's copy: endpoints from both drivers, the copy engine, progress written to the
 * migrations row every second (CopyMeter), the row's bandwidth limit handed to the engine, and
 * the checksums compared before anything may retire the source.
 *
 * Cancel: `deps.signal` is this migration's own signal (migrationRunner.ts aborts it when the row
 * has cancel_requested_at). An abort before, during or right after the copy throws its reason, so
 * the flow rolls back with "cancelled by an administrator"; the row is read once more after the
 * copy so a cancel that landed during the last second still counts. Past this step (the
 * destination's rename and the row swap) a cancel is not honoured: the migration completes.
 *
 * Resume: every checkpoint the engine reports is written to the row before the engine goes on,
 * so a worker killed mid-copy restarts from the last one (`resumeFrom`, generic.ts).
 */
export async function copyAndVerify(
  deps: GenericFlowDeps,
  migrationId: string,
  source: VolumeRow,
  temp: VolumeRow,
  resumeFrom?: CopyCheckpoint,
): Promise<void> {
  deps.signal.throwIfAborted();
  const [src, dest] = await Promise.all([
    deps.driver.copyEndpoint(driverVolume(deps.config.volumeNameTemplate, source)),
    deps.volumeRpc.getCopyEndpoint(temp.host!, { volume_id: temp.id }),
  ]);
  // The source driver knows how many bytes the volume holds on its host (not always size GiB).
  const sizeBytes = src.sizeBytes;
  const meter = new CopyMeter(deps, migrationId, sizeBytes);
  if (resumeFrom) {
    // The row keeps showing the bytes the checkpoint covers rather than dropping back to 0.
    meter.onProgress({ bytesDone: resumeFrom.offset, bytesTotal: sizeBytes, rateBps: 0 });
  }
  await meter.begin();
  let result;
  try {
    result = await deps.copier.copy({
      source: src,
      dest,
      sizeBytes,
      blockSize: deps.config.volumeDdBlocksize,
      signal: deps.signal,
      onProgress: meter.onProgress,
      bpsLimit: meter.bpsLimit,
      resumeFrom,
      onCheckpoint: (cp) => saveCheckpoint(deps, migrationId, cp),
    });
  } catch (e) {
    throw abortedError(deps.signal, e);
  } finally {
    await meter.end();
  }
  deps.signal.throwIfAborted();
  const [control] = await readControls(deps.db, [migrationId]);
  if (control?.cancel_requested_at) {
    throw cancelledByAdmin(control.cancel_requested_at);
  }
  const last = await meter.end();
  await updateMigrationIf(
    deps.db,
    migrationId,
    {
      bytes_done: result.bytes,
      bytes_total: sizeBytes,
      rate_bps: last.rateBps > 0 ? last.rateBps : null,
      eta_seconds: 0,
      source_checksum: result.sourceSha256,
      dest_checksum: result.destSha256,
      ...(result.compression ? { compression: result.compression } : {}),
      ...(result.transport ? { transport: result.transport } : {}),
    },
    { state: MigrationState.MIGRATING },
  );
  if (result.sourceSha256 !== result.destSha256) {
    throw new VolumeMigrationFailed(
      `checksum mismatch: source ${result.sourceSha256}, destination ${result.destSha256}; the source is kept`,
    );
  }
}

/**
 * Persists a checkpoint; the engine awaits it, so no byte past a checkpoint the row does not hold
 * is relied on. A row no longer `migrating` (rolled back or reset meanwhile) stops the copy.
 */
async function saveCheckpoint(deps: GenericFlowDeps, migrationId: string, cp: CopyCheckpoint): Promise<void> {
  // updateMigrationIf writes it as JSON text cast to jsonb, as db/volumes.ts writes metadata.
  const saved = await updateMigrationIf(
    deps.db,
    migrationId,
    { checkpoint: cp },
    { state: MigrationState.MIGRATING },
  );
  if (!saved) {
    throw new VolumeMigrationFailed("the migration is no longer migrating; the copy stops");
  }
}
