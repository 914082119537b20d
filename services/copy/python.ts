/**
 * Which command does each side of a segment: scripts/segment.py (one process: read, hash and
 * write from the same buffers) where that side's host has python3 and the segment travels as plain
 * bytes, else the bash pipelines of scripts.ts. Both print the same digests and progress, so the
 * choice is per side: a relay may read with Python on one host and write with dd on the other.
 * Compressed segments keep the pipelines (the compressor is a process of its own either way), and
 * so do extents records (perl, scripts/lib/extents.sh).
 */
import {
  bash,
  directArgs,
  type DirectSource,
  FETCH_READ_SCRIPT,
  flag,
  readArgv,
  readbackArgv,
  SEGMENT_PY,
  type SegmentIo,
  writeArgv,
} from "./scripts";
import type { Compression } from "./types";

/** Whether each host may run segment.py (probed: python3 with os.preadv and O_DIRECT). */
export interface HostPython {
  src: boolean;
  dst: boolean;
}

const py = (mode: string, ...args: (string | number)[]): string[] => [
  "python3",
  "-c",
  SEGMENT_PY,
  mode,
  ...args.map(String),
];

const plainBytes = (s: SegmentIo, comp: Compression): boolean => comp === "none" && s.extentChunk === null;

/** The source host's relay reader: the segment's bytes (or records, compressed) on stdout. */
export function readerArgv(s: SegmentIo, comp: Compression, python: HostPython): string[] {
  if (python.src && plainBytes(s, comp)) {
    return py("read", s.path, flag(s.directIo), s.blockBytes, s.offset, s.length);
  }
  return readArgv(s, comp);
}

/**
 * The destination host's writer: from stdin (relay), from the source's forced command (direct),
 * or reading the source itself (local: one host, so the destination's python3 is the source's).
 */
export function writerArgv(
  s: SegmentIo & { sparse: boolean },
  comp: Compression,
  direct: DirectSource | null,
  local: { path: string; directIo: boolean } | null,
  python: HostPython,
): string[] {
  if (!python.dst || !plainBytes(s, comp)) {
    return writeArgv(s, comp, direct, local);
  }
  const place = [s.blockBytes, s.offset, s.length, flag(s.sparse)];
  if (local) {
    return py("copy", local.path, flag(local.directIo), s.path, flag(s.directIo), ...place);
  }
  const fetch = direct
    ? bash(FETCH_READ_SCRIPT, "fetch-read", ...directArgs(direct), `read ${s.offset} ${s.length}`)
    : [];
  return py("write", s.path, flag(s.directIo), ...place, ...fetch);
}

/** The digest of what the destination holds now (`vms-sha256 readback <hex>` on stdout). */
export function readbackCommand(s: SegmentIo, python: HostPython): string[] {
  if (python.dst && s.extentChunk === null) {
    return py("readback", s.path, flag(s.directIo), s.blockBytes, s.offset, s.length);
  }
  return readbackArgv(s);
}
