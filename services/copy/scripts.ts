/**
 * The fixed bash scripts the hosts run for a copy, kept as .sh files in ./scripts (each one's
 * header lists its positional arguments and what it prints) so that shellcheck reads them
 * (`npm run lint:sh`). Nothing is ever spliced into them: paths, offsets and names travel as
 * positional arguments ("$1" …), and the SSH runner quotes the argv. Each side hashes what passes
 * through it on its own host (openssl or sha256sum) and prints the digest on stderr as
 * `vms-sha256 <side> <hex>`, so this process compares digests computed on the hosts.
 */
import fs from "node:fs";
import path from "node:path";

import type { Compression } from "./types";

/**
 * The .sh files live beside this module's source. tsx and ts-jest run the source itself; tsc's
 * output (dist/services/copy, see tsconfig.build.json) gets no copy of them, so from there the
 * same path under the project root is used.
 */
const SCRIPT_DIR =
  [path.join(__dirname, "scripts"), path.join(__dirname, "../../../services/copy/scripts")].find((d) =>
    fs.existsSync(d),
  ) ?? path.join(__dirname, "scripts");

/** A script's `source "$(dirname "$0")/lib/x.sh"` line, optionally ending in `;`. */
const SOURCE_LINE = /^source "\$\(dirname "\$0"\)\/([\w./]+\.sh)"(;?)$/;

/**
 * The text a script is sent as: its lines less blank and comment lines (the headers are for
 * readers, and the forced command must fit on one line), each `source` line replaced by that
 * lib's text, because on the host the script is an argument of `bash -c`, not a file beside its
 * libs. The scripts hold no heredocs or multi-line strings, so a line starting with # is always
 * a comment. Read once, at module load.
 */
function load(file: string): string {
  const out: string[] = [];
  for (const line of fs.readFileSync(path.join(SCRIPT_DIR, file), "utf8").split("\n")) {
    const lib = SOURCE_LINE.exec(line);
    if (lib) {
      out.push(load(path.join(path.dirname(file), lib[1]!)) + lib[2]!);
    } else if (/^\s*(source|\.)\s/.test(line)) {
      throw new Error(`${file}: only source "$(dirname "$0")/lib/….sh" lines can be inlined`);
    } else if (line.trim() !== "" && !line.trimStart().startsWith("#")) {
      out.push(line);
    }
  }
  return out.join("\n");
}

/** Joins a script written with explicit terminators into one line. */
function oneLine(script: string): string {
  const line = script.replace(/\n\s*/g, " ");
  // A comment at the end of a line would swallow everything after it once the lines are joined.
  if (/(^|\s)#/.test(line)) {
    throw new Error("a one-line script cannot hold a comment");
  }
  return line;
}

/** Relay reader: `bash -c READ_SCRIPT read SRC BS OFF LEN DIRECT COMP [FMT CHUNK]`. */
export const READ_SCRIPT = load("segmentRead.sh");

/**
 * The direct transport's forced command on the source host: `bash -c FORCED_SCRIPT vms-copy-read
 * SRC BS SIZE DIRECT COMP PYTHON PY TAG`, all fixed when the key is installed; SSH_ORIGINAL_COMMAND must be
 * `probe` or a `read OFF LEN` within the volume (forcedRead.sh says exactly what passes). One line,
 * as authorized_keys has no newlines.
 */
export const FORCED_SCRIPT = oneLine(load("forcedRead.sh"));

/** `bash -c PROBE_DIRECT_SCRIPT probe-direct KEY KH HKA PORT USER ADDR`: can the key reach the source? */
export const PROBE_DIRECT_SCRIPT = load("probeDirect.sh");

/**
 * Writer on the destination host: `bash -c WRITE_SCRIPT write DST BS OFF LEN DIRECT SPARSE COMP
 * MODE [KEY KH HKA PORT USER ADDR | SRC SRCDIRECT [CHUNK]]`; MODE is relay, direct or local,
 * SPARSE 0, 1 or extents.
 */
export const WRITE_SCRIPT = load("segmentWrite.sh");

/**
 * `python3 -c SEGMENT_PY copy|read|write|readback …`: one segment in one process where the host
 * has python3 (segment.py's header lists the modes and their arguments; thinMap.py's likewise),
 * sent as one program: segmentLayout.py, then segment.py. Python code is not shell
 * and the runner quotes each argument, so only the comment lines go (no line of the file's
 * docstrings starts with #, so such a line is a comment).
 */
export const SEGMENT_PY = `${loadPython("segmentLayout.py")}\n${loadPython("segment.py")}`;

/** `python3 -c THIN_MAP_PY thin-map DEV OFF LEN`: the byte ranges a thin LV's pool has mapped. */
export const THIN_MAP_PY = loadPython("thinMap.py");

function loadPython(file: string): string {
  return fs
    .readFileSync(path.join(SCRIPT_DIR, file), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"))
    .join("\n");
}

/** `bash -c PY_READ_SCRIPT py-read PYTHON SEGMENT_PY COMP read …`: segment.py's relay reader piped into COMP. */
export const PY_READ_SCRIPT = load("pyRead.sh");

/**
 * `bash -c FETCH_READ_SCRIPT fetch-read KEY KH HKA PORT USER ADDR CIPHERS REQUEST COMP`: the forced
 * command's answer, decompressed.
 */
export const FETCH_READ_SCRIPT = load("fetchRead.sh");

/** `bash -c DECOMPRESS_SCRIPT decompress COMP`: stdin decompressed. */
export const DECOMPRESS_SCRIPT = load("decompress.sh");

/** `bash -c READBACK_SCRIPT readback DST BS OFF LEN DIRECT [FMT CHUNK]`: the digest of what is on disk now. */
export const READBACK_SCRIPT = load("segmentReadback.sh");

/** `bash -c DIGESTS_SCRIPT digests SRC BS SIZE CHUNK DIRECT MAP`: each chunk's sha256 (or hole), in order. */
export const DIGESTS_SCRIPT = load("segmentDigests.sh");

/** `bash -c SAMPLE_SCRIPT sample SRC COMP DIRECT OFF...`: bytes COMP makes of 1 MiB at each OFF. */
export const SAMPLE_SCRIPT = load("sampleCompression.sh");

/** `bash -c PROBE_SCRIPT probe TOOL…`: prints the tools this host has, one a line. */
export const PROBE_SCRIPT = load("probeTools.sh");

/** `bash -c ADD_KEY_SCRIPT add-key FILE LINE`: appends LINE to an authorized_keys FILE. */
export const ADD_KEY_SCRIPT = load("addKey.sh");

/** `bash -c END_READERS_SCRIPT end-readers TAG`: ends the copy's readers still running on the source. */
export const END_READERS_SCRIPT = load("endReaders.sh");

/** `bash -c REMOVE_KEY_SCRIPT remove-key FILE TAG`: drops the lines ending in ` TAG`. */
export const REMOVE_KEY_SCRIPT = load("removeKey.sh");

/** `bash -c KEY_DIR_SCRIPT key-dir KNOWN_HOSTS_LINE` with the private key on stdin; prints the dir. */
export const KEY_DIR_SCRIPT = load("makeKeyDir.sh");

/** `bash -c RM_KEY_DIR_SCRIPT rm-key-dir DIR`: removes a dir KEY_DIR_SCRIPT made, and nothing else. */
export const RM_KEY_DIR_SCRIPT = load("removeKeyDir.sh");

export const bash = (script: string, name: string, ...args: (string | number)[]): string[] => [
  "bash",
  "-c",
  script,
  name,
  ...args.map(String),
];

export const flag = (b: boolean): string => (b ? "1" : "0");

export interface SegmentIo {
  path: string;
  blockBytes: number;
  offset: number;
  length: number;
  directIo: boolean;
  /** The extents format's chunk size (scripts/lib/extents.sh), or null for the segment's bytes. */
  extentChunk: number | null;
}

const format = (s: SegmentIo): string[] => (s.extentChunk === null ? [] : ["extents", String(s.extentChunk)]);

export function readArgv(s: SegmentIo, comp: Compression): string[] {
  return bash(
    READ_SCRIPT,
    "read",
    s.path,
    s.blockBytes,
    s.offset,
    s.length,
    flag(s.directIo),
    comp,
    ...format(s),
  );
}

/** The endpoint a direct writer reads from; the key and known_hosts live in the copy's key dir. */
export interface DirectSource {
  keyDir: string;
  hostKeyAlgorithms: string;
  port: number;
  username: string;
  address: string;
  /** What the destination's ssh offers (volume_copy_ssh_ciphers). */
  ciphers: string;
}

export function writeArgv(
  s: SegmentIo & { sparse: boolean },
  comp: Compression,
  direct: DirectSource | null,
  /** The source, when it is on the destination's host: the writer reads it itself. */
  local: { path: string; directIo: boolean } | null = null,
): string[] {
  const sparse = s.extentChunk === null ? flag(s.sparse) : "extents";
  const base = [s.path, s.blockBytes, s.offset, s.length, flag(s.directIo), sparse, comp];
  if (local) {
    const chunk = s.extentChunk === null ? [] : [s.extentChunk];
    return bash(WRITE_SCRIPT, "write", ...base, "local", local.path, flag(local.directIo), ...chunk);
  }
  if (!direct) {
    return bash(WRITE_SCRIPT, "write", ...base, "relay");
  }
  return bash(WRITE_SCRIPT, "write", ...base, "direct", ...directArgs(direct));
}

/** KEY KH HKA PORT USER ADDR CIPHERS, the arguments of every script that fetches from the source (lib/fetch.sh). */
export const directArgs = (d: DirectSource): (string | number)[] => [
  `${d.keyDir}/key`,
  `${d.keyDir}/known_hosts`,
  d.hostKeyAlgorithms,
  d.port,
  d.username,
  d.address,
  d.ciphers,
];

export function probeDirectArgv(d: DirectSource): string[] {
  return bash(PROBE_DIRECT_SCRIPT, "probe-direct", ...directArgs(d));
}

export function readbackArgv(s: SegmentIo): string[] {
  return bash(
    READBACK_SCRIPT,
    "readback",
    s.path,
    s.blockBytes,
    s.offset,
    s.length,
    flag(s.directIo),
    ...format(s),
  );
}

export function forcedCommandArgv(
  path: string,
  blockBytes: number,
  size: number,
  directIo: boolean,
  comp: Compression,
  /** The source host's python3 interpreter, when segment.py may read there (in one process). */
  python: string | null,
  tag: string,
): string[] {
  const py = python === null ? ["", ""] : [python, Buffer.from(SEGMENT_PY).toString("base64")];
  return bash(FORCED_SCRIPT, "vms-copy-read", path, blockBytes, size, flag(directIo), comp, ...py, tag);
}

/** The `vms-sha256 <side> <hex>` digests a script printed, by side. */
export function parseDigests(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^vms-sha256 (\w+) ([0-9a-f]{64})$/gm)) {
    out.set(m[1]!, m[2]!);
  }
  return out;
}
