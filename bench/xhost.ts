/**
 * Cross-host figures between two OpenSSH servers this bench starts on loopback ports, with loop
 * devices as volumes: the engine (its endpoints are SSH runner specs, so it really goes over SSH)
 * against the OpenSSH client pipelines an admin would type. Baseline and engine runs alternate;
 * each starts from a destination that reads zeros and with this bench's own caches forgotten.
 */
import path from "node:path";

import { type CommandRunner, quoteArgv } from "../drivers/exec";
import type { Cleanup } from "./cleanup";
import { type EngineRef, type EngineRun, runEngineCopy } from "./engine";
import { describe, timeoutMs } from "./labParts";
import { assertSameSha, attempt, MIB, sha256Of, timed } from "./measure";
import { type BenchSshd, startSshd } from "./sshd";
import { attach, forgetCache, type Pattern, type Volume, writeVolumeFile, zero } from "./volumes";

export interface XhostContext {
  local: CommandRunner;
  engine: EngineRef;
  sizeMib: number;
  repeat: number;
  tmp: string;
  cleanup: Cleanup;
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface PatternFigures {
  baselineSeconds: number[];
  engine: EngineRun[];
}

export interface XhostFigures {
  mixed: PatternFigures;
  random: PatternFigures;
  /** Single engine copies of the random volume's first N MiB, to show RSS against size. */
  rssBySize: { sizeMib: number; maxRssMib: number }[];
  /** True when the volumes are plain files (no losetup), so without O_DIRECT. */
  plainFiles: boolean;
  /** Measurements that failed (the others still ran). */
  errors: string[];
}

interface Setup {
  src: BenchSshd;
  dst: BenchSshd;
  vols: Record<Pattern, Volume>;
  out: Volume;
  sha: Record<Pattern, string>;
}

/** Files the cross-host part writes under the temp dir, for the free-space check. */
export function xhostNeedMib(sizeMib: number): number {
  return 3 * sizeMib + 256;
}

export async function measureXhost(ctx: XhostContext): Promise<XhostFigures> {
  const s = await setUp(ctx);
  const figures: XhostFigures = {
    mixed: { baselineSeconds: [], engine: [] },
    random: { baselineSeconds: [], engine: [] },
    rssBySize: [],
    plainFiles: !s.out.directIo,
    errors: [],
  };
  for (const pattern of ["mixed", "random"] as const) {
    let failed = false;
    for (let i = 0; i < ctx.repeat; i++) {
      const b = await baseline(ctx, s, pattern);
      figures[pattern].baselineSeconds.push(b);
      ctx.log(`xhost ${pattern}: OpenSSH pipeline ${b.toFixed(2)} s`);
      const run: EngineRun | null = failed
        ? null
        : await attempt(pattern, figures.errors, ctx.signal, () =>
            engine(ctx, s, pattern, ctx.sizeMib, s.sha[pattern]),
          );
      failed = run === null;
      if (run) {
        figures[pattern].engine.push(run);
        ctx.log(`xhost ${pattern}: engine ${run.seconds.toFixed(2)} s (${describe(run)})`);
      }
    }
  }
  for (const part of [8, 4, 2]) {
    const mib = Math.floor(ctx.sizeMib / part / 4) * 4;
    if (mib < 16 || figures.random.engine.length === 0) {
      continue;
    }
    const run = await attempt(`rss at ${mib} MiB`, figures.errors, ctx.signal, async () => {
      const opts = { signal: ctx.signal, direct: s.vols.random.directIo };
      const sha = await sha256Of(ctx.local, s.vols.random.path, mib * MIB, opts);
      return engine(ctx, s, "random", mib, sha);
    });
    if (run) {
      figures.rssBySize.push({ sizeMib: mib, maxRssMib: run.maxRssMib });
      ctx.log(`xhost rss: ${mib} MiB copy peaked at ${run.maxRssMib.toFixed(0)} MiB`);
    }
  }
  return figures;
}

async function setUp(ctx: XhostContext): Promise<Setup> {
  const src = await startSshd("src");
  ctx.cleanup.add("stop the source sshd", () => src.stop());
  const dst = await startSshd("dst");
  ctx.cleanup.add("stop the destination sshd", () => dst.stop());
  const bytes = ctx.sizeMib * MIB;
  const volume = async (name: string, pattern: Pattern | null): Promise<Volume> => {
    const file = path.join(ctx.tmp, `${name}.img`);
    if (pattern) {
      ctx.log(`xhost: writing ${file} (${ctx.sizeMib} MiB, ${pattern})`);
      writeVolumeFile(file, bytes, pattern);
    } else {
      await ctx.local.run(["truncate", "-s", String(bytes), file]);
    }
    const vol = await attach(ctx.local, file);
    ctx.cleanup.add(`detach ${vol.path}`, () => vol.detach());
    return vol;
  };
  const vols = { mixed: await volume("mixed", "mixed"), random: await volume("random", "random") };
  const out = await volume("dest", null);
  const sha = {
    mixed: await sha256Of(ctx.local, vols.mixed.path, bytes, {
      signal: ctx.signal,
      direct: vols.mixed.directIo,
    }),
    random: await sha256Of(ctx.local, vols.random.path, bytes, {
      signal: ctx.signal,
      direct: vols.random.directIo,
    }),
  };
  return { src, dst, vols, out, sha };
}

/** The admin's pipeline: gzip -1 over ssh for mixed data, plain `cat` over ssh for random data. */
async function baseline(ctx: XhostContext, s: Setup, pattern: Pattern): Promise<number> {
  const vol = s.vols[pattern];
  const remote =
    pattern === "mixed"
      ? `${quoteArgv(["dd", `if=${vol.path}`, "bs=4M", "status=none"])} | gzip -1 -`
      : quoteArgv(["cat", vol.path]);
  const decode = pattern === "mixed" ? "gunzip" : "cat";
  // $1 remote command, $2 decoder, $3 destination, $4 dd's sync flag; the rest: ssh's options.
  const script = `set -o pipefail; remote=$1 decode=$2 dst=$3 sync=$4; shift 4
ssh "$@" "$remote" | "$decode" | dd of="$dst" bs=4M iflag=fullblock "$sync" status=none`;
  const sync = s.out.directIo ? "oflag=direct" : "conv=fdatasync";
  await prepare(ctx, s, vol);
  const seconds = await timed(() =>
    ctx.local.run(["bash", "-c", script, "baseline", remote, decode, s.out.path, sync, ...s.src.clientArgs], {
      signal: ctx.signal,
      timeoutMs: timeoutMs(ctx.sizeMib),
    }),
  );
  const bytes = ctx.sizeMib * MIB;
  const got = await sha256Of(ctx.local, s.out.path, bytes, { signal: ctx.signal, direct: s.out.directIo });
  assertSameSha(`OpenSSH pipeline (${pattern})`, s.sha[pattern], got);
  return seconds;
}

async function engine(
  ctx: XhostContext,
  s: Setup,
  pattern: Pattern,
  mib: number,
  sha: string,
): Promise<EngineRun> {
  const vol = s.vols[pattern];
  const bytes = mib * MIB;
  await prepare(ctx, s, vol);
  const run = await runEngineCopy(
    ctx.engine,
    {
      source: {
        runner: s.src.spec,
        path: vol.path,
        sizeBytes: bytes,
        directIo: vol.directIo,
        sparseTarget: false,
        // The direct transport's one-copy key goes to this bench's sshd, not to ~/.ssh of this machine.
        authorizedKeysFile: s.src.authorizedKeysFile,
      },
      dest: {
        runner: s.dst.spec,
        path: s.out.path,
        sizeBytes: bytes,
        directIo: s.out.directIo,
        sparseTarget: true,
      },
      sizeBytes: bytes,
      blockSize: "4M",
      compression: "auto",
      transport: "auto",
    },
    { signal: ctx.signal, timeoutMs: timeoutMs(mib) },
  );
  if (run.result.bytes !== bytes || run.result.sourceSha256 !== run.result.destSha256) {
    throw new Error(`engine (${pattern}, ${mib} MiB): the engine reported ${JSON.stringify(run.result)}`);
  }
  const got = await sha256Of(ctx.local, s.out.path, bytes, { signal: ctx.signal, direct: s.out.directIo });
  assertSameSha(`engine (${pattern}, ${mib} MiB)`, sha, got);
  return run;
}

/** A destination that reads zeros, and nothing of either volume left in this machine's caches. */
async function prepare(ctx: XhostContext, s: Setup, vol: Volume): Promise<void> {
  await zero(ctx.local, s.out, ctx.sizeMib * MIB);
  await forgetCache(ctx.local, vol);
}
