import { DEFAULT_COPY_SSH_CIPHERS, DEFAULT_COPY_STREAMS } from "../../common/configMigrations";
import { MigrationCancelled, VolumeMigrationFailed } from "../../common/errors";
import { type Logger, silentLogger } from "../../common/logger";
import type { RunnerFactory } from "../../drivers/exec";
import type { CopyEndpoint } from "../../drivers/types";
import { ToolProbe } from "./choose";
import { chunkDigests } from "./digests";
import type { DirectSession } from "./direct";
import { RateWindow } from "./meter";
import { checkpointOf, combineDigests, DEFAULT_SEGMENT_BYTES, type Segment } from "./plan";
import { prepareCopy, type Setup } from "./prepare";
import { readBackSegment, type SegmentDigests, type SegmentMeter, writeSegment } from "./segment";
import type { CopyRequest, CopyResult, VolumeCopier } from "./types";

/** How often progress is reported and the bandwidth limit read again. */
const TICK_MS = 1000;

export interface CopyEngineDeps {
  runners: RunnerFactory;
  logger?: Logger;
  /** @defaultValue DEFAULT_SEGMENT_BYTES (256 MiB) */
  segmentBytes?: number;
  /**
   * Segments in flight at once (volume_copy_streams). Two keep both hosts busy (one segment's
   * read-back or sync overlaps the next one's transfer) and hide one SSH channel's window.
   * @defaultValue DEFAULT_COPY_STREAMS (2)
   */
  parallel?: number;
  /**
   * Let hosts with python3 do a segment's side in one process (scripts/segment.py); false keeps
   * the bash pipelines everywhere (tests of those, and a way out should a host's Python misbehave).
   * @defaultValue true
   */
  hostPython?: boolean;
  /** @defaultValue DEFAULT_COPY_SSH_CIPHERS (volume_copy_ssh_ciphers) */
  sshCiphers?: string;
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
      const setup = await prepareCopy(
        {
          runners: this.deps.runners,
          probe: this.probe,
          logger: this.logger,
          segmentBytes: this.deps.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
          hostPython: this.deps.hostPython !== false,
          sshCiphers: this.deps.sshCiphers ?? DEFAULT_COPY_SSH_CIPHERS,
        },
        req,
        signal,
      );
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
    if (ctx.pace) {
      // Each segment in flight paces itself to an equal share of the copy's limit.
      const limit = ctx.pace;
      ctx.pace = () => {
        const bps = limit();
        return bps === null ? null : bps / Math.max(1, inflight.size);
      };
    }
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
        // A thin source's mapped bytes: all the copy reads.
        ...(ctx.sourceMap ? { mappedBytes: ctx.sourceMap.reduce((n, r) => n + r.length, 0) } : {}),
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
      const workers = Array.from({ length: Math.max(1, this.deps.parallel ?? DEFAULT_COPY_STREAMS) }, () =>
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
