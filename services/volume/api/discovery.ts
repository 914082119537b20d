/**
 * The admin discovery endpoints: scheduler-stats/get_pools, os-services and os-hosts. Cinder
 * answers get_pools from the scheduler's memory; our schedulers read the services table, so the
 * API reads the same rows with the same rule (volume services up, enabled, not frozen, with
 * capabilities — cinder/scheduler/host_manager.py `_update_backend_state_map`).
 */
import { listServices, type ServiceWithState } from "../../../db/services";
import { ServiceBinary } from "../../common/states";
import { AdminPolicy, authorize, type Caller } from "./caller";
import { boolParam, type VolumeApiOptions } from "./lookup";

export interface Pool {
  /** `host@backend#pool` */
  name: string;
  /** The service (`host@backend`) reporting the pool. */
  serviceHost: string;
  /** The pool's own keys, completed with the service-level ones (host_manager `_append_backend_info`). */
  capabilities: Record<string, unknown>;
}

export interface ListPoolsRequest {
  detail?: string;
  /** Exact pool name; Cinder honours it from microversion 3.28. */
  name?: string;
}

export interface ListServicesRequest {
  host?: string;
  binary?: string;
}

function schedulable(s: ServiceWithState): boolean {
  return s.binary === ServiceBinary.VOLUME && s.is_up && !s.disabled && !s.frozen && s.capabilities !== null;
}

function poolsOf(s: ServiceWithState): Pool[] {
  const caps = s.capabilities!;
  const backendLevel: Record<string, unknown> = {
    volume_backend_name: caps.volume_backend_name,
    storage_protocol: caps.storage_protocol,
    vendor_name: caps.vendor_name,
    driver_version: caps.driver_version,
    timestamp: caps.timestamp,
  };
  return (caps.pools ?? []).map((pool) => {
    const merged: Record<string, unknown> = { ...pool };
    for (const [k, v] of Object.entries(backendLevel)) {
      // Pool values win; only missing (or empty) keys are filled, as Cinder does.
      if (!merged[k]) {
        merged[k] = v;
      }
    }
    return { name: `${s.host}#${pool.pool_name}`, serviceHost: s.host, capabilities: merged };
  });
}

export class DiscoveryApi {
  constructor(private readonly o: VolumeApiOptions) {}

  async activePools(): Promise<Pool[]> {
    const services = await listServices(this.o.db, this.o.config.serviceDownTime, {
      binary: ServiceBinary.VOLUME,
    });
    return services
      .filter(schedulable)
      .flatMap(poolsOf)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** GET scheduler-stats/get_pools: policy first, then the `detail` flag (a 400 if not boolean). */
  async pools(caller: Caller, r: ListPoolsRequest): Promise<{ detail: boolean; pools: Pool[] }> {
    authorize(caller, AdminPolicy.GET_POOLS);
    const detail = boolParam("detail", r.detail);
    const pools = await this.activePools();
    return { detail, pools: r.name === undefined ? pools : pools.filter((p) => p.name === r.name) };
  }

  /**
   * GET os-services. `host` matches a service host exactly or as the part before `@`, so
   * `?host=node` also lists `node@lvm` (what tempest expects).
   */
  async services(
    caller: Caller,
    r: ListServicesRequest,
  ): Promise<{ services: ServiceWithState[]; backendStates: Map<string, string> }> {
    authorize(caller, AdminPolicy.SERVICES_INDEX);
    const services = await listServices(this.o.db, this.o.config.serviceDownTime, {
      binary: r.binary,
      hostPrefix: r.host,
    });
    const backendStates = new Map<string, string>();
    for (const pool of await this.activePools()) {
      const state = pool.capabilities["backend_state"];
      backendStates.set(pool.serviceHost, typeof state === "string" ? state : "up");
    }
    return { services, backendStates };
  }

  /** GET os-hosts: enabled services only, optionally of one zone. */
  async hosts(caller: Caller, zone?: string): Promise<ServiceWithState[]> {
    authorize(caller, AdminPolicy.HOSTS);
    const services = await listServices(this.o.db, this.o.config.serviceDownTime);
    return services.filter((s) => !s.disabled && (!zone || s.availability_zone === zone));
  }
}
