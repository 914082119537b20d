/** The admin view of one migration attempt (GET /migrations, GET /migrations/{id}). */
import { MigrationState } from "../../common/states";
import type { MigrationInfo } from "../../services/volumeApi/migrationApi";

function iso(d: Date | null): string | null {
  return d === null ? null : new Date(d).toISOString();
}

/** Percent done with one decimal; null while the size is unknown (100 once successful). */
function percent(m: MigrationInfo["row"]): number | null {
  if (m.state === MigrationState.SUCCESS) {
    return 100;
  }
  if (!m.bytes_total) {
    return null;
  }
  return Math.min(Math.round((m.bytes_done * 1000) / m.bytes_total) / 10, 100);
}

/** The ETA only means something while the copy runs (0 once successful). */
function eta(m: MigrationInfo["row"]): number | null {
  if (m.state === MigrationState.SUCCESS) {
    return 0;
  }
  return m.state === MigrationState.MIGRATING ? m.eta_seconds : null;
}

export function migrationView({
  row: m,
  queuePosition,
  effectiveBpsLimit,
}: MigrationInfo): Record<string, unknown> {
  return {
    id: m.id,
    volume_id: m.volume_id,
    kind: m.kind,
    state: m.state,
    flow: m.flow,
    source_host: m.source_host,
    dest_host: m.dest_host,
    requested_dest: m.requested_dest,
    temp_volume_id: m.temp_volume_id,
    progress: {
      bytes_done: m.bytes_done,
      bytes_total: m.bytes_total,
      percent: percent(m),
      rate_bps: m.rate_bps,
      eta_seconds: eta(m),
    },
    bps_limit: effectiveBpsLimit,
    compression: m.compression,
    transport: m.transport,
    checksums: { source: m.source_checksum, dest: m.dest_checksum },
    error: m.error,
    created_at: iso(m.created_at),
    started_at: iso(m.started_at),
    finished_at: iso(m.finished_at),
    updated_at: iso(m.updated_at),
    cancel_requested_at: iso(m.cancel_requested_at),
    queue_position: queuePosition,
  };
}
