import type { CopyEndpoint } from "../../drivers/types";

export interface CopyProgress {
  bytesDone: number;
  bytesTotal: number;
  /** Bytes per second over the copy so far. */
  rateBps: number;
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
}

export interface CopyResult {
  bytes: number;
  /** sha256 of the bytes read from the source, computed as they streamed through. */
  sourceSha256: string;
  /** sha256 of the destination read back after the copy, computed on the destination's host. */
  destSha256: string;
}

/** Moves a volume's bytes between two endpoints and proves the destination holds the same bytes. */
export interface VolumeCopier {
  copy(req: CopyRequest): Promise<CopyResult>;
}
