/**
 * One segment of a copy: the reader on the source host and the writer on the destination host
 * (joined here for relay, or the writer fetching from the source itself for direct), then the
 * checks that make the segment count as done.
 */
import { pipeline } from "node:stream/promises";

import { VolumeMigrationFailed } from "../../common/errors";
import type { CommandResult, CommandRunner, RunningCommand } from "../../drivers/exec/types";
import { meterStream, type TokenBucket } from "./meter";
import type { Segment } from "./plan";
import { type HostPython, readbackCommand, readerArgv, writerArgv } from "./python";
import { type DirectSource, parseDigests } from "./scripts";
import { mapLines, thinMap } from "./thin";
import type { ByteRange, Compression, CopyHooks, Verify } from "./types";

/** A segment runs as long as it needs; the copy's signal is what stops it. */
const SEGMENT_TIMEOUT_MS = 0x7fffffff;
/** How often a pacing writer is told its share of the limit (as often as the bucket is refilled). */
const PACE_TICK_MS = 1000;
/** After a kill, how long to wait for the commands to be gone before giving up on them. */
const REAP_TIMEOUT_MS = 10_000;

export interface SegmentContext {
  src: CommandRunner;
  dst: CommandRunner;
  /** directIo already off where the single-process fallback applies. */
  source: { path: string; directIo: boolean };
  dest: { path: string; directIo: boolean; sparse: boolean };
  blockBytes: number;
  /**
   * The extents format's chunk (only data ranges read, zero chunks neither sent nor written), or
   * null: every byte travels. Set only for a source that maps its data onto a destination that
   * reads zeros (choose.ts extentSource), and not for the direct transport.
   */
  extentChunk: number | null;
  /** A thin source's map (thin.ts): the extents are read from it, not found by lseek. */
  sourceMap: ByteRange[] | null;
  /** The destination is a thin LV whose map the read-back may use. */
  destThin: boolean;
  comp: Compression;
  direct: DirectSource | null;
  /** Source and destination on one host: one command there does the whole segment. */
  local: boolean;
  verify: Verify;
  /** Which hosts run a segment's side as one process (python.ts). */
  python: HostPython;
  bucket: TokenBucket;
  /**
   * Under a bandwidth limit, a writer that reads the source itself (local, direct) and can pace
   * (segment.py) gets this share of the limit, in volume bytes per second (null: none now);
   * null when no limit was set or the writer cannot pace (then the relay paces).
   */
  pace: (() => number | null) | null;
  /** Volume bytes per wire byte seen so far (1 without compression), for the bucket. */
  expansion: () => number;
  hooks?: CopyHooks;
}

/** What a segment reports while it runs: wire bytes through this process, volume bytes written. */
export interface SegmentMeter {
  wire: number;
  written: number;
}

export interface SegmentDigests {
  source: string;
  dest: string;
}

/** A segment's digests once its writer exited 0: both sides agreed on the bytes that went through. */
export interface WrittenSegment {
  source: string;
  streamed: string;
}

/**
 * Writes one segment (reader and writer on their hosts) and checks the two stream digests and the
 * byte count. The read-back, when asked, is `readBackSegment`, which the engine overlaps with the
 * next segment's copy.
 */
export async function writeSegment(
  ctx: SegmentContext,
  seg: Segment,
  meter: SegmentMeter,
  signal: AbortSignal,
): Promise<WrittenSegment> {
  const io = {
    blockBytes: ctx.blockBytes,
    offset: seg.offset,
    length: seg.length,
    extentChunk: ctx.extentChunk,
  };
  const out = { ...io, ...ctx.dest };
  const opts = { signal, timeoutMs: SEGMENT_TIMEOUT_MS };
  // A thin source's map goes to whichever command reads the source, on its stdin.
  const map = ctx.sourceMap && ctx.extentChunk !== null ? mapLines(ctx.sourceMap, seg) : null;
  const local = ctx.local ? ctx.source : null;
  // (With a map there is no direct transport: a mapped writer is the local copy, which reads the
  // map first and the limit lines after it.)
  const paced = ctx.pace !== null && !!(local ?? ctx.direct);
  const writer = ctx.dst.spawn(
    writerArgv(out, ctx.comp, ctx.direct, local, ctx.python, {
      mapped: map !== null && local !== null,
      paced,
    }),
    opts,
  );
  const reader =
    ctx.direct || ctx.local
      ? null
      : ctx.src.spawn(readerArgv({ ...io, ...ctx.source }, ctx.comp, ctx.python, map !== null), opts);
  // A command that is already gone (failed, killed) makes writing to its stdin fail with EPIPE;
  // its exit status is what tells, and an 'error' event nobody listens to would end this process.
  for (const c of [writer, reader]) {
    c?.stdin.on("error", () => undefined);
  }
  reader?.stdin.end(map ?? undefined);
  const writerLog = watchWriter(writer, (n) => (meter.written = n));
  const where = describeSegment(seg);

  let results: [CommandResult | null, CommandResult];
  try {
    if (reader) {
      const relay = pipeline(
        reader.stdout,
        meterStream(ctx.bucket, signal, (n) => (meter.wire += n), ctx.expansion),
        writer.stdin,
      );
      const [, r, w] = await Promise.all([relay, reader.wait(), writer.wait()]);
      results = [r, w];
    } else if (paced && ctx.pace) {
      // The writer keeps to its share of the limit, told once a second (segment.py --paced).
      const share = ctx.pace;
      const tell = (): void => {
        const bps = share();
        writer.stdin.write(`${bps === null ? "none" : Math.max(1, Math.floor(bps))}\n`);
      };
      if (map !== null) {
        writer.stdin.write(`${map}end\n`);
      }
      tell();
      const ticker = setInterval(tell, PACE_TICK_MS);
      try {
        results = [null, await writer.wait()];
      } finally {
        clearInterval(ticker);
        writer.stdin.end();
      }
    } else {
      writer.stdin.end(map ?? undefined);
      results = [null, await writer.wait()];
    }
  } catch (err) {
    await reap([reader, writer]);
    if (signal.aborted) {
      throw err;
    }
    // dd's own complaint (no space, I/O error) went to the writer's stdout, not into the error.
    const dd = writerLog.tail();
    throw new VolumeMigrationFailed(`${where}: ${(err as Error).message}${dd ? `; ${dd}` : ""}`, {
      cause: err,
    });
  }
  // Let the last stdout chunks (dd's final count) be parsed before the count is checked.
  await new Promise((resolve) => setImmediate(resolve));
  const [r, w] = results;
  const got = parseDigests(w.stderr);
  const source = (r ? parseDigests(r.stderr) : got).get("src");
  const streamed = got.get("dst");
  if (!source || !streamed) {
    throw new VolumeMigrationFailed(`${where}: a side reported no digest (${writerLog.tail()})`);
  }
  if (writerLog.bytes() !== seg.length) {
    throw new VolumeMigrationFailed(
      `${where}: the destination wrote ${writerLog.bytes()} bytes, expected ${seg.length}`,
    );
  }
  if (source !== streamed) {
    throw new VolumeMigrationFailed(`${where}: source digest ${source}, destination received ${streamed}`);
  }
  await ctx.hooks?.afterSegmentWritten?.({ index: seg.index, offset: seg.offset, length: seg.length });
  return { source, streamed };
}

/** The digests a segment is recorded with: the stream's, or the destination's disk read back. */
export async function readBackSegment(
  ctx: SegmentContext,
  seg: Segment,
  written: WrittenSegment,
  signal: AbortSignal,
): Promise<SegmentDigests> {
  if (ctx.verify === "stream") {
    return { source: written.source, dest: written.streamed };
  }
  const out = {
    blockBytes: ctx.blockBytes,
    offset: seg.offset,
    length: seg.length,
    extentChunk: ctx.extentChunk,
    ...ctx.dest,
  };
  // A thin destination's own map, taken now that the segment is synced (the pool commits its
  // mappings first); without one the read-back reads every byte, which is only slower.
  const python = ctx.python.dst;
  const map =
    ctx.destThin && python !== null
      ? await thinMap(ctx.dst, python, ctx.dest.path, seg, signal).catch(() => null)
      : null;
  const rb = await ctx.dst.run(readbackCommand(out, ctx.python, map !== null), {
    signal,
    timeoutMs: SEGMENT_TIMEOUT_MS,
    ...(map !== null ? { input: mapLines(map, seg) } : {}),
  });
  const onDisk = parseDigests(rb.stdout).get("readback");
  if (onDisk !== written.source) {
    throw new VolumeMigrationFailed(
      `${describeSegment(seg)}: source digest ${written.source}, destination reads back ${onDisk ?? "nothing"}`,
    );
  }
  return { source: written.source, dest: onDisk };
}

const describeSegment = (seg: Segment): string =>
  `segment ${seg.index} (bytes ${seg.offset}–${seg.offset + seg.length})`;

/**
 * Reads the writer's stdout (dd's status=progress and final counts, lines ending in \r or \n):
 * the volume bytes written so far, and the other lines (dd's errors) for messages. Consuming it
 * also matters for SSH: a channel whose stdout is not read never closes.
 */
function watchWriter(
  writer: RunningCommand,
  onWritten: (n: number) => void,
): { bytes: () => number; tail: () => string } {
  let bytes = 0;
  let partial = "";
  let other = "";
  writer.stdout.setEncoding("utf8");
  writer.stdout.on("data", (s: string) => {
    const lines = (partial + s).split(/[\r\n]/);
    partial = lines.pop() ?? "";
    for (const line of lines) {
      const m = /^(\d+) bytes/.exec(line);
      if (m) {
        bytes = Number(m[1]);
        onWritten(bytes);
      } else if (line && !/records (in|out)$/.test(line)) {
        other = `${other}\n${line}`.slice(-2000);
      }
    }
  });
  return { bytes: () => bytes, tail: () => other.trim() };
}

/** Kills the commands and waits (bounded) until they are gone, so a failed copy leaves none behind. */
async function reap(cmds: (RunningCommand | null)[]): Promise<void> {
  const live = cmds.filter((c): c is RunningCommand => c !== null);
  for (const c of live) {
    c.kill();
    // Closing the pipes too: the hosts' dd and tee see EOF or SIGPIPE, not just their shell's death.
    c.stdin.destroy();
    c.stdout.destroy();
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(live.map((c) => c.wait())),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, REAP_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
}
