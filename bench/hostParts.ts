/**
 * Same-host figures on THIS machine's own disk, with raw files as volumes (what the raw-file
 * driver copies; loop devices would add a layer no raw-file backend has): the engine's local
 * transport against `dd bs=4M iflag=direct oflag=direct`, and against "dd, then sha256sum of the
 * source, then of the destination" (what an admin runs to be sure); a 10%-written sparse file
 * against dd of the whole volume. Every run starts from a destination that reads zeros and with
 * the files' cached pages forgotten, and ends with the destination's sha256 checked. The load
 * average is taken after each run: the machine is shared, so figures are only read beside it.
 */
import { randomFillSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import type { CommandRunner } from "../drivers/exec";
import type { Cleanup } from "./cleanup";
import { type EngineRef, type EngineRun, runEngineCopy } from "./engine";
import { describe, scatteredMib, timeoutMs } from "./labParts";
import { assertSameSha, attempt, LONG_MS, MIB, sha256Of, timed } from "./measure";
import { forgetCache, type Volume, writeVolumeFile, zero } from "./volumes";

export interface HostContext {
  local: CommandRunner;
  engine: EngineRef;
  sizeMib: number;
  repeat: number;
  tmp: string;
  cleanup: Cleanup;
  signal: AbortSignal;
  log: (line: string) => void;
}

/** What each measurement is called in the figures (and in `load`). */
export type HostRun = "dd" | "dd_sha256sum" | "engine_stream" | "engine_readback" | "engine_sparse";

export interface HostFigures {
  seconds: Record<"dd" | "dd_sha256sum", number[]>;
  engine: Record<"stream" | "readback" | "sparse", EngineRun[]>;
  /** 1-minute load average right after each run, by measurement. */
  load: Record<HostRun, number[]>;
  /** Whether the files take O_DIRECT (ext4, xfs); the engine's endpoints say so too. */
  directIo: boolean;
  /** Allocated share of the sparse source, and of each destination after the engine's copy. */
  sparseSourcePercent: number | null;
  sparseDestPercent: number[];
  errors: string[];
}

/** Files the host part writes under the temp dir: two dense volumes and the sparse pair's data. */
export function hostNeedMib(sizeMib: number): number {
  return 2 * sizeMib + Math.ceil(sizeMib / 5) + 64;
}

export async function measureHost(ctx: HostContext): Promise<HostFigures> {
  const bytes = ctx.sizeMib * MIB;
  const file = (name: string): string => path.join(ctx.tmp, `host-${name}.img`);
  const plain = (f: string): Volume => ({ path: f, file: f, directIo: false, detach: async () => undefined });
  const src = plain(file("dense-src"));
  const dst = plain(file("dense-dst"));
  ctx.log(`host: writing ${src.file} (${ctx.sizeMib} MiB, random)`);
  writeVolumeFile(src.file, bytes, "random");
  await ctx.local.run(["truncate", "-s", String(bytes), dst.file]);
  const directIo = await takesDirectIo(ctx.local, dst.file);
  const sparseSrc = plain(file("sparse-src"));
  writeSparse(sparseSrc.file, ctx.sizeMib);
  const sparseDst = plain(file("sparse-dst"));
  const opts = { signal: ctx.signal, direct: directIo };
  const srcSha = await sha256Of(ctx.local, src.file, bytes, opts);
  const sparseSha = await sha256Of(ctx.local, sparseSrc.file, bytes, opts);
  const figures: HostFigures = {
    seconds: { dd: [], dd_sha256sum: [] },
    engine: { stream: [], readback: [], sparse: [] },
    load: { dd: [], dd_sha256sum: [], engine_stream: [], engine_readback: [], engine_sparse: [] },
    directIo,
    sparseSourcePercent: allocatedPercent(sparseSrc.file, bytes),
    sparseDestPercent: [],
    errors: [],
  };
  const fresh = async (): Promise<void> => {
    await zero(ctx.local, dst, bytes);
    await forgetCache(ctx.local, src);
  };
  const checked = async (what: string): Promise<void> =>
    assertSameSha(what, srcSha, await sha256Of(ctx.local, dst.file, bytes, opts));
  const note = (run: HostRun, s: number, extra = ""): void => {
    figures.load[run].push(os.loadavg()[0]!);
    ctx.log(`host ${run}: ${s.toFixed(2)} s${extra} (load ${os.loadavg()[0]!.toFixed(2)})`);
  };
  const dd = ["dd", `if=${src.file}`, `of=${dst.file}`, "bs=4M", "conv=notrunc", "status=none"];
  const ddArgv = directIo ? [...dd, "iflag=direct", "oflag=direct"] : [...dd, "conv=fdatasync"];
  const run = (argv: string[]): Promise<unknown> =>
    ctx.local.run(argv, { signal: ctx.signal, timeoutMs: timeoutMs(ctx.sizeMib) });
  for (let i = 0; i < ctx.repeat; i++) {
    await fresh();
    const s = await timed(() => run(ddArgv));
    await checked("dd file→file");
    figures.seconds.dd.push(s);
    note("dd", s);

    await fresh();
    let sums: string[] = [];
    const t = await timed(async () => {
      await run(ddArgv);
      // One after the other, as an admin types them; nothing of either file is cached.
      const a = await ctx.local.run(["sha256sum", src.file], { signal: ctx.signal, timeoutMs: LONG_MS });
      const b = await ctx.local.run(["sha256sum", dst.file], { signal: ctx.signal, timeoutMs: LONG_MS });
      sums = [a.stdout.split(" ")[0]!, b.stdout.split(" ")[0]!];
    });
    assertSameSha("dd + sha256sum", sums[0]!, sums[1]!);
    figures.seconds.dd_sha256sum.push(t);
    note("dd_sha256sum", t);

    for (const verify of ["stream", "readback"] as const) {
      await fresh();
      const r = await attempt(`host ${verify}`, figures.errors, ctx.signal, async () => {
        const got = await copy(ctx, src.file, dst.file, directIo, verify);
        await checked(`engine ${verify}`);
        return got;
      });
      if (r) {
        figures.engine[verify].push(r);
        note(`engine_${verify}`, r.seconds, `, ${describe(r)}`);
      }
    }

    fs.rmSync(sparseDst.file, { force: true });
    await ctx.local.run(["truncate", "-s", String(bytes), sparseDst.file]);
    await forgetCache(ctx.local, sparseSrc);
    const r = await attempt("host sparse", figures.errors, ctx.signal, async () => {
      const got = await copy(ctx, sparseSrc.file, sparseDst.file, directIo, "readback");
      assertSameSha("engine sparse", sparseSha, await sha256Of(ctx.local, sparseDst.file, bytes, opts));
      return got;
    });
    if (r) {
      figures.engine.sparse.push(r);
      figures.sparseDestPercent.push(allocatedPercent(sparseDst.file, bytes));
      note("engine_sparse", r.seconds, `, ${describe(r)}`);
    }
  }
  return figures;
}

/** The engine on two files of this machine, as the raw-file driver's endpoints describe them. */
function copy(
  ctx: HostContext,
  src: string,
  dst: string,
  directIo: boolean,
  verify: "stream" | "readback",
): Promise<EngineRun> {
  const bytes = ctx.sizeMib * MIB;
  const ep = { runner: { kind: "local" as const }, sizeBytes: bytes, directIo, sparseTarget: true };
  return runEngineCopy(
    ctx.engine,
    {
      // Raw-file volumes map their data (RawFileDriver.copyEndpoint): dense or sparse alike.
      source: { ...ep, path: src, mapsData: true },
      dest: { ...ep, path: dst },
      sizeBytes: bytes,
      blockSize: "4M",
      compression: "auto",
      transport: "auto",
      verify,
    },
    { signal: ctx.signal, timeoutMs: timeoutMs(ctx.sizeMib) },
  );
}

/** A sparse file of SIZEMIB with random data in 10% of its 1 MiB blocks (the lab's pattern). */
function writeSparse(file: string, sizeMib: number): void {
  const fd = fs.openSync(file, "w");
  try {
    fs.ftruncateSync(fd, sizeMib * MIB);
    const buf = Buffer.alloc(MIB);
    for (const o of scatteredMib(sizeMib, 0.1)) {
      randomFillSync(buf);
      fs.writeSync(fd, buf, 0, MIB, o * MIB);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Allocated bytes of FILE as a percentage of SIZE (st_blocks are 512-byte units). */
function allocatedPercent(file: string, size: number): number {
  return Number(((fs.statSync(file).blocks * 512 * 100) / size).toFixed(1));
}

async function takesDirectIo(local: CommandRunner, file: string): Promise<boolean> {
  try {
    await local.run([
      "dd",
      `if=${file}`,
      "of=/dev/null",
      "bs=4096",
      "count=1",
      "iflag=direct",
      "status=none",
    ]);
    return true;
  } catch {
    return false;
  }
}
