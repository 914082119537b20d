import { ServiceBinary } from "../../common/states";
import type { Db } from "../../db/connection";
import { listServices, type PoolCapabilities } from "../../db/services";

/** One pool the scheduler may place a volume on. */
export interface PoolState {
  /** `host@backend#pool`. */
  host: string;
  /** `host@backend`. */
  serviceHost: string;
  /** `cluster@backend` of the service, when it belongs to a cluster. */
  clusterName: string | null;
  availabilityZone: string;
  /** The pool's capabilities merged with its service's (volume_backend_name, storage_protocol, …). */
  capabilities: PoolCapabilities;
}

/**
 * Pools of every volume service that is up (heartbeat within service_down_time, judged by the
 * database clock), enabled, not frozen, and has reported capabilities (Cinder's
 * HostManager._update_backend_state_map).
 */
export async function loadPools(db: Db, serviceDownTime: number): Promise<PoolState[]> {
  const services = await listServices(db, serviceDownTime, { binary: ServiceBinary.VOLUME });
  const pools: PoolState[] = [];
  for (const s of services) {
    if (!s.is_up || s.disabled || s.frozen || !s.capabilities) {
      continue;
    }
    const { pools: reported, ...serviceLevel } = s.capabilities;
    for (const p of reported) {
      pools.push({
        host: `${s.host}#${p.pool_name}`,
        serviceHost: s.host,
        clusterName: s.cluster_name,
        availabilityZone: s.availability_zone,
        capabilities: { ...serviceLevel, ...p },
      });
    }
  }
  return pools;
}
