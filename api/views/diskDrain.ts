/** The admin view of a disk drain (POST /disk-drains, GET /disk-drains[/{id}]). */
import type { DiskDrainRow } from "../../db/diskDrains";

function iso(d: Date | null): string | null {
  return d === null ? null : new Date(d).toISOString();
}

export function diskDrainView(d: DiskDrainRow): Record<string, unknown> {
  const remaining = d.bytes_total - d.bytes_moved;
  return {
    id: d.id,
    backend: d.backend,
    pv: d.pv,
    volume_group: d.vg,
    remove_from_group: d.remove_from_group,
    interval: d.interval,
    status: d.status,
    progress: {
      percent: Math.round(d.percent * 100) / 100,
      bytes_total: d.bytes_total,
      bytes_moved: d.bytes_moved,
      rate_bps: d.rate_bps,
      eta_seconds:
        d.rate_bps && d.rate_bps > 0 && d.status === "moving" ? Math.ceil(remaining / d.rate_bps) : null,
    },
    resumes: d.resumes,
    error: d.error,
    created_at: iso(d.created_at),
    updated_at: iso(d.updated_at),
    started_at: iso(d.started_at),
    finished_at: iso(d.finished_at),
  };
}
