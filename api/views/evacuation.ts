/**
 * The admin view of an evacuation (POST /evacuations, GET /evacuations[/{id}]). A dry run has the
 * same shape with `dry_run: true` and no id, status or timestamps. The list leaves `items` out.
 */
import type { EvacuationInfo } from "../../services/evacuation/apiTypes";
import type { ItemSummary } from "../../services/evacuation/progress";

function iso(d: Date | null): string | null {
  return d === null ? null : new Date(d).toISOString();
}

function itemView(s: ItemSummary): Record<string, unknown> {
  const i = s.item;
  return {
    volume_id: i.volume_id,
    size: i.size,
    from: i.from_host,
    to: i.to_host,
    state: i.state,
    reason: i.reason,
    migration_id: i.migration_id,
    attempts: i.attempts,
    progress: s.progress,
    started_at: iso(i.started_at),
    finished_at: iso(i.finished_at),
    duration_seconds: s.duration_seconds,
    bytes: i.bytes,
    average_bps: s.average_bps,
  };
}

export function evacuationView(info: EvacuationInfo, withItems = true): Record<string, unknown> {
  const e = info.evacuation;
  const { totals, report } = info.summary;
  return {
    id: e.id,
    status: e.status,
    dry_run: info.dryRun,
    source: e.source,
    destination: e.destination,
    max_parallel: e.max_parallel,
    max_parallel_per_host: e.max_parallel_per_host,
    max_parallel_per_pool: e.max_parallel_per_pool,
    order: e.order,
    include_in_use: e.include_in_use,
    disable_source: e.disable_source,
    bandwidth_limit: e.bandwidth_limit,
    max_retries: e.max_retries,
    disabled_services: e.disabled_services,
    error: e.error,
    ...(withItems ? { items: info.summary.items.map(itemView) } : {}),
    totals,
    report: {
      ...report,
      started_at: iso(report.started_at),
      finished_at: iso(report.finished_at),
    },
    created_at: iso(e.created_at),
    updated_at: iso(e.updated_at),
    finished_at: iso(e.finished_at),
  };
}
