import { MigrationCancelled, VolumeMigrationFailed } from "../../common/errors";
import { type Logger, silentLogger } from "../../common/logger";
import type { RunnerFactory } from "../../drivers/exec";
import type { CopyEndpoint } from "../../drivers/types";
import {
  chooseCompression,
  chooseTransport,
  directBlocker,
  EXTENTS_GO_BY_RELAY,
  sameHost,
  ToolProbe,
  useExtents,
  worthCompressing,
} from "./choose";
import { chunkDigests } from "./digests";
import { type DirectSession, openDirect } from "./direct";
import { RateWindow, TokenBucket } from "./meter";
import {
  checkpointOf,
  combineDigests,
  DEFAULT_SEGMENT_BYTES,
  type DigestScheme,
  EXTENT_CHUNK_BYTES,
  extentsScheme,
  parseBlockSize,
  planSegments,
  resumableDigests,
  type Segment,
} from "./plan";
import { planRanges } from "./ranges";
import {
  readBackSegment,
  type SegmentContext,
  type SegmentDigests,
  type SegmentMeter,
  writeSegment,
} from "./segment";
import type { Compression, CopyRequest, CopyResult, Transport, VolumeCopier } from "./types";

/** How often progress is reported and the bandwidth limit read again. */
const TICK_MS = 1000;

export interface CopyEngineDeps {
  runners: RunnerFactory;
  logger?: Logger;
  /** @defaultValue DEFAULT_SEGMENT_BYTES (256 MiB) */
  segmentBytes?: number;
  /**
   * Segments in flight at once. Two keep both hosts busy (one segment's read-back or sync overlaps
   * the next one's transfer) and hide one SSH channel's window; more only adds seeks on one disk.
   * @defaultValue 2
   */
  parallel?: number;
  /**
   * Let hosts with python3 do a segment's side in one process (scripts/segment.py); false keeps
   * the bash pipelines everywhere (tests of those, and a way out should a host's Python misbehave).
   * @defaultValue true
   */
  hostPython?: boolean;
}

/**
 * The copy engine: the volume moves in segments, each read by `dd` on the source host and written
 * by `dd` on the destination host, hashed on both hosts, optionally read back, then checkpointed
 * (scripts.ts has the commands, segment.ts one segment). Node never opens a volume: it joins the
 * hosts' streams (relay) or lets the destination fetch from the source (direct), paces, counts and
 * compares.
 */
export class CopyEngine implements VolumeCopier {
  private readonly probe = new ToolProbe();
  private readonly logger: Logger;

  constructor(private readonly deps: CopyEngineDeps) {
    this.logger = deps.logger ?? silentLogger();
  }

  async copy(asked: CopyRequest): Promise<CopyResult> {
    // Ranges land on a destination that holds data already: zeros must be written, not skipped.
    const req = asked.ranges ? { ...asked, dest: { ...asked.dest, sparseTarget: false } } : asked;
    if (req.signal?.aborted) {
      throw new MigrationCancelled("cancelled before the copy started");
    }
    if (!Number.isSafeInteger(req.sizeBytes) || req.sizeBytes <= 0) {
      throw new VolumeMigrationFailed(`bad copy size ${req.sizeBytes}`);
    }
    if (req.dest.sizeBytes > 0 && req.dest.sizeBytes < req.sizeBytes) {
      throw new VolumeMigrationFailed(`destination holds ${req.dest.sizeBytes} bytes, need ${req.sizeBytes}`);
    }
    const controller = new AbortController();
    const signal = req.signal ? AbortSignal.any([req.signal, controller.signal]) : controller.signal;
    let session: DirectSession | null = null;
    try {
      const setup = await this.prepare(req, signal);
      session = setup.session;
      return await this.run(req, setup, signal, controller);
    } catch (err) {
      if (req.signal?.aborted) {
        throw new MigrationCancelled("cancelled during the copy", { cause: err });
      }
      throw err instanceof VolumeMigrationFailed
        ? err
        : new VolumeMigrationFailed((err as Error).message, { cause: err });
    } finally {
      await session?.close();
    }
  }

  chunkDigests(
    endpoint: CopyEndpoint,
    r: { sizeBytes: number; chunkBytes: number; blockSize: string; signal?: AbortSignal },
  ): Promise<string[]> {
    return chunkDigests(this.deps.runners.get(endpoint.runner), endpoint, r);
  }

  async probeHosts(endpoints: readonly CopyEndpoint[], signal?: AbortSignal): Promise<void> {
    await Promise.all(
      endpoints.map((e) => this.probe.tools(e.runner, this.deps.runners.get(e.runner), signal)),
    );
  }

  /** Plan, tools, compression and transport; for direct, the copy's key is installed here. */
  private async prepare(req: CopyRequest, signal: AbortSignal): Promise<Setup> {
    const blockBytes = parseBlockSize(req.blockSize);
    const segmentBytes = this.deps.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    const plan = req.ranges
      ? planRanges(req.ranges, req.sizeBytes, blockBytes, segmentBytes)
      : planSegments(req.sizeBytes, blockBytes, segmentBytes);
    // A size that is not whole blocks goes as one buffered segment: no O_DIRECT for a short block.
    const fallback = req.sizeBytes % blockBytes !== 0;
    const src = this.deps.runners.get(req.source.runner);
    const dst = this.deps.runners.get(req.dest.runner);
    const [srcTools, dstTools] = await Promise.all([
      this.probe.tools(req.source.runner, src, signal),
      this.probe.tools(req.dest.runner, dst, signal),
    ]);
    let comp = chooseCompression(req.compression, sameHost(req.source, req.dest), srcTools, dstTools);
    if ((req.compression ?? "auto") === "auto" && comp !== "none") {
      comp = await worthCompressing(src, req, comp, this.logger, signal);
    }
    if (comp !== "none" && !(srcTools.has(comp) && dstTools.has(comp))) {
      throw new VolumeMigrationFailed(`${comp} is not installed on both ${src.where} and ${dst.where}`);
    }
    const ctx: SegmentContext = {
      src,
      dst,
      source: { path: req.source.path, directIo: req.source.directIo && !fallback },
      dest: { path: req.dest.path, directIo: req.dest.directIo && !fallback, sparse: req.dest.sparseTarget },
      blockBytes,
      extentChunk: null,
      comp,
      direct: null,
      // One host: the copy runs there, unless a limit needs this process to pace the bytes.
      local:
        sameHost(req.source, req.dest) && req.transport !== "relay" && (req.bpsLimit?.() ?? null) === null,
      verify: req.verify ?? "readback",
      python: {
        src: this.deps.hostPython !== false && srcTools.has("python3"),
        dst: this.deps.hostPython !== false && dstTools.has("python3"),
      },
      bucket: new TokenBucket(req.bpsLimit ?? (() => null)),
      expansion: () => 1,
      hooks: req.hooks,
    };
    const extents = useExtents(req, srcTools, dstTools);
    const blocker = directBlocker(req, dstTools) ?? (extents ? EXTENTS_GO_BY_RELAY : null);
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
          signal,
          logger: this.logger,
        });
        ctx.direct = session.source;
      } catch (err) {
        if (signal.aborted) {
          throw err;
        }
        transport = "relay";
        note = `direct transport unusable, relayed instead: ${(err as Error).message}`;
        this.logger.warn({ err, from: src.where, to: dst.where }, note);
      }
    }
    ctx.extentChunk = extents && transport !== "direct" ? EXTENT_CHUNK_BYTES : null;
    const scheme = ctx.extentChunk === null ? "sha256" : extentsScheme(ctx.extentChunk);
    const kept = req.ranges ? null : resumableDigests(req.resumeFrom, plan, req.sizeBytes, scheme);
    if (req.resumeFrom && req.resumeFrom.offset > 0 && !kept) {
      this.logger.warn({ offset: req.resumeFrom.offset }, "checkpoint does not fit this copy; starting over");
    }
    return { plan, kept: kept ?? [], scheme, comp, transport, note, ctx, session };
  }

  private async run(
    req: CopyRequest,
    s: Setup,
    signal: AbortSignal,
    controller: AbortController,
  ): Promise<CopyResult> {
    const { plan, kept, ctx } = s;
    const started = Date.now();
    const resumedBytes = kept.length > 0 ? checkpointOf(plan, req.sizeBytes, kept).offset : 0;
    const results: (SegmentDigests | undefined)[] = kept.map((d) => ({ source: d, dest: d }));
    const inflight = new Map<number, SegmentMeter>();
    const totals = { done: resumedBytes, wire: 0, volume: 0 };
    const countsWire = s.transport === "relay" && s.comp === "none";
    const bytesDone = (): number => {
      let partial = 0;
      for (const m of inflight.values()) {
        partial += countsWire ? Math.max(m.wire, m.written) : m.written;
      }
      return Math.min(req.sizeBytes, totals.done + partial);
    };
    if (s.comp !== "none") {
      // Compressed relays pay the bucket in volume bytes: wire bytes times the ratio seen so far.
      ctx.expansion = () => (totals.wire > 0 ? Math.max(1, totals.volume / totals.wire) : 1);
    }
    const window = new RateWindow();
    const report = (): void => {
      const done = bytesDone();
      req.onProgress?.({ bytesDone: done, bytesTotal: req.sizeBytes, rateBps: window.add(done) });
    };
    window.add(resumedBytes);
    const ticker = setInterval(() => {
      ctx.bucket.refresh();
      report();
    }, TICK_MS);
    this.logger.info(
      {
        compression: s.comp,
        transport: s.transport,
        segments: plan.length,
        resumedBytes,
        python: ctx.python,
        note: s.note,
      },
      "volume copy starting",
    );

    let checkpointed = kept.length;
    let chain = Promise.resolve();
    // Checkpoints cover the done prefix only: a later segment finishing first waits for its turn.
    const advance = (): Promise<void> =>
      (chain = chain.then(async () => {
        const before = checkpointed;
        while (results[checkpointed]) {
          checkpointed++;
        }
        if (checkpointed > before) {
          const digests = results.slice(0, checkpointed).map((r) => r!.source);
          await req.onCheckpoint?.(checkpointOf(plan, req.sizeBytes, digests, s.scheme));
        }
      }));
    const queue: Segment[] = plan.slice(kept.length);
    let failure: unknown = null;
    const fail = (err: unknown): void => {
      // The first failure stops the others; their own (abort) errors are not the story.
      failure ??= err;
      controller.abort();
    };
    // Each worker copies its next segment while the read-back of its previous one runs (at most one
    // behind), so verifying costs the overlap, not a second pass after each segment. A read-back
    // failure aborts the copy at once rather than when its worker next looks.
    const worker = async (): Promise<void> => {
      let behind: Promise<void> = Promise.resolve();
      for (let seg = queue.shift(); seg && !signal.aborted; seg = queue.shift()) {
        const meter: SegmentMeter = { wire: 0, written: 0 };
        inflight.set(seg.index, meter);
        const segStarted = Date.now();
        const written = await writeSegment(ctx, seg, meter, signal);
        inflight.delete(seg.index);
        this.logger.debug({ segment: seg.index, ms: Date.now() - segStarted }, "segment copied");
        totals.done += seg.length;
        totals.wire += meter.wire;
        totals.volume += seg.length;
        // The previous read-back ran beside this segment's copy; wait for it before starting this
        // one's, so a worker is never more than one read-back behind.
        await behind;
        const done = seg;
        behind = (async () => {
          results[done.index] = await readBackSegment(ctx, done, written, signal);
          await advance();
        })();
        behind.catch(fail);
      }
      await behind;
    };
    try {
      const workers = Array.from({ length: Math.max(1, this.deps.parallel ?? 2) }, () =>
        worker().catch(fail),
      );
      await Promise.all(workers);
    } finally {
      clearInterval(ticker);
    }
    if (failure !== null || signal.aborted) {
      throw failure ?? new MigrationCancelled();
    }
    report();
    const seconds = (Date.now() - started) / 1000;
    const planned = plan.reduce((n, seg) => n + seg.length, 0);
    const copied = planned - resumedBytes;
    this.logger.info(
      { bytes: copied, seconds, compression: s.comp, transport: s.transport },
      `Volume copy ${(copied / 1e6).toFixed(0)} MB at ${(copied / 1e6 / Math.max(seconds, 0.001)).toFixed(1)} MB/s`,
    );
    return {
      bytes: planned,
      sourceSha256: combineDigests(results.map((r) => r!.source)),
      destSha256: combineDigests(results.map((r) => r!.dest)),
      compression: s.comp,
      transport: s.transport,
      resumedBytes,
      ...(s.note ? { transportNote: s.note } : {}),
    };
  }
}

interface Setup {
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
