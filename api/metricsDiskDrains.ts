/**
 * Disk drains in `GET /metrics` (issue 16): per drain not over or ended within the last hour, its
 * percent moved, bytes and rate, labelled by drain id, backend, PV and status (no tenant data).
 * Read from the database at scrape time, as the other figures are.
 */
import { Gauge, type Registry } from "prom-client";

import type { Db } from "../db/connection";
import { type DiskDrainRow, recentDiskDrains } from "../db/diskDrains";

/** How long an ended drain keeps its series, so that its final figures are scraped. */
export const ENDED_DRAIN_WINDOW_SECS = 3600;

export function registerDiskDrains(registry: Registry, db: Db): void {
  let inFlight: Promise<DiskDrainRow[]> | undefined;
  const read = (): Promise<DiskDrainRow[]> => {
    inFlight ??= recentDiskDrains(db, ENDED_DRAIN_WINDOW_SECS).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  const labelNames = ["drain", "backend", "pv", "status"] as const;
  const gauge = (name: string, help: string, value: (d: DiskDrainRow) => number | null): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const drains = await read();
        this.reset();
        for (const d of drains) {
          const v = value(d);
          if (v !== null) {
            this.set({ drain: d.id, backend: d.backend, pv: d.pv, status: d.status }, v);
          }
        }
      },
    });
  };
  gauge(
    "vms_disk_drain_percent",
    "Percent of a disk drain's extents moved off its PV (pvmove).",
    (d) => d.percent,
  );
  gauge("vms_disk_drain_bytes_moved", "Bytes a disk drain moved off its PV so far.", (d) => d.bytes_moved);
  gauge("vms_disk_drain_bytes_total", "Bytes on the PV when its drain started.", (d) => d.bytes_total);
  gauge(
    "vms_disk_drain_rate_bps",
    "Bytes/s a disk drain moves, between its last two samples.",
    (d) => d.rate_bps,
  );
}
