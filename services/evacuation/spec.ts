/**
 * The names an evacuation's `source` and `destination` take, resolved against the volume services
 * (common/hosts.ts has the vocabulary):
 *
 *   `node`                 every backend of that node, and every backend of a cluster `node@…`
 *   `node@backend`         that backend (or the cluster `cluster@backend`, all its services)
 *   `node@backend#pool`    one pool of that backend (or of that cluster's services)
 *
 * A name resolves to the `host@backend` services it covers and, with `#pool`, the one pool name:
 * a pool (`host@backend#pool`, as volumes.host and get-pools' names are) is covered when its
 * backend is one of them and the pool matches. Resolution is pure; `resolveEvacuationHosts` reads
 * the services table once and refuses names that cover nothing.
 */
import { InvalidInput } from "../../common/errors";
import { backendOf, parseHost, poolOf } from "../../common/hosts";
import { ServiceBinary } from "../../common/states";
import type { Db } from "../../db/connection";
import { listServices, type ServiceWithState } from "../../db/services";

/** What one name covers. */
export interface HostMatch {
  /** The name as given. */
  name: string;
  /** The `host@backend` services it covers. */
  backends: ReadonlySet<string>;
  /** Only this pool of them; null: all their pools. */
  pool: string | null;
}

/** The columns of a services row resolution needs. */
export type ServiceRef = Pick<ServiceWithState, "host" | "cluster_name">;

/** Why a name is not of the accepted forms, or null when it is. */
function malformed(name: string): string | null {
  const { host, backend, pool } = parseHost(name);
  if (host === "" || backend === "" || pool === "" || /\s/.test(name)) {
    return `'${name}' is not a node, host@backend, host@backend#pool or cluster name.`;
  }
  if (pool !== null && backend === null) {
    return `'${name}' names a pool without its backend (host@backend#pool).`;
  }
  return null;
}

/** The services a name covers (node, backend or cluster); undefined when it covers none. */
export function resolveName(name: string, services: readonly ServiceRef[]): HostMatch | undefined {
  const base = backendOf(name);
  const withBackend = base.includes("@");
  const backends = new Set<string>();
  for (const s of services) {
    const byHost = withBackend ? s.host === base : parseHost(s.host).host === base;
    const byCluster =
      s.cluster_name !== null &&
      (withBackend ? backendOf(s.cluster_name) === base : parseHost(s.cluster_name).host === base);
    if (byHost || byCluster) {
      backends.add(s.host);
    }
  }
  return backends.size === 0 ? undefined : { name, backends, pool: poolOf(name) };
}

/** Whether a pool or volume host (`host@backend#pool`) lies within what the name covers. */
export function covers(m: HostMatch, host: string): boolean {
  return m.backends.has(backendOf(host)) && (m.pool === null || poolOf(host) === m.pool);
}

/**
 * Whether the name covers every pool of a service, so that disabling the service takes nothing
 * from outside it: always for a node, backend or cluster name; for a pool name only when that pool
 * is the only one the service reports (os-services disables a backend, not a pool).
 */
export function coversWholeService(
  m: HostMatch,
  s: Pick<ServiceWithState, "host" | "capabilities">,
): boolean {
  if (!m.backends.has(s.host)) {
    return false;
  }
  if (m.pool === null) {
    return true;
  }
  const pools = s.capabilities?.pools ?? [];
  return pools.length > 0 && pools.every((p) => p.pool_name === m.pool);
}

/** Whether everything `inner` covers is within `outer`. */
function within(inner: HostMatch, outer: HostMatch): boolean {
  return (
    [...inner.backends].every((b) => outer.backends.has(b)) &&
    (outer.pool === null || inner.pool === outer.pool)
  );
}

export interface EvacuationHosts {
  source: HostMatch;
  /** null: wherever the scheduler would place the volumes (every enabled, up pool outside the source). */
  destination: HostMatch[] | null;
  /** Every volume service (any state), as read once for the resolution. */
  services: ServiceWithState[];
}

/** Resolves `source` and `destination` against the services table; a name that covers nothing is a 400. */
export async function resolveEvacuationHosts(
  db: Db,
  serviceDownTime: number,
  source: string,
  destination: readonly string[] | null,
): Promise<EvacuationHosts> {
  for (const name of [source, ...(destination ?? [])]) {
    const why = malformed(name);
    if (why !== null) {
      throw new InvalidInput(why);
    }
  }
  const services = await listServices(db, serviceDownTime, { binary: ServiceBinary.VOLUME });
  const src = resolveName(source, services);
  if (!src) {
    throw new InvalidInput(`source '${source}' names no volume service.`);
  }
  const dests = destination?.map((name) => {
    const m = resolveName(name, services);
    if (!m) {
      throw new InvalidInput(`destination '${name}' names no volume service.`);
    }
    if (within(m, src)) {
      throw new InvalidInput(`destination '${name}' is part of the source '${source}'.`);
    }
    return m;
  });
  return { source: src, destination: dests ?? null, services };
}
