/**
 * "Ranges to copy": which parts of a volume differ between two of its states, from per-chunk
 * digests computed on the host that holds them (segmentDigests.sh), and the engine's segments for
 * copying only those parts. Pure, so it is unit-tested on its own.
 */
import { VolumeMigrationFailed } from "../../common/errors";
import type { Segment } from "./plan";
import type { ByteRange } from "./types";

export type { ByteRange };

/**
 * The granularity at which a snapshot chain is compared and rebuilt: a chunk whose digest is
 * unchanged is not written, so on a thin pool it stays shared with the snapshot before it.
 * 4 MiB: a multiple of any volume_dd_blocksize up to 4M and of thin pools' chunk sizes (64 KiB
 * to 1 MiB by default), small enough that a scattered change rewrites little, large enough that
 * hashing a 1 TiB volume is 262,144 chunks.
 */
export const CHANGE_CHUNK_BYTES = 4 * 1024 * 1024;

/** The chunks a volume of `sizeBytes` is compared in: the last one may be shorter. */
export function chunkCount(sizeBytes: number, chunkBytes: number): number {
  return Math.ceil(sizeBytes / chunkBytes);
}

/**
 * The ranges whose chunk digests differ between `before` and `after` (the same volume size and
 * chunk size), adjacent changed chunks merged into one range. Null `before` means everything.
 */
export function changedRanges(
  before: readonly string[] | null,
  after: readonly string[],
  chunkBytes: number,
  sizeBytes: number,
): ByteRange[] {
  if (after.length !== chunkCount(sizeBytes, chunkBytes)) {
    throw new VolumeMigrationFailed(
      `${after.length} chunk digests for ${sizeBytes} bytes in chunks of ${chunkBytes}`,
    );
  }
  if (before !== null && before.length !== after.length) {
    throw new VolumeMigrationFailed(`chunk digests of ${before.length} and ${after.length} chunks differ`);
  }
  const out: ByteRange[] = [];
  after.forEach((digest, i) => {
    if (before !== null && before[i] === digest) {
      return;
    }
    const offset = i * chunkBytes;
    const length = Math.min(chunkBytes, sizeBytes - offset);
    const last = out.at(-1);
    if (last && last.offset + last.length === offset) {
      last.length += length;
    } else {
      out.push({ offset, length });
    }
  });
  return out;
}

/**
 * The engine's segments for copying only `ranges`: each range cut into pieces of at most
 * `segmentBytes` (whole blocks), in order. Every range must start on a block boundary and be
 * whole blocks long, except one that ends the volume.
 */
export function planRanges(
  ranges: readonly ByteRange[],
  sizeBytes: number,
  blockBytes: number,
  segmentBytes: number,
): Segment[] {
  const seg = Math.max(blockBytes, Math.floor(segmentBytes / blockBytes) * blockBytes);
  const out: Segment[] = [];
  let previousEnd = 0;
  for (const r of ranges) {
    const end = r.offset + r.length;
    const aligned = r.offset % blockBytes === 0 && (r.length % blockBytes === 0 || end === sizeBytes);
    if (!aligned || r.length <= 0 || r.offset < previousEnd || end > sizeBytes) {
      throw new VolumeMigrationFailed(
        `range ${r.offset}+${r.length} is not whole blocks of ${blockBytes} in order within ${sizeBytes} bytes`,
      );
    }
    for (let offset = r.offset; offset < end; offset += seg) {
      out.push({ index: out.length, offset, length: Math.min(seg, end - offset) });
    }
    previousEnd = end;
  }
  return out;
}
