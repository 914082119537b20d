/**
 * The pure parts of a copy: block size, the segment plan, the checkpoint state and the final
 * digests. No I/O here, so all of it is covered by plain unit tests.
 */
import { createHash } from "node:crypto";

import { InvalidInput } from "../../common/errors";
import type { CopyCheckpoint } from "./types";

const MiB = 1024 * 1024;

/**
 * Segment size. 256 MiB: the fixed cost of a segment (two or three SSH channels, ~8 processes, a
 * read-back command and a checkpoint row write, ~20–50 ms together) stays below a few percent at
 * 200–600 MB/s, while a crash or a failed segment costs at most one segment per one in flight
 * (~1 s of copying) and a 1 TiB volume's checkpoint holds 4096 digests (256 KiB of JSON).
 * 64 MiB was measured too: see the engine's tests and the report in the commit message.
 */
export const DEFAULT_SEGMENT_BYTES = 256 * MiB;

/** dd's size suffixes that matter for volume_dd_blocksize: none, K, M, G (binary), kB, MB, GB. */
export function parseBlockSize(bs: string): number {
  const m = /^(\d+)(?:([KMG])|([kKMG])B)?$/.exec(bs.trim());
  if (!m) {
    throw new InvalidInput(`block size ${JSON.stringify(bs)} is not a dd size such as 1M or 4096`);
  }
  const n = Number(m[1]);
  const binary = { K: 1024, M: MiB, G: 1024 * MiB } as const;
  const decimal = { k: 1e3, K: 1e3, M: 1e6, G: 1e9 } as const;
  const mult = m[2] ? binary[m[2] as keyof typeof binary] : m[3] ? decimal[m[3] as keyof typeof decimal] : 1;
  const bytes = n * mult;
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes > 1024 * MiB) {
    throw new InvalidInput(`block size ${JSON.stringify(bs)} is out of range`);
  }
  return bytes;
}

export interface Segment {
  index: number;
  offset: number;
  length: number;
}

/**
 * Segments of `segmentBytes` rounded down to whole blocks (O_DIRECT offsets must stay aligned),
 * the last one shorter. A size that is not a whole number of blocks is one segment without
 * O_DIRECT: the single-process fallback (dd turns the short final block into a buffered write
 * only in some versions, and resuming inside such a copy buys little).
 */
export function planSegments(sizeBytes: number, blockBytes: number, segmentBytes: number): Segment[] {
  if (sizeBytes % blockBytes !== 0) {
    return [{ index: 0, offset: 0, length: sizeBytes }];
  }
  const seg = Math.max(blockBytes, Math.floor(segmentBytes / blockBytes) * blockBytes);
  const out: Segment[] = [];
  for (let offset = 0, index = 0; offset < sizeBytes; offset += seg, index++) {
    out.push({ index, offset, length: Math.min(seg, sizeBytes - offset) });
  }
  return out;
}

/**
 * How a segment's digest is made: `sha256` of its bytes, or `extents-<chunk>`: sha256 of the
 * records scripts/lib/extents.sh makes of it (data chunks that are not all zeros, then an end
 * record), so holes cost nothing on either side. Both sides of a copy use the same scheme.
 */
export type DigestScheme = "sha256" | `extents-${number}`;

/** Chunk of the extents scheme: the granularity at which zeros are left out (and data is read). */
export const EXTENT_CHUNK_BYTES = MiB;

export const extentsScheme = (chunk: number): DigestScheme => `extents-${chunk}`;

/** The engine's checkpoint state: the digest of every segment below `offset`, in order. */
export interface SegmentState {
  v: 1;
  segmentBytes: number;
  sizeBytes: number;
  /** One digest per done segment: source and destination agreed on it, so one suffices. */
  digests: string[];
  /** Absent in checkpoints of plain copies (and of versions before the extents scheme). */
  scheme?: DigestScheme;
}

/**
 * The digests a checkpoint lets a copy keep, or null when it does not fit this copy (another
 * segment size or volume size, or damaged): then the copy starts over, which is always safe.
 */
export function resumableDigests(
  cp: CopyCheckpoint | undefined,
  plan: Segment[],
  sizeBytes: number,
  scheme: DigestScheme = "sha256",
): string[] | null {
  if (!cp || cp.offset <= 0) {
    return null;
  }
  const s = cp.state as Partial<SegmentState> | null;
  if (
    !s ||
    s.v !== 1 ||
    s.sizeBytes !== sizeBytes ||
    s.segmentBytes !== plan[0]?.length ||
    (s.scheme ?? "sha256") !== scheme ||
    !Array.isArray(s.digests) ||
    !s.digests.every((d) => typeof d === "string" && /^[0-9a-f]{64}$/.test(d))
  ) {
    return null;
  }
  const done = plan.filter((p) => p.offset + p.length <= cp.offset);
  if (
    done.length !== s.digests.length ||
    done.length === 0 ||
    done.at(-1)!.offset + done.at(-1)!.length !== cp.offset
  ) {
    return null;
  }
  return s.digests;
}

export function checkpointOf(
  plan: Segment[],
  sizeBytes: number,
  digests: string[],
  scheme: DigestScheme = "sha256",
): CopyCheckpoint {
  const last = plan[digests.length - 1]!;
  const state: SegmentState = {
    v: 1,
    segmentBytes: plan[0]!.length,
    sizeBytes,
    digests: [...digests],
    ...(scheme === "sha256" ? {} : { scheme }),
  };
  return { offset: last.offset + last.length, state };
}

/**
 * The whole volume's checksum: sha256 over the concatenated 32-byte sha256 digests of its
 * segments (of their bytes, or of their extents records: see DigestScheme), in order. Each side's value is built from digests computed on that side's host, it
 * covers every byte once, and it survives a resume (the done segments' digests are in the
 * checkpoint). It is not `sha256sum` of the volume; a one-segment copy hashes that one digest.
 */
export function combineDigests(digests: readonly string[]): string {
  const h = createHash("sha256");
  for (const d of digests) {
    h.update(Buffer.from(d, "hex"));
  }
  return h.digest("hex");
}
