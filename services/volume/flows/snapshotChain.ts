import { createHash } from "node:crypto";

import { VolumeMigrationFailed } from "../../../common/errors";
import { readControls } from "../../../db/migrationRecords";
import type { SnapshotRow } from "../../../db/snapshots";
import type { VolumeRow } from "../../../db/volumes";
import type { CopyEndpoint } from "../../../drivers/types";
import { combineDigests, type CopyProgress, type VolumeCopier } from "../../copy";
import { CHANGE_CHUNK_BYTES, changedRanges } from "../../copy/ranges";
import type { SnapshotMoveRpc } from "../../rpc/stubs";
import { abortedError, cancelledByAdmin } from "../cancel";
import { driverSnapshot, driverVolume } from "../driverViews";
import { CopyMeter } from "./copyProgress";
import type { GenericFlowDeps } from "./genericDeps";

/** A snapshot made on the destination: the source snapshot's id and the destination object's name id. */
export interface MovedSnapshot {
  id: string;
  nameId: string;
}

export interface ChainWork {
  migrationId: string;
  source: VolumeRow;
  temp: VolumeRow;
  /** The source's snapshots, oldest first. */
  chain: SnapshotRow[];
  snapshotRpc: SnapshotMoveRpc;
  /** Filled as destination snapshots are asked for, so a rollback removes every one of them. */
  made: MovedSnapshot[];
}

/** sha256 over a state's chunk digests: the checksum recorded for the volume (both sides). */
export interface ChainChecksums {
  source: string;
  dest: string;
}

/**
 * The destination object's name id of a moved snapshot: derived from the migration and the
 * snapshot, so a rollback after a crash (recovery.ts) finds what the migration made without any
 * record of it, and two attempts never share a name.
 */
export function movedSnapshotNameId(migrationId: string, snapshotId: string): string {
  const h = createHash("sha256").update(`${migrationId}/${snapshotId}`).digest("hex");
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Rebuilds the source's snapshot chain in the temp volume, oldest first: the oldest snapshot's
 * content is copied whole, then the temp volume is snapshotted; for each later state (the next
 * snapshot, at last the volume itself) only the chunks whose sha256 differs from the state before
 * (both hashed on the source host) are written before the next snapshot. Unchanged chunks are
 * never written, so on a thin pool they stay shared between the destination's snapshots. Then
 * every destination snapshot and the temp volume are hashed on their host and compared with the
 * source's digests: nothing of the source may go before all of them match.
 */
export async function rebuildChain(deps: GenericFlowDeps, w: ChainWork): Promise<ChainChecksums> {
  const { copier, driver, config } = deps;
  if (!copier.chunkDigests || !driver.snapshotCopyEndpoint) {
    throw new VolumeMigrationFailed("this backend cannot move snapshots (no snapshot reader)");
  }
  const volumeEp = await driver.copyEndpoint(driverVolume(config.volumeNameTemplate, w.source));
  const sizeBytes = volumeEp.sizeBytes;
  const stages: { snapshot: SnapshotRow | null; endpoint: CopyEndpoint }[] = [];
  for (const s of w.chain) {
    const endpoint = await driver.snapshotCopyEndpoint(driverSnapshot(config.snapshotNameTemplate, s));
    if (endpoint.sizeBytes !== sizeBytes) {
      throw new VolumeMigrationFailed(
        `snapshot ${s.id} holds ${endpoint.sizeBytes} bytes and its volume ${sizeBytes} (extended since); it cannot move with it`,
      );
    }
    stages.push({ snapshot: s, endpoint });
  }
  stages.push({ snapshot: null, endpoint: volumeEp });
  const dest = await deps.volumeRpc.getCopyEndpoint(w.temp.host!, { volume_id: w.temp.id });
  const digest = (ep: CopyEndpoint): Promise<string[]> =>
    copier.chunkDigests!(ep, {
      sizeBytes,
      chunkBytes: CHANGE_CHUNK_BYTES,
      blockSize: config.volumeDdBlocksize,
      signal: deps.signal,
    });

  const meter = new CopyMeter(deps, w.migrationId, sizeBytes * stages.length);
  await meter.begin();
  const expected: string[][] = [];
  try {
    let previous: string[] | null = null;
    for (const [i, stage] of stages.entries()) {
      await stopIfCancelled(deps, w.migrationId);
      const digests = await digest(stage.endpoint);
      const ranges = changedRanges(previous, digests, CHANGE_CHUNK_BYTES, sizeBytes);
      const base = i * sizeBytes;
      if (ranges.length > 0) {
        await copyStage(deps, copier, {
          // A first copy lands on a new volume (sparse where the driver says so); later ones only
          // write what changed, zeros included.
          source: previous === null ? stage.endpoint : { ...stage.endpoint, mapsData: false },
          dest,
          sizeBytes,
          ranges: previous === null ? undefined : ranges,
          onProgress: (p) =>
            meter.onProgress({ ...p, bytesDone: base + p.bytesDone, bytesTotal: sizeBytes * stages.length }),
          bpsLimit: meter.bpsLimit,
        });
      }
      deps.logger.info(
        {
          migration_id: w.migrationId,
          snapshot_id: stage.snapshot?.id ?? null,
          changed_bytes: ranges.reduce((n, r) => n + r.length, 0),
        },
        stage.snapshot ? "snapshot state written; snapshotting the temp volume" : "volume state written",
      );
      if (stage.snapshot) {
        const made = { id: stage.snapshot.id, nameId: movedSnapshotNameId(w.migrationId, stage.snapshot.id) };
        w.made.push(made);
        await w.snapshotRpc.createMigrationSnapshot(w.temp.host!, {
          volume_id: w.temp.id,
          snapshot_id: made.id,
          name_id: made.nameId,
        });
      }
      meter.onProgress({ bytesDone: base + sizeBytes, bytesTotal: sizeBytes * stages.length, rateBps: 0 });
      expected.push(digests);
      previous = digests;
    }
  } catch (e) {
    throw abortedError(deps.signal, e);
  } finally {
    await meter.end();
  }
  return verifyChain(deps, w, { expected, dest, digest });
}

/** Every destination snapshot and the temp volume, hashed on their host, against the source's digests. */
async function verifyChain(
  deps: GenericFlowDeps,
  w: ChainWork,
  v: { expected: string[][]; dest: CopyEndpoint; digest: (ep: CopyEndpoint) => Promise<string[]> },
): Promise<ChainChecksums> {
  for (const [i, made] of w.made.entries()) {
    await stopIfCancelled(deps, w.migrationId);
    const ep = await w.snapshotRpc.getSnapshotCopyEndpoint(w.temp.host!, {
      snapshot_id: made.id,
      name_id: made.nameId,
    });
    compare(`snapshot ${made.id}`, v.expected[i]!, await v.digest(ep));
  }
  const volumeDigests = await v.digest(v.dest);
  const source = v.expected.at(-1)!;
  compare(`volume ${w.source.id}`, source, volumeDigests);
  return { source: combineDigests(source), dest: combineDigests(volumeDigests) };
}

function compare(what: string, source: string[], dest: string[]): void {
  const differs = source.findIndex((d, i) => dest[i] !== d);
  if (differs >= 0 || source.length !== dest.length) {
    throw new VolumeMigrationFailed(
      `checksum mismatch: ${what} differs on the destination (chunk ${differs >= 0 ? differs : source.length}); the source is kept`,
    );
  }
}

async function copyStage(
  deps: GenericFlowDeps,
  copier: VolumeCopier,
  s: {
    source: CopyEndpoint;
    dest: CopyEndpoint;
    sizeBytes: number;
    ranges: ReturnType<typeof changedRanges> | undefined;
    onProgress: (p: CopyProgress) => void;
    bpsLimit: () => number | null;
  },
): Promise<void> {
  const result = await copier.copy({
    source: s.source,
    dest: s.dest,
    sizeBytes: s.sizeBytes,
    blockSize: deps.config.volumeDdBlocksize,
    signal: deps.signal,
    onProgress: s.onProgress,
    bpsLimit: s.bpsLimit,
    ...(s.ranges ? { ranges: s.ranges } : {}),
  });
  if (result.sourceSha256 !== result.destSha256) {
    throw new VolumeMigrationFailed(
      `checksum mismatch: source ${result.sourceSha256}, destination ${result.destSha256}; the source is kept`,
    );
  }
}

/** An administrator's cancel is honoured between the chain's steps (the copy itself stops on the signal). */
async function stopIfCancelled(deps: GenericFlowDeps, migrationId: string): Promise<void> {
  deps.signal.throwIfAborted();
  const [control] = await readControls(deps.db, [migrationId]);
  if (control?.cancel_requested_at) {
    throw cancelledByAdmin(control.cancel_requested_at);
  }
}
