/**
 * What a copy uses when the request says "auto": the compression both hosts have, and whether the
 * destination may read from the source itself. Tool probes run once per host and are cached.
 */
import { isIP } from "node:net";

import type { Logger } from "../../common/logger";
import type { CommandRunner, RunnerSpec } from "../../drivers/exec/types";
import type { CopyEndpoint } from "../../drivers/types";
import { bash, PROBE_SCRIPT, SAMPLE_SCRIPT } from "./scripts";
import type { Compression, CopyRequest, Transport } from "./types";

/**
 * perl maps a file's data ranges for the extents format (scripts/lib/extents.sh); python3 runs a
 * segment's side as one process (python.ts).
 */
const TOOLS = ["lz4", "zstd", "gzip", "ssh", "flock", "perl", "python3"] as const;
/** Fastest first: lz4 compresses ~2x faster than zstd -1 here, gzip -1 is 5–10x slower (peers.md §2.3). */
const AUTO_ORDER: readonly Compression[] = ["lz4", "zstd"];

/** A host's identity for caching and for "same host": kind, address and port (not the user). */
export function hostKey(spec: RunnerSpec): string {
  return spec.kind === "local" ? "local" : `ssh:${spec.host}:${spec.port}`;
}

/** What a host has: its tools by name, and its python3 interpreter (resolved) if segment.py runs there. */
export interface HostTools {
  names: ReadonlySet<string>;
  python: string | null;
}

export class ToolProbe {
  private readonly cache = new Map<string, Promise<HostTools>>();

  async tools(spec: RunnerSpec, runner: CommandRunner, signal?: AbortSignal): Promise<ReadonlySet<string>> {
    return (await this.host(spec, runner, signal)).names;
  }

  host(spec: RunnerSpec, runner: CommandRunner, signal?: AbortSignal): Promise<HostTools> {
    const key = hostKey(spec);
    let p = this.cache.get(key);
    if (!p) {
      p = runner.run(bash(PROBE_SCRIPT, "probe", ...TOOLS), { signal, timeoutMs: 60_000 }).then((r) => {
        const lines = r.stdout.split("\n").filter(Boolean);
        const python = lines.find((l) => l.startsWith("python3=/"))?.slice("python3=".length) ?? null;
        const names = new Set(lines.filter((l) => !l.includes("=")));
        return { names, python: names.has("python3") ? python : null };
      });
      // A failed probe (host down, cancelled) is not remembered: the next copy asks again.
      p.catch(() => this.cache.delete(key));
      this.cache.set(key, p);
    }
    return p;
  }
}

export function sameHost(a: CopyEndpoint, b: CopyEndpoint): boolean {
  return hostKey(a.runner) === hostKey(b.runner);
}

export function chooseCompression(
  asked: CopyRequest["compression"],
  same: boolean,
  srcTools: ReadonlySet<string>,
  dstTools: ReadonlySet<string>,
): Compression {
  if (asked && asked !== "auto") {
    return asked;
  }
  if (same) {
    return "none";
  }
  return AUTO_ORDER.find((c) => srcTools.has(c) && dstTools.has(c)) ?? "none";
}

/** Below this compressed/raw ratio on the samples, compressing pays for its CPU. */
const WORTH_RATIO = 0.85;
const SAMPLE_MIB = 1;
const SAMPLES = 8;

/**
 * "auto" compression only where the data compresses: eight 1 MiB samples spread over the source
 * are compressed on the source host first. Random or already-compressed
 * volumes then travel uncompressed instead of costing a core on both hosts for nothing. A failed
 * sample keeps the compression (it is correct either way).
 */
export async function worthCompressing(
  src: CommandRunner,
  req: CopyRequest,
  comp: Compression,
  logger: Logger,
  signal?: AbortSignal,
): Promise<Compression> {
  const mib = Math.floor(req.sizeBytes / 2 ** 20);
  if (mib < SAMPLE_MIB) {
    return comp;
  }
  const offsets = sampleOffsets(mib);
  try {
    const r = await src.run(
      bash(
        SAMPLE_SCRIPT,
        "sample",
        req.source.path,
        comp,
        req.source.directIo ? "1" : "0",
        ...offsets.map(String),
      ),
      { signal, timeoutMs: 120_000 },
    );
    const ratio = Number(r.stdout.trim()) / (offsets.length * SAMPLE_MIB * 2 ** 20);
    if (Number.isFinite(ratio) && ratio > WORTH_RATIO) {
      logger.info(
        { compression: comp, ratio: Math.round(ratio * 1000) / 1000 },
        "data does not compress; sending it as is",
      );
      return "none";
    }
  } catch (e) {
    if (signal?.aborted) {
      throw e;
    }
    logger.warn({ err: e }, "compression sample failed; compressing anyway");
  }
  return comp;
}

/**
 * Where the samples are read, in MiB: one in each eighth of the volume, at a fixed but irregular
 * place within it (the golden ratio's multiples). Evenly spaced samples land on the same spot
 * of any structure that repeats at a power of two (a file system's block groups, a database's
 * extents): a volume of 4 MiB blocks cycling random, random, text, zeros was sampled at its
 * random blocks only, and sent uncompressed.
 */
export function sampleOffsets(mib: number): number[] {
  const span = mib / SAMPLES;
  const at = Array.from({ length: SAMPLES }, (_, i) => Math.floor(span * (i + (((i + 1) * 0.618034) % 1))));
  return [...new Set(at.map((o) => Math.min(o, mib - SAMPLE_MIB)))].filter((o) => o >= 0);
}

/**
 * A path the direct transport can put into an authorized_keys forced command: that line is
 * parsed by sshd (only `\"` is an escape inside its quotes) before a shell sees it, so paths with
 * quotes, backslashes or control characters go by relay instead.
 */
export function directSafePath(path: string): boolean {
  return /^\/[A-Za-z0-9._+:@=/-]+$/.test(path);
}

/**
 * Why "auto" (or an explicit "direct") cannot go direct, or null when it can. `paces`: the
 * destination's writer can keep to a bandwidth limit itself (segment.py, uncompressed).
 */
export function directBlocker(
  req: CopyRequest,
  dstTools: ReadonlySet<string>,
  paces: boolean,
): string | null {
  const { source, dest } = req;
  if (source.runner.kind !== "ssh" || dest.runner.kind !== "ssh") {
    return "direct needs SSH runners on both ends";
  }
  if (sameHost(source, dest)) {
    return "source and destination are one host";
  }
  if (!dstTools.has("ssh")) {
    return "the destination host has no ssh client";
  }
  if (!paces && (req.bpsLimit?.() ?? null) !== null) {
    return "a bandwidth limit is set and the destination cannot pace (it has no python3)";
  }
  if (!directSafePath(source.path)) {
    return `the source path ${JSON.stringify(source.path)} cannot go into a forced command`;
  }
  return null;
}

export const EXTENTS_GO_BY_RELAY = "the source is sparse: its data ranges go by relay";

/**
 * Whether a copy may move only the source's data (the extents records of scripts/lib/extents.sh),
 * and how the source says where its data is: `seek`, a file's lseek(SEEK_DATA/SEEK_HOLE) (perl
 * on both hosts); `thin`, an LVM thin LV's pool map (thin.ts: python3 on the source host, and the
 * records applied by segment.py on one host or by perl across hosts). Only when the destination
 * reads zeros where nothing is written; not when the direct transport is asked for by name (its
 * forced command reads bytes only), nor under a bandwidth limit: the limit is in volume bytes per
 * second (as compressed copies pay it), and a copy that skips holes would either ignore it or
 * pace zeros it never reads.
 */
export function extentSource(
  req: CopyRequest,
  python: { src: string | null; dst: string | null },
  local: boolean,
  dstTools: ReadonlySet<string>,
  srcTools: ReadonlySet<string>,
): "seek" | "thin" | null {
  if (!req.dest.sparseTarget || req.transport === "direct" || (req.bpsLimit?.() ?? null) !== null) {
    return null;
  }
  if (req.source.mapsData === true && srcTools.has("perl") && dstTools.has("perl")) {
    return "seek";
  }
  if (
    req.source.thinLv === true &&
    python.src !== null &&
    (local ? python.dst !== null : dstTools.has("perl"))
  ) {
    return "thin";
  }
  return null;
}

export function chooseTransport(req: CopyRequest, blocker: string | null): Transport {
  const asked = req.transport ?? "auto";
  return asked === "relay" || blocker !== null ? "relay" : "direct";
}

/** The destination's address as the source sees it, for `from=`; only an IP literal is usable. */
export function fromAddress(dest: CopyEndpoint): string | null {
  const addr = dest.dataAddress ?? (dest.runner.kind === "ssh" ? dest.runner.host : null);
  return addr !== null && isIP(addr) !== 0 ? addr : null;
}
