import { coerceError } from "../../common/errors";
import { requestIdsOf, runOutsideRequest, runWithRequestIds } from "../../common/requestContext";
import { MigrationFlow, MigrationState, MigrationStatus } from "../../common/states";
import {
  getMigration,
  type MigrationRow,
  queuedMigrations,
  readControls,
  updateMigrationIf,
} from "../../db/migrationRecords";
import { getVolume } from "../../db/volumes";
import type { MigrationDestination } from "../../drivers/types";
import type { VolumeMigrateVolume } from "../rpc/methods";
import type { VolumeRpc } from "../rpc/stubs";
import { cancelledByAdmin } from "./cancel";
import type { VolumeManagerDeps } from "./deps";
import { runComputeMigration } from "./flows/compute";
import { runDriverMigration } from "./flows/driverNative";
import { runGenericMigration } from "./flows/generic";
import { runSnapshotMigration } from "./flows/snapshots";
import { beginMigration, endCancelledMigration } from "./migrationStart";
import { destinationOf } from "./recovery";
import { finishComputeMigration } from "./swapRows";

export interface MigrationRunnerDeps extends VolumeManagerDeps {
  volumeRpc: VolumeRpc;
  ownsHost(host: string | null): boolean;
}

/** How often running migrations' rows are read for a cancel request, and the queue looked at. */
export const CONTROL_POLL_MS = 1000;

interface Admission {
  dest: MigrationDestination;
  forceHostCopy: boolean;
}

/**
 * The source side of every migration leaving this backend. The bus message is acknowledged once
 * the migration row says `migrating` (volume `migrating` too) or `queued`; the flow then runs in
 * the background, tracked so a stopping worker waits for it. A redelivered message finds the row
 * no longer `starting` and is ignored.
 *
 * Concurrency ([backend] max_concurrent_migrations, 0 = no limit): past the limit a migration
 * waits in state `queued` (its volume keeps migration_status `starting`: the volume service has
 * not begun moving it, which is what Cinder shows while its manager is busy) and starts, first
 * requested first served, when a flow of this worker ends. The queue is the table itself, so a
 * restarted worker picks it up again (resumeQueued). Admission decisions run one at a time.
 *
 * Cancel: each running flow has its own AbortController, chained to the worker's stop signal.
 * Every CONTROL_POLL_MS the rows of the running migrations are read; one with
 * cancel_requested_at is aborted (the flow rolls back, copyStep.ts), and a queued or not yet
 * started one is ended without starting. Polling the row works on every bus and survives lost
 * messages. A driver-native move, a Nova swap and the completion's row swap are single steps:
 * a cancel does not interrupt them (a driver move that declines falls back to the generic copy,
 * which then stops before copying).
 */
export class MigrationRunner {
  private readonly tasks = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly running = new Map<string, AbortController>();
  /** What the scheduler sent for migrations this worker queued (a restarted worker looks it up). */
  private readonly admissions = new Map<string, Admission>();
  private admitting: Promise<unknown> = Promise.resolve();
  private poller: NodeJS.Timeout | undefined;
  private polling = false;
  private queued = false;

  constructor(private readonly deps: MigrationRunnerDeps) {}

  async migrateVolume(req: VolumeMigrateVolume): Promise<void> {
    const { db, logger } = this.deps;
    const migration = await getMigration(db, req.migration_id);
    if (!migration || migration.dest_host !== req.dest.host) {
      logger.warn(
        { migration_id: req.migration_id },
        "migrate_volume: unknown migration or destination; ignored",
      );
      return;
    }
    await this.admit(() => this.accept(migration, { dest: req.dest, forceHostCopy: req.force_host_copy }));
  }

  /** Starts what a previous run of this worker left queued (after recovery). */
  resumeQueued(): void {
    this.queued = true;
    this.track(
      "queue",
      this.admit(() => this.pump()),
    );
    this.ensurePolling();
  }

  /** Nova finished (or failed) the swap of an attached volume; answers with the id Nova keeps. */
  async complete(volumeId: string, newVolumeId: string, error: boolean): Promise<{ save_volume_id: string }> {
    const done = await finishComputeMigration(this.deps, { volumeId, newVolumeId, error });
    this.track(volumeId, done.cleanup);
    return { save_volume_id: done.saveVolumeId };
  }

  /** Continues a driver move that a crash interrupted (recovery.ts decided it). */
  resumeDriverMigration(migration: MigrationRow, dest: MigrationDestination): void {
    this.start(migration, MigrationFlow.DRIVER, dest);
  }

  /**
   * Continues a generic copy from its checkpoint (recovery.ts "resume-copy"). It runs like a new
   * flow: its own signal (cancel, worker stop) and a max_concurrent_migrations slot. Called before
   * resumeQueued, so migrations that were running before the crash go first.
   */
  resumeCopy(migration: MigrationRow, dest: MigrationDestination): void {
    this.start(migration, MigrationFlow.GENERIC, dest);
  }

  track(what: string, work: Promise<unknown>): void {
    const task = work
      .then(() => undefined)
      .catch((e) => this.deps.logger.error({ err: coerceError(e), what }, "background work failed"))
      .finally(() => this.tasks.delete(task));
    this.tasks.add(task);
  }

  /** Asks running flows to stop (a copy is aborted) and waits for them; queued ones stay queued. */
  async stop(): Promise<void> {
    clearInterval(this.poller);
    this.abort.abort();
    await Promise.allSettled([...this.tasks, this.admitting]);
  }

  /** Admission decisions (start now, queue, start from the queue) one at a time. */
  private admit<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.admitting.then(fn, fn);
    this.admitting = run.catch(() => undefined);
    return run;
  }

  private hasRoom(): boolean {
    const limit = this.deps.backend.maxConcurrentMigrations;
    return limit === 0 || this.running.size < limit;
  }

  private async accept(migration: MigrationRow, admission: Admission): Promise<void> {
    const { db, logger } = this.deps;
    const volume = await getVolume(db, migration.volume_id);
    if (
      migration.state !== MigrationState.STARTING ||
      volume?.migration_status !== MigrationStatus.STARTING ||
      !this.deps.ownsHost(volume.host)
    ) {
      logger.info(
        { migration_id: migration.id },
        "migrate_volume: volume not starting a migration here; ignored",
      );
      return;
    }
    if (migration.cancel_requested_at) {
      await this.endCancelled(migration);
      return;
    }
    if (this.hasRoom() && !this.queued) {
      await this.begin(migration, admission);
      return;
    }
    const queued = await updateMigrationIf(
      db,
      migration.id,
      { state: MigrationState.QUEUED },
      { state: MigrationState.STARTING },
    );
    if (queued) {
      this.admissions.set(migration.id, admission);
      this.queued = true;
      this.ensurePolling();
      logger.info({ migration_id: migration.id }, "migration queued (max_concurrent_migrations)");
    }
  }

  /** Ends cancelled queued migrations and starts queued ones while there is room, oldest first. */
  private async pump(): Promise<void> {
    if (this.abort.signal.aborted) {
      return;
    }
    const queue = await queuedMigrations(this.deps.db, this.deps.backend.serviceHost);
    let left = 0;
    for (const m of queue) {
      if (m.cancel_requested_at) {
        await this.endCancelled(m);
      } else if (this.hasRoom() && m.dest_host) {
        const admission = this.admissions.get(m.id) ?? {
          dest: await destinationOf(this.deps, m.dest_host),
          forceHostCopy: m.force_host_copy,
        };
        await this.begin(m, admission);
      } else {
        left++;
      }
    }
    this.queued = left > 0;
  }

  /** Begins a `starting` or `queued` migration now (see beginMigration), unless the worker is stopping. */
  private async begin(migration: MigrationRow, admission: Admission): Promise<void> {
    this.admissions.delete(migration.id);
    if (this.abort.signal.aborted) {
      return;
    }
    const flow = await beginMigration(this.deps, migration, admission.forceHostCopy);
    if (flow) {
      this.start(migration, flow, admission.dest);
    }
  }

  private async endCancelled(m: MigrationRow): Promise<void> {
    this.admissions.delete(m.id);
    await endCancelledMigration(this.deps, m);
  }

  /**
   * Runs a flow with its own abort signal (a cancel, or the worker stopping), under the ids of the
   * request that made the migration: a queued or resumed one starts from a loop of this worker.
   */
  private start(migration: MigrationRow, flow: MigrationFlow, dest: MigrationDestination): void {
    runWithRequestIds(requestIdsOf(migration), () => this.startFlow(migration.id, flow, dest));
  }

  private startFlow(migrationId: string, flow: MigrationFlow, dest: MigrationDestination): void {
    const controller = new AbortController();
    const onStop = (): void => controller.abort(this.abort.signal.reason);
    if (this.abort.signal.aborted) {
      onStop();
    }
    this.abort.signal.addEventListener("abort", onStop, { once: true });
    this.running.set(migrationId, controller);
    this.ensurePolling();
    const work = this.runFlow(flow, migrationId, dest, controller.signal).finally(() => {
      this.abort.signal.removeEventListener("abort", onStop);
      this.running.delete(migrationId);
      if (this.queued && !this.abort.signal.aborted) {
        this.track(
          "queue",
          this.admit(() => this.pump()),
        );
      }
    });
    this.track(migrationId, work);
  }

  private ensurePolling(): void {
    if (this.poller || this.abort.signal.aborted) {
      return;
    }
    // The poller serves every migration: it must not keep the ids of the request that started it.
    this.poller = runOutsideRequest(() =>
      setInterval(() => {
        if (!this.polling && (this.running.size > 0 || this.queued)) {
          this.polling = true;
          this.track(
            "poll",
            this.poll().finally(() => {
              this.polling = false;
            }),
          );
        }
      }, CONTROL_POLL_MS),
    );
    this.poller.unref();
  }

  /** Cancel requests of running migrations; the queue (cancelled or startable entries). */
  private async poll(): Promise<void> {
    for (const c of await readControls(this.deps.db, [...this.running.keys()])) {
      const controller = this.running.get(c.id);
      if (c.cancel_requested_at && controller && !controller.signal.aborted) {
        this.deps.logger.warn({ migration_id: c.id }, "migration cancelled by an administrator; stopping it");
        controller.abort(cancelledByAdmin(c.cancel_requested_at));
      }
    }
    if (this.queued) {
      await this.admit(() => this.pump());
    }
  }

  private async runFlow(
    flow: MigrationFlow,
    migrationId: string,
    dest: MigrationDestination,
    signal: AbortSignal,
  ): Promise<void> {
    const deps = { ...this.deps, signal };
    switch (flow) {
      case MigrationFlow.DRIVER:
        if (await runDriverMigration(deps, migrationId, dest)) {
          return;
        }
        return runGenericMigration(deps, migrationId);
      case MigrationFlow.GENERIC:
        return runGenericMigration(deps, migrationId);
      case MigrationFlow.COMPUTE:
        return runComputeMigration(deps, migrationId);
      case MigrationFlow.SNAPSHOTS:
        return runSnapshotMigration(deps, migrationId);
      default: {
        const never: never = flow;
        throw new Error(`unknown flow ${String(never)}`);
      }
    }
  }
}
