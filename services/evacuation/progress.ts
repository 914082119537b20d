/**
 * An evacuation's progress and report from its items and the `migrations` rows of the running
 * ones: the API's view and the driver's end-of-run summary log both come from `summarize`, so
 * they agree. Pure but for `loadRunningMigrations`.
 *
 * - Item progress (percent, rate, ETA) is its migration's while the item runs, else null.
 * - Totals count items by state; `bytes_total` is the size of every item not skipped,
 *   `bytes_done` that of the succeeded ones plus what the running migrations copied so far;
 *   the ETA is what remains (pending and running) at the running migrations' current rate:
 *   0 once nothing remains, null while nothing copies, paused or cancelling.
 * - The report: per item its duration, the bytes its migration copied and their average rate; for
 *   the whole, from the first start to the end (or now) its duration, bytes copied, throughput and
 *   volumes per minute. All null until a migration started.
 */
import { EvacuationItemState, EvacuationStatus, MigrationState } from "../../common/states";
import type { EvacuationItemRow, EvacuationRow } from "../../db/evacuations";
import { getMigration, type MigrationRow } from "../../db/migrationRecords";
import { isShortfall } from "./plan";

export const GiB = 1024 ** 3;

/** What of an item the summary reads (a dry run's items have no row yet). */
export type ItemLike = Pick<
  EvacuationItemRow,
  | "volume_id"
  | "size"
  | "from_host"
  | "to_host"
  | "state"
  | "reason"
  | "migration_id"
  | "attempts"
  | "bytes"
  | "started_at"
  | "finished_at"
>;

export interface ItemProgress {
  /** One decimal; null while the size to copy is unknown. */
  percent: number | null;
  rate_bps: number | null;
  eta_seconds: number | null;
}

export interface ItemSummary {
  item: ItemLike;
  /** While running, else null. */
  progress: ItemProgress | null;
  /** From start to finish (or now while running), one decimal. */
  duration_seconds: number | null;
  /** bytes / duration once succeeded. */
  average_bps: number | null;
}

export interface EvacuationTotals {
  volumes: number;
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  skipped: number;
  cancelled: number;
  bytes_total: number;
  bytes_done: number;
  eta_seconds: number | null;
  /** GiB of movable volumes no destination pool has room for. */
  shortfall_gb: number;
}

export interface EvacuationReport {
  /** The first migration's start. */
  started_at: Date | null;
  finished_at: Date | null;
  duration_seconds: number | null;
  /** Bytes the succeeded migrations copied. */
  bytes: number;
  throughput_bps: number | null;
  volumes_moved: number;
  volumes_per_minute: number | null;
}

export interface EvacuationSummary {
  items: ItemSummary[];
  totals: EvacuationTotals;
  report: EvacuationReport;
}

function seconds(from: Date, to: Date): number {
  return Math.round((new Date(to).getTime() - new Date(from).getTime()) / 100) / 10;
}

/** The progress of a running item's migration (as the migrations resource shows it). */
export function itemProgress(m: MigrationRow | undefined): ItemProgress {
  if (!m) {
    return { percent: null, rate_bps: null, eta_seconds: null };
  }
  const copying = m.state === MigrationState.MIGRATING;
  let percent: number | null = null;
  if (m.state === MigrationState.SUCCESS) {
    percent = 100;
  } else if (m.bytes_total) {
    percent = Math.min(Math.round((m.bytes_done * 1000) / m.bytes_total) / 10, 100);
  }
  return {
    percent,
    rate_bps: copying ? m.rate_bps : null,
    eta_seconds: m.state === MigrationState.SUCCESS ? 0 : copying ? m.eta_seconds : null,
  };
}

export function summarize(
  e: Pick<EvacuationRow, "status" | "finished_at">,
  items: readonly ItemLike[],
  migrations: ReadonlyMap<string, MigrationRow>,
  now: Date = new Date(),
): EvacuationSummary {
  const totals: EvacuationTotals = {
    volumes: items.length,
    pending: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    skipped: 0,
    cancelled: 0,
    bytes_total: 0,
    bytes_done: 0,
    eta_seconds: null,
    shortfall_gb: 0,
  };
  let remaining = 0;
  let rate = 0;
  let copied = 0;
  const summaries = items.map((item): ItemSummary => {
    totals[item.state] += 1;
    const bytes = item.size * GiB;
    if (item.state === EvacuationItemState.SKIPPED) {
      totals.shortfall_gb += isShortfall(item.reason) ? item.size : 0;
    } else {
      totals.bytes_total += bytes;
    }
    const m = item.migration_id === null ? undefined : migrations.get(item.migration_id);
    if (item.state === EvacuationItemState.SUCCEEDED) {
      totals.bytes_done += bytes;
      copied += item.bytes ?? 0;
    } else if (item.state === EvacuationItemState.RUNNING) {
      const done = Math.min(m?.bytes_done ?? 0, bytes);
      totals.bytes_done += done;
      remaining += bytes - done;
      rate += m?.state === MigrationState.MIGRATING ? (m.rate_bps ?? 0) : 0;
    } else if (item.state === EvacuationItemState.PENDING) {
      remaining += bytes;
    }
    const end = item.finished_at ?? (item.state === EvacuationItemState.RUNNING ? now : null);
    const duration = item.started_at !== null && end !== null ? seconds(item.started_at, end) : null;
    return {
      item,
      progress: item.state === EvacuationItemState.RUNNING ? itemProgress(m) : null,
      duration_seconds: duration,
      average_bps:
        item.state === EvacuationItemState.SUCCEEDED && item.bytes !== null && duration
          ? Math.round(item.bytes / duration)
          : null,
    };
  });
  const halted = e.status === EvacuationStatus.PAUSED || e.status === EvacuationStatus.CANCELLING;
  if (remaining === 0) {
    totals.eta_seconds = 0;
  } else if (!halted && rate > 0) {
    totals.eta_seconds = Math.ceil(remaining / rate);
  }
  const starts = items.flatMap((i) => (i.started_at === null ? [] : [new Date(i.started_at).getTime()]));
  const started = starts.length === 0 ? null : new Date(Math.min(...starts));
  const duration = started === null ? null : seconds(started, e.finished_at ?? now);
  return {
    items: summaries,
    totals,
    report: {
      started_at: started,
      finished_at: e.finished_at,
      duration_seconds: duration,
      bytes: copied,
      throughput_bps: duration ? Math.round(copied / duration) : null,
      volumes_moved: totals.succeeded,
      volumes_per_minute: duration ? Math.round((totals.succeeded * 600) / duration) / 10 : null,
    },
  };
}

/** The migrations of the running items, by id (one read each; running items are bounded by the caps). */
export async function loadRunningMigrations(
  db: Parameters<typeof getMigration>[0],
  items: readonly ItemLike[],
): Promise<Map<string, MigrationRow>> {
  const ids = items
    .filter((i) => i.state === EvacuationItemState.RUNNING && i.migration_id !== null)
    .map((i) => i.migration_id!);
  const rows = await Promise.all(ids.map((id) => getMigration(db, id)));
  return new Map(rows.filter((m): m is MigrationRow => m !== undefined).map((m) => [m.id, m]));
}
