/**
 * Everything a copy decides before its first byte: the segment plan, what the hosts have, the
 * compression, the transport (for direct, the copy's key is installed here), whether only the
 * source's data travels (and for a thin LV, its map), and the checkpoint it may resume from.
 */
import { VolumeMigrationFailed } from "../../common/errors";
import type { Logger } from "../../common/logger";
import type { RunnerFactory } from "../../drivers/exec";
import {
  chooseCompression,
  chooseTransport,
  directBlocker,
  EXTENTS_GO_BY_RELAY,
  extentSource,
  sameHost,
  type ToolProbe,
  worthCompressing,
} from "./choose";
import { type DirectSession, openDirect } from "./direct";
import { TokenBucket } from "./meter";
import {
  type DigestScheme,
  EXTENT_CHUNK_BYTES,
  extentsScheme,
  parseBlockSize,
  planSegments,
  resumableDigests,
  type Segment,
} from "./plan";
import { planRanges } from "./ranges";
import type { SegmentContext } from "./segment";
import { thinMap } from "./thin";
import type { Compression, CopyRequest, Transport } from "./types";

export interface PrepareDeps {
  runners: RunnerFactory;
  probe: ToolProbe;
  logger: Logger;
  segmentBytes: number;
  /** Hosts with python3 may run a segment's side as one process (python.ts). */
  hostPython: boolean;
  /** The direct transport's ssh ciphers (volume_copy_ssh_ciphers). */
  sshCiphers: string;
}

export interface Setup {
  plan: Segment[];
  /** Digests of the segments a checkpoint already covers. */
  kept: string[];
  scheme: DigestScheme;
  comp: Compression;
  transport: Transport;
  note: string | undefined;
  ctx: SegmentContext;
  session: DirectSession | null;
}

export async function prepareCopy(deps: PrepareDeps, req: CopyRequest, signal: AbortSignal): Promise<Setup> {
  const { logger } = deps;
  const blockBytes = parseBlockSize(req.blockSize);
  const plan = req.ranges
    ? planRanges(req.ranges, req.sizeBytes, blockBytes, deps.segmentBytes)
    : planSegments(req.sizeBytes, blockBytes, deps.segmentBytes);
  // A size that is not whole blocks goes as one buffered segment: no O_DIRECT for a short block.
  const fallback = req.sizeBytes % blockBytes !== 0;
  const src = deps.runners.get(req.source.runner);
  const dst = deps.runners.get(req.dest.runner);
  const [srcHost, dstHost] = await Promise.all([
    deps.probe.host(req.source.runner, src, signal),
    deps.probe.host(req.dest.runner, dst, signal),
  ]);
  const [srcTools, dstTools] = [srcHost.names, dstHost.names];
  let comp = chooseCompression(req.compression, sameHost(req.source, req.dest), srcTools, dstTools);
  if ((req.compression ?? "auto") === "auto" && comp !== "none") {
    comp = await worthCompressing(src, req, comp, logger, signal);
  }
  if (comp !== "none" && !(srcTools.has(comp) && dstTools.has(comp))) {
    throw new VolumeMigrationFailed(`${comp} is not installed on both ${src.where} and ${dst.where}`);
  }
  const python = {
    src: deps.hostPython ? srcHost.python : null,
    dst: deps.hostPython ? dstHost.python : null,
  };
  // A writer that reads the source itself keeps to the limit on its own (segment.py --paced,
  // counting volume bytes, decompressed); other writers are paced by the relay through this
  // process. One host's compressed copy (asked for by name) is the bash pipeline's, which cannot.
  const paces = python.dst !== null && (comp === "none" || !sameHost(req.source, req.dest));
  const limited = (req.bpsLimit?.() ?? null) !== null;
  const ctx: SegmentContext = {
    src,
    dst,
    source: { path: req.source.path, directIo: req.source.directIo && !fallback },
    dest: { path: req.dest.path, directIo: req.dest.directIo && !fallback, sparse: req.dest.sparseTarget },
    blockBytes,
    extentChunk: null,
    sourceMap: null,
    destThin: false,
    comp,
    direct: null,
    // One host: the copy runs there, unless a limit needs this process to pace the bytes.
    local: sameHost(req.source, req.dest) && req.transport !== "relay" && (!limited || paces),
    verify: req.verify ?? "readback",
    python,
    bucket: new TokenBucket(req.bpsLimit ?? (() => null)),
    // A limit may also be set while the copy runs (an evacuation's caps): so whenever there is one
    // to ask, not only when it says something now.
    pace: req.bpsLimit && paces ? req.bpsLimit : null,
    expansion: () => 1,
    hooks: req.hooks,
  };
  let extents = extentSource(req, ctx.python, ctx.local, dstTools, srcTools);
  if (extents === "thin" && ctx.python.src !== null) {
    try {
      const whole = { offset: 0, length: req.sizeBytes };
      ctx.sourceMap = await thinMap(src, ctx.python.src, req.source.path, whole, signal);
    } catch (err) {
      if (signal.aborted) {
        throw err;
      }
      // Reading every byte is always correct, only slower.
      logger.warn({ err, path: req.source.path }, "the thin pool gave no map; copying every block");
      extents = null;
    }
  }
  const blocker = directBlocker(req, dstTools, paces) ?? (extents ? EXTENTS_GO_BY_RELAY : null);
  let transport: Transport = chooseTransport(req, blocker);
  let note =
    transport === "relay" && req.transport !== "relay" && !ctx.local ? (blocker ?? undefined) : undefined;
  if (ctx.local) {
    transport = "local";
  }
  let session: DirectSession | null = null;
  if (transport === "direct") {
    try {
      session = await openDirect({
        req,
        src,
        dst,
        comp,
        blockBytes,
        directIo: ctx.source.directIo,
        python: ctx.python.src,
        ciphers: deps.sshCiphers,
        signal,
        logger,
      });
      ctx.direct = session.source;
    } catch (err) {
      if (signal.aborted) {
        throw err;
      }
      transport = "relay";
      note = `direct transport unusable, relayed instead: ${(err as Error).message}`;
      logger.warn({ err, from: src.where, to: dst.where }, note);
    }
  }
  ctx.extentChunk = extents && transport !== "direct" ? EXTENT_CHUNK_BYTES : null;
  // A thin destination's read-back reads only what its pool mapped (the rest is zeros).
  ctx.destThin = ctx.extentChunk !== null && req.dest.thinLv === true && ctx.python.dst !== null;
  const scheme = ctx.extentChunk === null ? "sha256" : extentsScheme(ctx.extentChunk);
  const kept = req.ranges ? null : resumableDigests(req.resumeFrom, plan, req.sizeBytes, scheme);
  if (req.resumeFrom && req.resumeFrom.offset > 0 && !kept) {
    logger.warn({ offset: req.resumeFrom.offset }, "checkpoint does not fit this copy; starting over");
  }
  return { plan, kept: kept ?? [], scheme, comp, transport, note, ctx, session };
}
