/**
 * Which command does each side of a segment: scripts/segment.py (one process: read, hash and
 * write from the same buffers) where that side's host has python3, else the bash pipelines of
 * scripts.ts. Both print the same digests and progress, so the choice is per side: a relay may
 * read with Python on one host and write with dd on the other. The reader pipes into the
 * compressor when there is one (pyRead.sh), the writer reads from the decompressor; a writer that
 * applies extents records that came from another host stays the pipeline (perl,
 * scripts/lib/extents.sh). A map (a thin
 * LV's, thin.ts) goes to segment.py on stdin: `mapped` says one will; or, for a writer that reads
 * the source itself, its share of a bandwidth limit (`paced`, a line a second).
 */
import {
  bash,
  DECOMPRESS_SCRIPT,
  directArgs,
  type DirectSource,
  FETCH_READ_SCRIPT,
  flag,
  PY_READ_SCRIPT,
  readArgv,
  readbackArgv,
  SEGMENT_PY,
  type SegmentIo,
  writeArgv,
} from "./scripts";
import type { Compression } from "./types";

/**
 * Each host's python3 interpreter (probed: os.preadv and O_DIRECT, resolved past any wrapper), or
 * null where segment.py does not run.
 */
export interface HostPython {
  src: string | null;
  dst: string | null;
}

/** -I -S: segment.py needs the standard library only, whatever the host's PYTHON* and site packages. */
const py = (python: string, mode: string, ...args: (string | number)[]): string[] => [
  python,
  "-I",
  "-S",
  "-c",
  SEGMENT_PY,
  mode,
  ...args.map(String),
];

/** segment.py's trailing `extents CHUNK [stdin]`, or nothing for the segment's bytes. */
const extentArgs = (s: SegmentIo, mapped: boolean): (string | number)[] =>
  s.extentChunk === null ? [] : ["extents", s.extentChunk, ...(mapped ? ["stdin"] : [])];

/** The source host's relay reader: the segment's bytes (or records, compressed) on stdout. */
export function readerArgv(s: SegmentIo, comp: Compression, python: HostPython, mapped: boolean): string[] {
  if (python.src === null) {
    return readArgv(s, comp);
  }
  const args = [s.path, flag(s.directIo), s.blockBytes, s.offset, s.length, ...extentArgs(s, mapped)];
  return comp === "none"
    ? py(python.src, "read", ...args)
    : bash(PY_READ_SCRIPT, "py-read", python.src, SEGMENT_PY, comp, "read", ...args.map(String));
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
  how: { mapped: boolean; paced: boolean },
): string[] {
  const pace = how.paced ? ["--paced"] : [];
  if (python.dst !== null && local && comp === "none") {
    const sparse = s.extentChunk === null ? [flag(s.sparse)] : extentArgs(s, how.mapped);
    const place = [s.blockBytes, s.offset, s.length, ...sparse];
    return py(
      python.dst,
      "copy",
      ...pace,
      local.path,
      flag(local.directIo),
      s.path,
      flag(s.directIo),
      ...place,
    );
  }
  if (python.dst === null || s.extentChunk !== null || (local && comp !== "none")) {
    return writeArgv(s, comp, direct, local);
  }
  const place = [s.blockBytes, s.offset, s.length, flag(s.sparse)];
  // What segment.py reads: the forced command's answer (direct), or its own stdin, through the
  // decompressor when there is one.
  const request = `read ${s.offset} ${s.length}`;
  const fetch = direct
    ? bash(FETCH_READ_SCRIPT, "fetch-read", ...directArgs(direct), request, comp)
    : comp === "none"
      ? []
      : bash(DECOMPRESS_SCRIPT, "decompress", comp);
  return py(python.dst, "write", ...pace, s.path, flag(s.directIo), ...place, ...fetch);
}

/** The digest of what the destination holds now (`vms-sha256 readback <hex>` on stdout). */
export function readbackCommand(s: SegmentIo, python: HostPython, mapped: boolean): string[] {
  if (python.dst !== null) {
    return py(
      python.dst,
      "readback",
      s.path,
      flag(s.directIo),
      s.blockBytes,
      s.offset,
      s.length,
      ...extentArgs(s, mapped),
    );
  }
  return readbackArgv(s);
}
