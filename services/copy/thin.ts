/**
 * A thin LV's map: the byte ranges its pool has mapped (scripts/thinMap.py, on the LV's host).
 * A copy from a thin LV reads only these; every other byte reads as zeros, and the extents
 * records the copy is hashed as leave zero chunks out, so the checksum is what reading every
 * byte would give.
 */
import type { CommandRunner } from "../../drivers/exec/types";
import { THIN_MAP_PY } from "./scripts";
import type { ByteRange } from "./types";

/**
 * The map of `range` of the thin LV at `path`, by the host's `python` interpreter; throws when
 * the host cannot tell (not thin, no metadata snapshot).
 */
export async function thinMap(
  runner: CommandRunner,
  python: string,
  path: string,
  range: ByteRange,
  signal?: AbortSignal,
): Promise<ByteRange[]> {
  const r = await runner.run(
    [python, "-I", "-S", "-c", THIN_MAP_PY, "thin-map", path, String(range.offset), String(range.length)],
    { signal, timeoutMs: 120_000 },
  );
  return parseThinMap(r.stdout, range);
}

/** thinMap.py's `OFF LEN` lines, which must lie in `range`, be in order and end with `end N`. */
export function parseThinMap(text: string, range: ByteRange): ByteRange[] {
  const lines = text.split("\n").filter((l) => l !== "");
  if (!/^end \d+$/.test(lines.at(-1) ?? "")) {
    throw new Error("the thin map ended early");
  }
  const out: ByteRange[] = [];
  let next = range.offset;
  for (const line of lines.slice(0, -1)) {
    const m = /^(\d{1,18}) (\d{1,18})$/.exec(line);
    const r = m ? { offset: Number(m[1]), length: Number(m[2]) } : null;
    if (!r || r.length <= 0 || r.offset < next || r.offset + r.length > range.offset + range.length) {
      throw new Error(`bad thin map line ${JSON.stringify(line)}`);
    }
    out.push(r);
    next = r.offset + r.length;
  }
  return out;
}

/** The map's ranges within a segment, clipped to it, as segment.py reads them on stdin. */
export function mapLines(map: readonly ByteRange[], seg: ByteRange): string {
  const end = seg.offset + seg.length;
  let text = "";
  for (const r of map) {
    const a = Math.max(r.offset, seg.offset);
    const b = Math.min(r.offset + r.length, end);
    if (a < b) {
      text += `${a} ${b - a}\n`;
    }
  }
  return text;
}
