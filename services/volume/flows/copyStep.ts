import { readControls, updateMigrationIf } from "../../../db/migrationRecords";
import type { VolumeRow } from "../../../db/volumes";
import { VolumeMigrationFailed } from "../../common/errors";
import { MigrationState } from "../../common/states";
import { abortedError, cancelledByAdmin } from "../cancel";
import { driverVolume } from "../driverViews";
import { CopyMeter } from "./copyProgress";
import type { GenericFlowDeps } from "./generic";

const GiB = 1024 ** 3;

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
 */
export async function copyAndVerify(
  deps: GenericFlowDeps,
  migrationId: string,
  source: VolumeRow,
  temp: VolumeRow,
): Promise<void> {
  deps.signal.throwIfAborted();
  const [src, dest] = await Promise.all([
    deps.driver.copyEndpoint(driverVolume(deps.config.volumeNameTemplate, source)),
    deps.volumeRpc.getCopyEndpoint(temp.host!, { volume_id: temp.id }),
  ]);
  const sizeBytes = source.size * GiB;
  const meter = new CopyMeter(deps, migrationId, sizeBytes);
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
