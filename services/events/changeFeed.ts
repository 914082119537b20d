/**
 * The API process's change feed for live events (GET /v3/{project_id}/events): while anyone
 * listens, it asks the database once a second which migrations, volumes and evacuations changed
 * since the last poll, and hands each listener one batch of full rows per poll. One feed per API
 * process, however many listeners: N open dashboards cost one poll a second, not N.
 *
 * Each poll reads a window reaching `overlapMs` before the previous poll's database time, not just
 * since it: writers stamp `updated_at = now()`, the start of their transaction, so a transaction
 * that commits after a poll can carry a time before it. What the window returns again is dropped by
 * remembering, per row, the change time already sent.
 */
import type { Logger } from "../../common/logger";
import { runOutsideRequest } from "../../common/requestContext";
import {
  type Change,
  changedEvacuations,
  changedMigrations,
  changedVolumes,
  databaseNow,
  type MigrationChange,
  volumesByIds,
} from "../../db/changes";
import type { Db } from "../../db/connection";
import { getMigration, type MigrationRow } from "../../db/migrationRecords";
import type { VolumeRow } from "../../db/volumes";

/** A migration row with the project of the volume it moves (null when that volume row is gone). */
export type ChangedMigration = MigrationRow & { project_id: string | null };

/** What changed in one poll. Evacuations are ids: their view is the API's to build. */
export interface ChangeBatch {
  migrations: ChangedMigration[];
  volumes: VolumeRow[];
  evacuationIds: string[];
}

export type ChangeListener = (batch: ChangeBatch) => void;

/** Where the feed reads; the database by default (tests give their own). */
export interface ChangeSource {
  now(): Promise<Date>;
  migrations(since: Date): Promise<MigrationChange[]>;
  volumes(since: Date): Promise<Change[]>;
  evacuations(since: Date): Promise<Change[]>;
  migrationRows(ids: readonly string[]): Promise<MigrationRow[]>;
  volumeRows(ids: readonly string[]): Promise<VolumeRow[]>;
}

export function databaseSource(db: Db): ChangeSource {
  return {
    now: () => databaseNow(db),
    migrations: (since) => changedMigrations(db, since),
    volumes: (since) => changedVolumes(db, since),
    evacuations: (since) => changedEvacuations(db, since),
    migrationRows: async (ids) =>
      (await Promise.all(ids.map((id) => getMigration(db, id)))).filter((m): m is MigrationRow => !!m),
    volumeRows: (ids) => volumesByIds(db, ids),
  };
}

export interface ChangeFeedOptions {
  source: ChangeSource;
  logger: Logger;
  /** @defaultValue 1000 */
  intervalMs?: number;
  /** @defaultValue 10000 */
  overlapMs?: number;
}

export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  private readonly intervalMs: number;
  private readonly overlapMs: number;
  /** Database time of the previous poll; null until the first poll of a run. */
  private since: Date | null = null;
  /** Per row (`kind:id`), the change time already sent. */
  private readonly sent = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  /** Counts starts and stops, so a poll of a stopped run schedules nothing. */
  private run = 0;
  private polling: Promise<void> | null = null;
  private failing = false;

  constructor(private readonly o: ChangeFeedOptions) {
    this.intervalMs = o.intervalMs ?? 1000;
    this.overlapMs = o.overlapMs ?? 10_000;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Adds a listener (the first one starts the polls); returns the function that removes it. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) {
      this.start();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        this.stop();
      }
    };
  }

  /** One poll now (the timer calls it; tests may too). Never two at once. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = null;
    });
    return this.polling;
  }

  private start(): void {
    const run = ++this.run;
    this.since = null;
    this.sent.clear();
    const next = (): void => {
      this.timer = setTimeout(() => {
        void this.poll().then(() => {
          if (this.run === run) {
            next();
          }
        });
      }, this.intervalMs);
      this.timer.unref();
    };
    // The polls serve every listener: they must not run under the first subscriber's request ids.
    runOutsideRequest(() => {
      next();
      // The first poll only takes the reference: listeners read what exists themselves.
      void this.poll();
    });
  }

  private stop(): void {
    this.run++;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private async pollOnce(): Promise<void> {
    try {
      const batch = await this.read();
      this.failing = false;
      if (batch && (batch.migrations.length || batch.volumes.length || batch.evacuationIds.length)) {
        for (const listener of [...this.listeners]) {
          listener(batch);
        }
      }
    } catch (err) {
      // Logged once per outage; the next poll tries again with the same window.
      if (!this.failing) {
        this.o.logger.warn({ err }, "event feed: polling the database failed");
      }
      this.failing = true;
    }
  }

  /**
   * The changes since the previous poll not yet sent; undefined on a run's first poll, which only
   * takes the reference time and what the window holds then.
   */
  private async read(): Promise<ChangeBatch | undefined> {
    const { source } = this.o;
    const now = await source.now();
    const first = this.since === null;
    const from = new Date((this.since ?? now).getTime() - this.overlapMs);
    const [migrations, volumes, evacuations] = await Promise.all([
      source.migrations(from),
      source.volumes(from),
      source.evacuations(from),
    ]);
    const freshMigrations = this.fresh("migration", migrations);
    const freshVolumes = this.fresh("volume", volumes);
    const freshEvacuations = this.fresh("evacuation", evacuations);
    if (first) {
      // What the window holds now is what the listeners read for themselves: counted as sent.
      this.markSent([
        ...this.keyed("migration", freshMigrations),
        ...this.keyed("volume", freshVolumes),
        ...this.keyed("evacuation", freshEvacuations),
      ]);
      this.since = now;
      return undefined;
    }
    const projects = new Map(freshMigrations.map((m) => [m.id, m.project_id]));
    const [migrationRows, volumeRows] = await Promise.all([
      source.migrationRows(freshMigrations.map((m) => m.id)),
      source.volumeRows(freshVolumes.map((v) => v.id)),
    ]);
    // Only now, with every read done, are the rows counted as sent and the window moved.
    this.markSent([
      ...this.keyed("migration", freshMigrations),
      ...this.keyed("volume", freshVolumes),
      ...this.keyed("evacuation", freshEvacuations),
    ]);
    this.since = now;
    this.forget(from.getTime());
    return {
      migrations: migrationRows.map((m) => ({ ...m, project_id: projects.get(m.id) ?? null })),
      volumes: volumeRows,
      evacuationIds: freshEvacuations.map((e) => e.id),
    };
  }

  private fresh<T extends Change>(kind: string, changes: readonly T[]): T[] {
    return changes.filter((c) => this.sent.get(`${kind}:${c.id}`) !== c.changed_at.getTime());
  }

  private markSent(entries: readonly [string, number][]): void {
    for (const [key, t] of entries) {
      this.sent.set(key, t);
    }
  }

  private keyed(kind: string, changes: readonly Change[]): [string, number][] {
    return changes.map((c) => [`${kind}:${c.id}`, c.changed_at.getTime()]);
  }

  /** Rows last changed before the window cannot come back: their entries go. */
  private forget(before: number): void {
    for (const [key, t] of this.sent) {
      if (t < before) {
        this.sent.delete(key);
      }
    }
  }
}
