/**
 * Views of the discovery endpoints: get_pools (cinder/api/views/scheduler_stats.py), os-services
 * (cinder/api/v3/services.py with os-extended-services) and os-hosts (cinder/api/contrib/hosts.py).
 */
import { ServiceBinary } from "../../common/states";
import type { ServiceWithState } from "../../db/services";
import type { Pool } from "../../services/volumeApi/discoveryApi";
import type { RequestContext } from "../context";
import { cinderTime } from "./common";

export function poolView(p: Pool, detail: boolean): Record<string, unknown> {
  if (!detail) {
    return { name: p.name };
  }
  const caps = { ...p.capabilities };
  // Cinder reports the capabilities' timestamp as a datetime.
  if (typeof caps["timestamp"] === "string") {
    caps["timestamp"] = cinderTime(caps["timestamp"]);
  }
  return { name: p.name, capabilities: caps };
}

export function serviceView(
  s: ServiceWithState,
  backendStates: ReadonlyMap<string, string>,
  c: RequestContext,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    binary: s.binary,
    host: s.host,
    zone: s.availability_zone,
    status: s.disabled ? "disabled" : "enabled",
    state: s.is_up ? "up" : "down",
    updated_at: cinderTime(s.updated_at),
  };
  const isVolume = s.binary === ServiceBinary.VOLUME;
  if (isVolume && c.apiVersion.matches("3.49")) {
    out["backend_state"] = backendStates.get(s.host) ?? null;
  }
  if (c.apiVersion.matches("3.7")) {
    out["cluster"] = s.cluster_name;
  }
  out["disabled_reason"] = s.disabled_reason;
  if (isVolume) {
    // Replication is not supported: Cinder's values for a backend without it.
    out["replication_status"] = "disabled";
    out["active_backend_id"] = null;
    out["frozen"] = s.frozen;
  }
  return out;
}

/**
 * Cinder prints the service's topic as `service`; for our services that is their binary name
 * (`cinder-volume`), which is what tempest looks for.
 */
export function hostView(s: ServiceWithState): Record<string, unknown> {
  return {
    host_name: s.host,
    service: s.binary,
    zone: s.availability_zone,
    "service-status": s.is_up ? "available" : "unavailable",
    "service-state": s.disabled ? "disabled" : "enabled",
    "last-update": cinderTime(s.updated_at),
  };
}
