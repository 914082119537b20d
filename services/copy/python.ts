/**
 * Which command does each side of a segment: scripts/segment.py (one process: read, hash and
 * write from the same buffers) where that side's host has python3 and the segment travels as plain
 * bytes, else the bash pipelines of scripts.ts. Both print the same digests and progress, so the
 * choice is per side: a relay may read with Python on one host and write with dd on the other.
 * Compressed segments keep the pipelines (the compressor is a process of its own either way), and
 * so do extents records that travel between hosts (perl, scripts/lib/extents.sh); on one host and
 * for the read-back, segment.py reads the data chunks itself and hashes the same records.
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

/** -I -S: segment.py needs the standard library only, whatever the host's PYTHON* and site packages. */
const py = (mode: string, ...args: (string | number)[]): string[] => [
  "python3",
  "-I",
  "-S",
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
  const extents = s.extentChunk === null ? [] : ["extents", s.extentChunk];
  if (python.dst && local && comp === "none") {
    const sparse = extents.length > 0 ? extents : [flag(s.sparse)];
    const place = [s.blockBytes, s.offset, s.length, ...sparse];
    return py("copy", local.path, flag(local.directIo), s.path, flag(s.directIo), ...place);
  }
  if (!python.dst || !plainBytes(s, comp)) {
    return writeArgv(s, comp, direct, local);
  }
  const place = [s.blockBytes, s.offset, s.length, flag(s.sparse)];
  const fetch = direct
    ? bash(FETCH_READ_SCRIPT, "fetch-read", ...directArgs(direct), `read ${s.offset} ${s.length}`)
    : [];
  return py("write", s.path, flag(s.directIo), ...place, ...fetch);
}

/** The digest of what the destination holds now (`vms-sha256 readback <hex>` on stdout). */
export function readbackCommand(s: SegmentIo, python: HostPython): string[] {
  if (python.dst) {
    const extents = s.extentChunk === null ? [] : ["extents", s.extentChunk];
    return py("readback", s.path, flag(s.directIo), s.blockBytes, s.offset, s.length, ...extents);
  }
  return readbackArgv(s);
}
