/**
 * GET /clusters[/detail] and /clusters/{name} (cinder/api/v3/clusters.py). Cinder keeps a clusters
 * table; here a cluster is what its services say: the `cluster_name` (`<cluster>@<backend>`) and
 * binary of the service rows that share it. So a cluster is up when one of its services is, and
 * disabled (or frozen) when all (any) of them are; it has no row of its own to be updated.
 */
import { InvalidInput, NotFound } from "../../common/errors";
import { ServiceBinary } from "../../common/states";
import { listServices, type ServiceWithState } from "../../db/services";
import { AdminPolicy, authorize, type Caller } from "./caller";
import { boolParam, type VolumeApiOptions } from "./lookup";

export interface Cluster {
  name: string;
  binary: string;
  isUp: boolean;
  disabled: boolean;
  disabledReason: string | null;
  numHosts: number;
  numDownHosts: number;
  lastHeartbeat: Date | null;
  createdAt: Date;
  updatedAt: Date | null;
  frozen: boolean;
  replicationStatus: string;
  activeBackendId: string | null;
}

const LIST_FILTERS = ["name", "binary", "is_up", "disabled", "num_hosts", "num_down_hosts"];
const REPLICATION_FILTERS = ["replication_status", "frozen", "active_backend_id"];

function latest(dates: (Date | null)[]): Date | null {
  const times = dates.filter((d): d is Date => d !== null).map((d) => new Date(d).getTime());
  return times.length === 0 ? null : new Date(Math.max(...times));
}

function toCluster(name: string, binary: string, services: ServiceWithState[]): Cluster {
  const disabled = services.every((s) => s.disabled);
  return {
    name,
    binary,
    isUp: services.some((s) => s.is_up),
    disabled,
    disabledReason: disabled ? (services.find((s) => s.disabled_reason)?.disabled_reason ?? null) : null,
    numHosts: services.length,
    numDownHosts: services.filter((s) => !s.is_up).length,
    lastHeartbeat: latest(services.map((s) => s.updated_at)),
    createdAt: new Date(Math.min(...services.map((s) => new Date(s.created_at).getTime()))),
    updatedAt: null,
    frozen: services.some((s) => s.frozen),
    // Replication is not supported: Cinder's value for a backend without it (as os-services shows).
    replicationStatus: "disabled",
    activeBackendId: null,
  };
}

/** Cinder's `_filter_host` on cluster names: `c` matches `c@backend`, `c@backend` matches `c@backend#pool`. */
function nameMatches(clusterName: string, wanted: string): boolean {
  if (clusterName === wanted) {
    return true;
  }
  if (wanted.includes("#")) {
    return false;
  }
  return (
    clusterName.startsWith(`${wanted}#`) || (!wanted.includes("@") && clusterName.startsWith(`${wanted}@`))
  );
}

function matches(c: Cluster, key: string, value: string): boolean {
  switch (key) {
    case "name":
      return nameMatches(c.name, value);
    case "binary":
      return c.binary === value;
    case "is_up":
      return c.isUp === boolParam(key, value);
    case "disabled":
      return c.disabled === boolParam(key, value);
    case "frozen":
      return c.frozen === boolParam(key, value);
    case "num_hosts":
      return String(c.numHosts) === value.trim();
    case "num_down_hosts":
      return String(c.numDownHosts) === value.trim();
    case "replication_status":
      return c.replicationStatus === value;
    default:
      // active_backend_id: never set without replication.
      return false;
  }
}

async function allClusters(o: VolumeApiOptions): Promise<Cluster[]> {
  const groups = new Map<string, ServiceWithState[]>();
  for (const s of await listServices(o.db, o.config.serviceDownTime)) {
    if (s.cluster_name !== null) {
      const key = JSON.stringify([s.cluster_name, s.binary]);
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
  }
  return [...groups.entries()]
    .map(([key, services]) => {
      const [name, binary] = JSON.parse(key) as [string, string];
      return toCluster(name, binary, services);
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.binary.localeCompare(b.binary));
}

/** The list, with Cinder's filter keys (replication ones from 3.26) and their 400 for others. */
export async function listClusters(
  o: VolumeApiOptions,
  caller: Caller,
  filters: Record<string, string>,
  replicationData: boolean,
): Promise<Cluster[]> {
  authorize(caller, AdminPolicy.CLUSTERS_GET_ALL);
  const allowed = replicationData ? [...LIST_FILTERS, ...REPLICATION_FILTERS] : LIST_FILTERS;
  const invalid = Object.keys(filters).filter((k) => !allowed.includes(k));
  if (invalid.length > 0) {
    throw new InvalidInput(`Invalid filter keys: ${invalid.join(", ")}`);
  }
  const clusters = await allClusters(o);
  return clusters.filter((c) => Object.entries(filters).every(([k, v]) => matches(c, k, v)));
}

export async function showCluster(
  o: VolumeApiOptions,
  caller: Caller,
  name: string,
  binary: string = ServiceBinary.VOLUME,
): Promise<Cluster> {
  authorize(caller, AdminPolicy.CLUSTERS_GET);
  const found = (await allClusters(o)).find((c) => c.binary === binary && nameMatches(c.name, name));
  if (!found) {
    // Cinder names the failed lookup by its filters dict.
    throw new NotFound(`Cluster {'binary': '${binary}', 'name': '${name}'} could not be found.`);
  }
  return found;
}
