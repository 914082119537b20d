import type { CopyCheckpoint } from "../../common/checkpoint";
import type { CopyEndpoint } from "../../drivers/types";

export type { CopyCheckpoint };

/** A byte range of a volume: `length` bytes from `offset`. */
export interface ByteRange {
  offset: number;
  length: number;
}

export interface CopyProgress {
  bytesDone: number;
  bytesTotal: number;
  /** Bytes per second over the recent past (what an ETA should be computed from). */
  rateBps: number;
}

/** Compression applied on the source host and undone on the destination host. */
export type Compression = "none" | "lz4" | "zstd" | "gzip";
export const COMPRESSIONS: readonly Compression[] = ["none", "lz4", "zstd", "gzip"];

/**
 * How the bytes travel: `relay` joins the source host's reader and the destination host's writer
 * through this process; `direct` has the destination host read from the source host itself (a key
 * made for this one copy, restricted on the source to the one read command).
 */
export type Transport = "relay" | "direct" | "local";

/**
 * How a segment is proven: `readback` (default) reads it back from the destination's disk
 * (O_DIRECT when the endpoint allows it) after its sync and compares that digest too; `stream`
 * trusts the digest of the bytes the destination's dd was fed.
 */
export type Verify = "readback" | "stream";

/** @internal Test hooks: points where a test may interfere with a running copy. */
export interface CopyHooks {
  /** After a segment's writer exited 0, before its read-back (a test may corrupt the target here). */
  afterSegmentWritten?: (seg: { index: number; offset: number; length: number }) => Promise<void>;
  /** Once a direct transport's key is installed and its key dir made on the destination host. */
  directKeyInstalled?: (info: {
    keyDir: string;
    authorizedKeysLine: string;
    privateKey: string;
  }) => Promise<void>;
}

export interface CopyRequest {
  source: CopyEndpoint;
  dest: CopyEndpoint;
  /** Bytes to copy: the volume's size (an LV may be larger than the volume after extent rounding). */
  sizeBytes: number;
  /** dd block size, e.g. "1M" (volume_dd_blocksize). */
  blockSize: string;
  signal?: AbortSignal;
  onProgress?: (p: CopyProgress) => void;
  /** Default "auto": none when both ends are one host, a fast one across hosts when the tools exist. */
  compression?: Compression | "auto";
  /**
   * Default "auto": on one host the whole copy runs there (`local`); across hosts direct when the
   * destination host can reach the source host, else relay.
   */
  transport?: Transport | "auto";
  /** The current limit in bytes per second (null: none); read again at least once a second. */
  bpsLimit?: () => number | null;
  /** Continue a copy a previous attempt checkpointed. */
  resumeFrom?: CopyCheckpoint;
  /** Called when a new checkpoint holds; the caller persists it before the copy goes on. */
  onCheckpoint?: (cp: CopyCheckpoint) => Promise<void>;
  /** @defaultValue "readback" */
  verify?: Verify;
  /**
   * Copy only these ranges (whole blocks, in order: ranges.ts); the rest of the destination is
   * left as it is, so zeros are written like any data (the destination's sparseTarget is ignored). No checkpoints
   * (resumeFrom is ignored); the result's digests cover the ranges only. @defaultValue the whole volume
   */
  ranges?: readonly ByteRange[];
  /** @internal */
  hooks?: CopyHooks;
}

export interface CopyResult {
  bytes: number;
  /** sha256 covering the whole source, computed on the source's host. */
  sourceSha256: string;
  /** sha256 covering the whole destination, computed on the destination's host. */
  destSha256: string;
  compression?: Compression;
  transport?: Transport;
  /** Bytes this attempt skipped because a checkpoint already covered them. */
  resumedBytes?: number;
  /** Why the transport differs from the one asked for ("auto" resolved, or direct fell back). */
  transportNote?: string;
}

/** Moves a volume's bytes between two endpoints and proves the destination holds the same bytes. */
export interface VolumeCopier {
  copy(req: CopyRequest): Promise<CopyResult>;
  /** The sha256 of each chunk of an endpoint, computed on its host (digests.ts). */
  chunkDigests?(
    endpoint: CopyEndpoint,
    r: { sizeBytes: number; chunkBytes: number; blockSize: string; signal?: AbortSignal },
  ): Promise<string[]>;
  /**
   * Learns what the endpoints' hosts can do (their tools) ahead of a copy. The answers are kept for
   * the copier's life, so in a worker only the first copy to or from a host waits for them.
   */
  probeHosts?(endpoints: readonly CopyEndpoint[], signal?: AbortSignal): Promise<void>;
}
