/**
 * The evacuation driver: runs in the scheduler process (and the all-in-one process) and moves
 * evacuations on from what PostgreSQL holds, so any of those processes, or the same one
 * restarted, goes on where another stopped.
 *
 * Every tick (about a second), for every evacuation not ended:
 *   1. lease: take or renew the row's lease (`driver`, `lease_until`); an evacuation leased by a
 *      live process is left alone; a dead process's lease runs out and another takes over.
 *   2. reconcile the running items with their migrations: `success` → succeeded; `error` →
 *      cancelled (the evacuation is cancelling or the migration was cancelled), pending again
 *      (attempts ≤ max_retries, the reason kept) or failed; still `starting` long after its
 *      start (a process died between the transaction and the cast) → cast to the scheduler again.
 *   3. by status: `running` starts pending items in their order while below every cap, through
 *      os-migrate_volume's own path (migrateVolume) with the item marked running in that same
 *      transaction; `paused` starts nothing; `cancelling` cancels the pending items, asks the
 *      running migrations to cancel, and ends `cancelled` once none runs.
 *   4. end: nothing pending or running → `completed` or `completed_with_errors`, one summary line
 *      in the log, lease given up.
 *
 * Per tick and evacuation that is three queries (lease, running items with their migrations,
 * pending candidates when a slot is free), whatever the number of volumes; more only for items
 * whose state changes. The steps live beside it: driverSettle.ts (2, and the cancel of running
 * migrations), driverStart.ts (3), caps.ts, driverQueries.ts.
 */
import { randomBytes } from "node:crypto";
import os from "node:os";

import type { AppConfig } from "../../common/config";
import { coerceError } from "../../common/errors";
import type { Logger } from "../../common/logger";
import { requestIdsOf, runOutsideRequest, runWithRequestIds } from "../../common/requestContext";
import { ENDED_EVACUATION_STATUSES, EvacuationStatus } from "../../common/states";
import type { Db } from "../../db/connection";
import {
  activeEvacuationIds,
  type EvacuationRow,
  leaseEvacuation,
  listEvacuationItems,
  releaseEvacuation,
  updateEvacuationIf,
} from "../../db/evacuations";
import { SchedulerRpc } from "../rpc/stubs";
import type { Bus } from "../rpc/types";
import type { DriverContext } from "./driverContext";
import { cancelPendingItems, countItems, type RunningItem, runningItems } from "./driverQueries";
import { askCancel, settle } from "./driverSettle";
import { startPending } from "./driverStart";
import { summarize } from "./progress";

export interface EvacuationDriverOptions {
  db: Db;
  bus: Bus;
  config: AppConfig;
  logger: Logger;
  /** This process as the lease names it; default `driverId()`. */
  id?: string;
  /** Between ticks; default 1000. */
  tickMs?: number;
  /** How long a lease holds without renewal; default 15000. */
  leaseMs?: number;
  /** A migration still `starting` this long is cast to the scheduler again; default 30000. */
  stuckStartMs?: number;
  /** A failed item waits this long before its next attempt; default 5000. */
  retryDelayMs?: number;
}

/** `host:pid:random`: unique per process start, readable in `evacuations.driver`. */
export function driverId(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

export class EvacuationDriver {
  readonly id: string;
  private readonly tickMs: number;
  private readonly ctx: DriverContext;
  private readonly logger: Logger;
  /** Evacuations this driver holds the lease of. */
  private readonly held = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(o: EvacuationDriverOptions) {
    this.id = o.id ?? driverId();
    this.tickMs = o.tickMs ?? 1000;
    this.logger = o.logger.child({ component: "evacuation-driver", driver: this.id });
    this.ctx = {
      db: o.db,
      bus: o.bus,
      config: o.config,
      logger: this.logger,
      id: this.id,
      leaseMs: o.leaseMs ?? 15_000,
      stuckStartMs: o.stuckStartMs ?? 30_000,
      retryDelayMs: o.retryDelayMs ?? 5000,
      schedulerRpc: new SchedulerRpc(o.bus),
      recast: new Map(),
      stopping: () => this.stopped,
    };
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
    this.logger.info({ tick_ms: this.tickMs, lease_ms: this.ctx.leaseMs }, "evacuation driver started");
  }

  /**
   * Stops ticking and waits for the tick under way. With `release` (the default, a clean stop)
   * the leases are given up so another process takes over at once; without it they run out, as
   * when the process dies.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
    if (opts.release ?? true) {
      for (const id of this.held) {
        await releaseEvacuation(this.ctx.db, id, this.id).catch((e: unknown) =>
          this.logger.warn({ err: coerceError(e), evacuation_id: id }, "could not release the lease"),
        );
      }
    }
    this.held.clear();
  }

  /** One pass over every evacuation not ended (the timer calls it; tests may too). */
  tick(): Promise<void> {
    const run = this.current.then(() => this.pass());
    this.current = run.catch(() => undefined);
    return run;
  }

  private schedule(ms: number): void {
    if (this.stopped) {
      return;
    }
    // The ticks serve every evacuation: they must not keep the ids of whatever called start().
    this.timer = runOutsideRequest(() =>
      setTimeout(() => {
        void this.tick()
          .catch((e: unknown) => this.logger.error({ err: coerceError(e) }, "evacuation driver tick failed"))
          .finally(() => this.schedule(this.tickMs));
      }, ms),
    );
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    const ids = await activeEvacuationIds(this.ctx.db, ENDED_EVACUATION_STATUSES);
    for (const id of ids) {
      if (this.stopped) {
        return;
      }
      try {
        await this.drive(id);
      } catch (e) {
        this.logger.error({ err: coerceError(e), evacuation_id: id }, "evacuation step failed");
      }
    }
  }

  private async drive(id: string): Promise<void> {
    const e = await leaseEvacuation(this.ctx.db, id, this.id, this.ctx.leaseMs);
    if (!e) {
      if (this.held.delete(id)) {
        this.logger.warn({ evacuation_id: id }, "lost the lease of an evacuation to another process");
      }
      return;
    }
    // Under the ids of the request that made it: its lines, and the migrations it starts, carry them.
    await runWithRequestIds(requestIdsOf(e), () => this.driveLeased(e));
  }

  private async driveLeased(e: EvacuationRow): Promise<void> {
    const { db } = this.ctx;
    const id = e.id;
    if (ENDED_EVACUATION_STATUSES.includes(e.status)) {
      // Ended by another writer between the listing and the lease (also by the driver that held it
      // and has just released it): give the lease up without claiming to drive it.
      await releaseEvacuation(db, id, this.id);
      this.held.delete(id);
      return;
    }
    if (!this.held.has(id)) {
      this.held.add(id);
      this.logger.info({ evacuation_id: id, status: e.status }, "driving evacuation");
    }

    const running: RunningItem[] = [];
    for (const item of await runningItems(db, id, this.ctx.stuckStartMs)) {
      if (await settle(this.ctx, e, item)) {
        running.push(item);
      }
    }

    if (e.status === EvacuationStatus.CANCELLING) {
      await this.cancel(e, running);
    } else if (e.status === EvacuationStatus.RUNNING) {
      const started = await startPending(this.ctx, e, running);
      if (running.length === 0 && started === 0) {
        await this.completeIfDone(e);
      }
    }
  }

  /** Cancelling: pending items are cancelled, running migrations asked to stop; ends once none runs. */
  private async cancel(e: EvacuationRow, running: readonly RunningItem[]): Promise<void> {
    const n = await cancelPendingItems(this.ctx.db, e.id, "the evacuation was cancelled before it started");
    if (n > 0) {
      this.logger.info({ evacuation_id: e.id, items: n }, "pending evacuation items cancelled");
    }
    for (const item of running) {
      await askCancel(this.ctx, e, item);
    }
    if (running.length === 0) {
      await this.end(e, EvacuationStatus.CANCELLED, [EvacuationStatus.CANCELLING]);
    }
  }

  /** Running with nothing pending or running: completed, or completed_with_errors if any failed. */
  private async completeIfDone(e: EvacuationRow): Promise<void> {
    const counts = await countItems(this.ctx.db, e.id);
    if (counts.pending > 0 || counts.running > 0) {
      return;
    }
    await this.end(
      e,
      counts.failed > 0 ? EvacuationStatus.COMPLETED_WITH_ERRORS : EvacuationStatus.COMPLETED,
      [EvacuationStatus.RUNNING],
    );
  }

  private async end(
    e: EvacuationRow,
    status: EvacuationStatus,
    from: readonly EvacuationStatus[],
  ): Promise<void> {
    const { db } = this.ctx;
    const ended = await updateEvacuationIf(
      db,
      e.id,
      { status, finished_at: db.fn.now(), driver: null, lease_until: null },
      { status: from, driver: this.id },
    );
    if (!ended) {
      return;
    }
    this.held.delete(e.id);
    await this.logSummary(ended);
  }

  /** The one line an operator reads when an evacuation ends (the API's report, summarised). */
  private async logSummary(e: EvacuationRow): Promise<void> {
    const items = await listEvacuationItems(this.ctx.db, e.id);
    const { totals, report } = summarize(e, items, new Map());
    const mb = report.bytes / 1e6;
    const throughput = report.throughput_bps === null ? null : Math.round(report.throughput_bps / 1e5) / 10;
    this.logger.info(
      {
        evacuation_id: e.id,
        source: e.source,
        status: e.status,
        volumes: totals.volumes,
        succeeded: totals.succeeded,
        failed: totals.failed,
        skipped: totals.skipped,
        cancelled: totals.cancelled,
        bytes: report.bytes,
        duration_seconds: report.duration_seconds,
        throughput_mb_s: throughput,
        volumes_per_minute: report.volumes_per_minute,
      },
      `evacuation ${e.id} ${e.status}: ${totals.succeeded}/${totals.volumes} volumes moved, ` +
        `${totals.failed} failed, ${totals.skipped} skipped, ${totals.cancelled} cancelled; ` +
        `${mb.toFixed(1)} MB in ${report.duration_seconds ?? 0} s (${throughput ?? 0} MB/s)`,
    );
  }
}
