/** The cluster views (cinder/api/v3/views/clusters.py): summary, detail, and replication from 3.26. */
import type { Cluster } from "../../services/volumeApi/clusterApi";
import { cinderTime } from "./common";

/** Cinder's `_normalize`: a missing date is an empty string, not null. */
function date(d: Date | null): string {
  return cinderTime(d) ?? "";
}

export function clusterSummary(c: Cluster, replicationData: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: c.name,
    binary: c.binary,
    state: c.isUp ? "up" : "down",
    status: c.disabled ? "disabled" : "enabled",
  };
  if (replicationData) {
    out["replication_status"] = c.replicationStatus;
  }
  return out;
}

export function clusterDetail(c: Cluster, replicationData: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...clusterSummary(c, false),
    num_hosts: c.numHosts,
    num_down_hosts: c.numDownHosts,
    last_heartbeat: date(c.lastHeartbeat),
    created_at: date(c.createdAt),
    updated_at: date(c.updatedAt),
    disabled_reason: c.disabledReason,
  };
  if (replicationData) {
    out["replication_status"] = c.replicationStatus;
    out["frozen"] = c.frozen;
    out["active_backend_id"] = c.activeBackendId;
  }
  return out;
}
