/**
 * The admin discovery endpoints: scheduler-stats/get_pools, os-services and os-hosts. Cinder
 * answers get_pools from the scheduler's memory; our schedulers read the services table, so the
 * API reads the same rows with the same rule (volume services up, enabled, not frozen, with
 * capabilities — cinder/scheduler/host_manager.py `_update_backend_state_map`).
 */
import { InvalidInput, NotFound } from "../../common/errors";
import { ServiceBinary } from "../../common/states";
import { listServices, type ServiceWithState, setServiceDisabled } from "../../db/services";
import { snapshotUsageOnHost } from "../../db/snapshots";
import { volumeUsageOnHost } from "../../db/volumes";
import { AdminPolicy, authorize, type Caller } from "./caller";
import { type Cluster, listClusters, showCluster } from "./clusterApi";
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

/** One row of GET os-hosts/{host} (counts and sizes as strings, as Cinder sends them). */
export interface HostResource {
  host: string;
  project: string;
  volume_count: string;
  total_volume_gb: string;
  snapshot_count: string;
  total_snapshot_gb: string;
}

/** Cinder's `_filter_host` with the level taken from the value (`node` also matches `node@lvm`). */
function hostMatches(serviceHost: string, wanted: string): boolean {
  if (serviceHost === wanted) {
    return true;
  }
  if (wanted.includes("#")) {
    return false;
  }
  return (
    serviceHost.startsWith(`${wanted}#`) || (!wanted.includes("@") && serviceHost.startsWith(`${wanted}@`))
  );
}

export interface ListServicesRequest {
  host?: string;
  binary?: string;
}

/** The actions of PUT os-services/{action} we implement (Cinder also has freeze, thaw, logs…). */
export const SERVICE_UPDATE_ACTIONS = ["enable", "disable", "disable-log-reason"] as const;

export interface UpdateServiceRequest {
  host: string;
  /** `binary`, else the deprecated `service` key; empty when neither was sent. */
  binary: string;
  /** disable-log-reason only. */
  disabledReason?: string;
}

/** What Cinder answers to an enable/disable: the request echoed with the new state. */
export interface ServiceUpdateResult {
  host: string;
  binary: string;
  disabled: boolean;
  status: "enabled" | "disabled";
  /** Set by enable (null) and disable-log-reason; absent after a plain disable, as in Cinder. */
  disabledReason?: string | null;
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

  /**
   * PUT os-services/enable|disable|disable-log-reason (cinder/api/contrib/services.py `update`):
   * the one service with exactly this host and binary. Enabling clears the reason; a plain
   * disable keeps the one stored. The heartbeat time is not touched, so up/down stays true.
   */
  async updateService(caller: Caller, action: string, r: UpdateServiceRequest): Promise<ServiceUpdateResult> {
    authorize(caller, AdminPolicy.SERVICES_UPDATE);
    if (!(SERVICE_UPDATE_ACTIONS as readonly string[]).includes(action)) {
      throw new InvalidInput("Unknown action");
    }
    if (!r.host) {
      throw new InvalidInput("Host field is missing.");
    }
    const disabled = action !== "enable";
    const reason =
      action === "enable" ? null : action === "disable-log-reason" ? r.disabledReason : undefined;
    const row = await setServiceDisabled(this.o.db, r.host, r.binary, disabled, reason);
    if (!row) {
      throw new NotFound(`Service ${r.binary || "None"} could not be found on host ${r.host}.`);
    }
    this.o.logger.info(
      { host: r.host, binary: r.binary, disabled, reason: reason ?? null, user_id: caller.userId },
      disabled ? "service disabled" : "service enabled",
    );
    return {
      host: r.host,
      binary: r.binary,
      disabled,
      status: disabled ? "disabled" : "enabled",
      ...(reason === undefined ? {} : { disabledReason: reason }),
    };
  }

  /** GET os-hosts: enabled services only, optionally of one zone. */
  async hosts(caller: Caller, zone?: string): Promise<ServiceWithState[]> {
    authorize(caller, AdminPolicy.HOSTS);
    const services = await listServices(this.o.db, this.o.config.serviceDownTime);
    return services.filter((s) => !s.disabled && (!zone || s.availability_zone === zone));
  }

  /**
   * GET os-hosts/{host} (cinder/api/contrib/hosts.py `show`): the enabled volume service on that
   * host, then volume and snapshot totals on it, overall and per project.
   */
  async hostResources(caller: Caller, host: string): Promise<HostResource[]> {
    authorize(caller, AdminPolicy.HOSTS);
    const services = await listServices(this.o.db, this.o.config.serviceDownTime, {
      binary: ServiceBinary.VOLUME,
    });
    const svc = services.find((s) => !s.disabled && hostMatches(s.host, host));
    if (!svc) {
      throw new NotFound(`Service ${ServiceBinary.VOLUME} could not be found on host ${host}.`);
    }
    const [volumes, snapshots] = await Promise.all([
      volumeUsageOnHost(this.o.db, svc.host),
      snapshotUsageOnHost(this.o.db, svc.host),
    ]);
    const sum = (xs: { count: number; gigabytes: number }[], k: "count" | "gigabytes"): number =>
      xs.reduce((n, x) => n + x[k], 0);
    const row = (project: string, v: { count: number; gigabytes: number }, s: typeof v): HostResource => ({
      host,
      project,
      volume_count: String(v.count),
      total_volume_gb: String(v.gigabytes),
      snapshot_count: String(s.count),
      total_snapshot_gb: String(s.gigabytes),
    });
    const none = { count: 0, gigabytes: 0 };
    return [
      row(
        "(total)",
        { count: sum(volumes, "count"), gigabytes: sum(volumes, "gigabytes") },
        { count: sum(snapshots, "count"), gigabytes: sum(snapshots, "gigabytes") },
      ),
      ...volumes.map((v) =>
        row(v.project_id, v, snapshots.find((s) => s.project_id === v.project_id) ?? none),
      ),
    ];
  }

  clusters(caller: Caller, filters: Record<string, string>, replicationData: boolean): Promise<Cluster[]> {
    return listClusters(this.o, caller, filters, replicationData);
  }

  cluster(caller: Caller, name: string, binary?: string): Promise<Cluster> {
    return showCluster(this.o, caller, name, binary);
  }
}
