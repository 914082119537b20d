/**
 * Same-host figures on lab host-a: the engine (`verify: stream`, and `readback`, the default)
 * against `dd bs=4M iflag=direct oflag=direct` from an LV of cinder-a to one of cinder-a2 (dense
 * random data) and against what an admin runs to be sure (that dd, then `sha256sum` of the source,
 * then of the copy), and the engine on a thin source of which 10% is written, scattered, to a
 * fresh thin LV. Baseline and engine runs alternate; every run
 * starts with a destination that cannot already hold the right bytes and with the guest's caches
 * dropped, and ends with the destination's sha256 checked on the host.
 */
import type { SshRunnerSpec } from "../drivers/exec";
import type { Cleanup } from "./cleanup";
import { type EngineRef, type EngineRun, runEngineCopy } from "./engine";
import type { Guest } from "./guest";
import { assertSameSha, attempt, MIB, sha256Of, timed } from "./measure";
import type { Part } from "./options";

export interface LabContext {
  guest: Guest;
  spec: SshRunnerSpec;
  vgs: [string, string];
  engine: EngineRef;
  sizeMib: number;
  repeat: number;
  parts: ReadonlySet<Part>;
  cleanup: Cleanup;
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface LabFigures {
  ddSeconds: number[];
  /** dd, then sha256sum of the source, then of the copy (one command on the guest). */
  ddShaSeconds: number[];
  /** The engine with verify=readback (its default). */
  dense: EngineRun[];
  /** The engine with verify=stream. */
  denseStream: EngineRun[];
  sparse: EngineRun[];
  /** Allocated share of the thin source, and of each thin destination after the engine's copy. */
  sparseSourcePercent: number | null;
  sparseDestPercent: number[];
  /** Measurements that failed (the others still ran). */
  errors: string[];
}

const LV = {
  denseSrc: "bench-dense-src",
  denseDst: "bench-dense-dst",
  poolSrc: "bench-pool-src",
  poolDst: "bench-pool-dst",
  thinSrc: "bench-thin-src",
  thinDst: "bench-thin-dst",
} as const;

/** Room a size needs in each VG: a thick LV and a thin pool of that size, plus pool metadata. */
export function labNeedMib(sizeMib: number): number {
  return 2 * sizeMib + 32;
}

/** Removes this bench's LVs from both VGs (thin LVs before their pools). */
export async function removeLabLvs(guest: Guest, vgs: readonly string[]): Promise<void> {
  for (const vg of vgs) {
    for (const lv of [LV.thinSrc, LV.thinDst, LV.poolSrc, LV.poolDst, LV.denseSrc, LV.denseDst]) {
      await guest.removeLv(vg, lv);
    }
  }
}

export async function measureLab(ctx: LabContext): Promise<LabFigures> {
  const { guest, vgs, sizeMib, log } = ctx;
  const bytes = sizeMib * MIB;
  await removeLabLvs(guest, vgs);
  ctx.cleanup.add("remove the bench LVs on the lab host", () => removeLabLvs(guest, vgs));
  const src = await guest.createLv(vgs[0], LV.denseSrc, sizeMib);
  const dst = await guest.createLv(vgs[1], LV.denseDst, sizeMib);
  log(`lab: filling ${src} (${sizeMib} MiB) from /dev/urandom`);
  await guest.fill(src, sizeMib, "/dev/urandom");
  const srcSha = await sha256Of(guest.runner, src, bytes, { signal: ctx.signal, direct: true });

  const figures: LabFigures = {
    ddSeconds: [],
    ddShaSeconds: [],
    dense: [],
    denseStream: [],
    sparse: [],
    sparseSourcePercent: null,
    sparseDestPercent: [],
    errors: [],
  };
  for (let i = 0; i < ctx.repeat; i++) {
    await guest.fill(dst, sizeMib, "/dev/zero");
    await guest.dropCaches();
    const s = await timed(() =>
      guest.runner.run(
        ["dd", `if=${src}`, `of=${dst}`, "bs=4M", "iflag=direct", "oflag=direct", "status=none"],
        {
          signal: ctx.signal,
          timeoutMs: timeoutMs(sizeMib),
        },
      ),
    );
    assertSameSha(
      "dd LV→LV",
      srcSha,
      await sha256Of(guest.runner, dst, bytes, { signal: ctx.signal, direct: true }),
    );
    figures.ddSeconds.push(s);
    log(`lab: dd ${sizeMib} MiB LV→LV: ${s.toFixed(2)} s`);
    if (!ctx.parts.has("dense") || figures.errors.length > 0) {
      continue;
    }
    await guest.fill(dst, sizeMib, "/dev/zero");
    await guest.dropCaches();
    const ddSha = await timed(() =>
      guest.runner.run(["bash", "-c", DD_SHA256SUM, "dd-sha256sum", src, dst], {
        signal: ctx.signal,
        timeoutMs: 3 * timeoutMs(sizeMib),
      }),
    );
    assertSameSha(
      "dd+sha256sum LV→LV",
      srcSha,
      await sha256Of(guest.runner, dst, bytes, { signal: ctx.signal, direct: true }),
    );
    figures.ddShaSeconds.push(ddSha);
    log(`lab: dd then sha256sum of both ${sizeMib} MiB: ${ddSha.toFixed(2)} s`);
    for (const mode of ["stream", "readback"] as const) {
      await guest.fill(dst, sizeMib, "/dev/zero");
      await guest.dropCaches();
      const run = await attempt(`dense ${mode}`, figures.errors, ctx.signal, async () => {
        const r = await engineCopy(ctx, src, dst, false, mode);
        await verify(ctx, r, srcSha, dst, `engine dense LV→LV, verify ${mode}`);
        return r;
      });
      if (run) {
        (mode === "stream" ? figures.denseStream : figures.dense).push(run);
        log(
          `lab: engine dense ${sizeMib} MiB, verify ${mode}: ${run.seconds.toFixed(2)} s (${describe(run)})`,
        );
      }
    }
  }
  if (ctx.parts.has("sparse")) {
    await attempt("sparse", figures.errors, ctx.signal, () => measureSparse(ctx, figures));
  }
  return figures;
}

async function measureSparse(ctx: LabContext, figures: LabFigures): Promise<void> {
  const { guest, vgs, sizeMib, log } = ctx;
  const bytes = sizeMib * MIB;
  await guest.createThinPool(vgs[0], LV.poolSrc, sizeMib);
  await guest.createThinPool(vgs[1], LV.poolDst, sizeMib);
  const src = await guest.createThin(vgs[0], LV.poolSrc, LV.thinSrc, sizeMib);
  const offsets = scatteredMib(sizeMib, 0.1);
  log(`lab: writing ${offsets.length} scattered 1 MiB blocks of ${src} (10% of ${sizeMib} MiB)`);
  await guest.scatter(src, offsets);
  figures.sparseSourcePercent = await guest.dataPercent(vgs[0], LV.thinSrc);
  const srcSha = await sha256Of(guest.runner, src, bytes, { signal: ctx.signal, direct: true });
  for (let i = 0; i < ctx.repeat; i++) {
    await guest.removeLv(vgs[1], LV.thinDst);
    const dst = await guest.createThin(vgs[1], LV.poolDst, LV.thinDst, sizeMib);
    await guest.dropCaches();
    const run = await engineCopy(ctx, src, dst, true);
    await verify(ctx, run, srcSha, dst, "engine sparse thin→thin");
    figures.sparse.push(run);
    figures.sparseDestPercent.push(await guest.dataPercent(vgs[1], LV.thinDst));
    log(`lab: engine sparse ${sizeMib} MiB: ${run.seconds.toFixed(2)} s (${describe(run)})`);
  }
  await guest.removeLv(vgs[1], LV.thinDst);
}

/** 1 MiB block numbers, SHARE of them, spread at random (seeded: the same every run). */
export function scatteredMib(sizeMib: number, share: number): number[] {
  let a = 12345;
  const rand = (): number => {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    return a / 4294967296;
  };
  const picked = new Set<number>();
  const want = Math.max(1, Math.round(sizeMib * share));
  while (picked.size < want) {
    picked.add(Math.floor(rand() * sizeMib));
  }
  return [...picked].sort((x, y) => x - y);
}

/**
 * What an admin types to be sure: the copy, then each side's sha256 with coreutils (the guest's
 * tool an admin reaches for), compared. `bash -c DD_SHA256SUM dd-sha256sum SRC DST`.
 */
const DD_SHA256SUM = [
  "set -e",
  'dd if="$1" of="$2" bs=4M iflag=direct oflag=direct status=none',
  'a=$(sha256sum <"$1")',
  'b=$(sha256sum <"$2")',
  '[ "${a%% *}" = "${b%% *}" ]',
].join("\n");

function engineCopy(
  ctx: LabContext,
  src: string,
  dst: string,
  thin: boolean,
  verify: "stream" | "readback" = "readback",
): Promise<EngineRun> {
  const bytes = ctx.sizeMib * MIB;
  // As the LVM driver describes its LVs: a thin one reads zeros where nothing was written.
  const ep = { runner: ctx.spec, sizeBytes: bytes, directIo: true, thinLv: thin };
  return runEngineCopy(
    ctx.engine,
    {
      source: { ...ep, path: src, sparseTarget: false },
      dest: { ...ep, path: dst, sparseTarget: thin },
      sizeBytes: bytes,
      blockSize: "4M",
      compression: "auto",
      transport: "auto",
      verify,
    },
    { signal: ctx.signal, timeoutMs: timeoutMs(ctx.sizeMib) },
  );
}

async function verify(
  ctx: LabContext,
  run: EngineRun,
  srcSha: string,
  dst: string,
  what: string,
): Promise<void> {
  const bytes = ctx.sizeMib * MIB;
  if (run.result.bytes !== bytes || run.result.sourceSha256 !== run.result.destSha256) {
    throw new Error(`${what}: the engine reported ${JSON.stringify(run.result)}`);
  }
  assertSameSha(
    what,
    srcSha,
    await sha256Of(ctx.guest.runner, dst, bytes, { signal: ctx.signal, direct: true }),
  );
}

export function describe(run: EngineRun): string {
  const r = run.result;
  return `compression ${r.compression ?? "?"}, transport ${r.transport ?? "?"}, max RSS ${run.maxRssMib.toFixed(0)} MiB`;
}

/** Generous: 2 minutes plus 1 s per MiB (about 1 MB/s, far below any sane copy). */
export function timeoutMs(sizeMib: number): number {
  return 120_000 + sizeMib * 1000;
}
