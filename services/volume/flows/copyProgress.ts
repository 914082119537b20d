import type { BackendConfig } from "../../../common/config";
import { coerceError } from "../../../common/errors";
import type { Logger } from "../../../common/logger";
import type { Db } from "../../../db/connection";
import { recordProgress } from "../../../db/migrationRecords";
import type { CopyProgress } from "../../copy/types";

/** Progress is written, and the bandwidth limit read back, this often (the API reads the row). */
export const PROGRESS_TICK_MS = 1000;

/** Seconds left at the current rate; null while the rate is unknown or zero. */
export function etaSeconds(p: CopyProgress): number | null {
  return p.rateBps > 0 ? Math.ceil(Math.max(p.bytesTotal - p.bytesDone, 0) / p.rateBps) : null;
}

/**
 * One copy's link to its migrations row: every second it writes the latest progress (bytes done
 * and total, rate, ETA) and reads back `bps_limit`, so the limit the copier sees
 * (`bpsLimit()`) follows set_bandwidth_limit within about a second. Without a row limit the
 * backend's volume_copy_bps_limit applies (0: none).
 */
export class CopyMeter {
  private latest: CopyProgress;
  private limit: number | null;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private busy = false;

  constructor(
    private readonly deps: { db: Db; backend: BackendConfig; logger: Logger },
    private readonly migrationId: string,
    bytesTotal: number,
  ) {
    this.latest = { bytesDone: 0, bytesTotal, rateBps: 0 };
    this.limit = this.effective(null);
  }

  /** Sets bytes_total and resets the counters (the copy starts from 0), reads the limit, starts ticking. */
  async begin(): Promise<void> {
    await this.write();
    this.timer = setInterval(() => this.tick(), PROGRESS_TICK_MS);
    this.timer.unref();
  }

  readonly onProgress = (p: CopyProgress): void => {
    this.latest = p;
  };

  readonly bpsLimit = (): number | null => this.limit;

  /** Stops ticking; returns the last progress the copier reported. */
  async end(): Promise<CopyProgress> {
    clearInterval(this.timer);
    await this.writing;
    return this.latest;
  }

  private tick(): void {
    if (this.busy) {
      return;
    }
    this.busy = true;
    this.writing = this.write().finally(() => {
      this.busy = false;
    });
  }

  private async write(): Promise<void> {
    const p = this.latest;
    try {
      const row = await recordProgress(this.deps.db, this.migrationId, {
        bytesDone: p.bytesDone,
        bytesTotal: p.bytesTotal,
        rateBps: p.rateBps,
        etaSeconds: etaSeconds(p),
      });
      this.limit = this.effective(row.bpsLimit);
    } catch (e) {
      this.deps.logger.warn(
        { err: coerceError(e), migration_id: this.migrationId },
        "could not record progress",
      );
    }
  }

  private effective(rowLimit: number | null): number | null {
    return (
      rowLimit ?? (this.deps.backend.volumeCopyBpsLimit > 0 ? this.deps.backend.volumeCopyBpsLimit : null)
    );
  }
}
