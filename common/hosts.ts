/**
 * Cinder's host strings, and the one set of names this code uses for them:
 *
 *   node     `hostA`                 the machine part: [DEFAULT] host or [backend] backend_host
 *   backend  `hostA@lvm-1`           a volume service, its RPC queue and its services row
 *                                    (`serviceHost` in BackendConfig; `backendOf(x)` gets it)
 *   pool     `hostA@lvm-1#lvm-1`     where a volume lives: volumes.host, get-pools' `name`
 *   cluster  `mycluster@lvm-1`      [DEFAULT] cluster + backend: several backends serving as one
 *
 * The storage host (the Linux machine with the VG) is not named by these: it is the backend's
 * `ssh_host`/`ssh_port` (or the local machine), and `lvm_host_id` says which backends share one.
 */
export type NodeName = string;
export type BackendName = string;
export type PoolName = string;

export interface ParsedHost {
  host: NodeName;
  backend: string | null;
  pool: string | null;
}

/** Splits `host@backend#pool` (any part may be missing), as cinder.volume.volume_utils.extract_host. */
export function parseHost(value: string): ParsedHost {
  const [hostBackend, pool] = splitOnce(value, "#");
  const [host, backend] = splitOnce(hostBackend, "@");
  return { host, backend, pool };
}

/** `host@backend` without the pool: the name of the volume service and its queue. */
export function backendOf(value: PoolName | BackendName): BackendName {
  return splitOnce(value, "#")[0];
}

export function poolOf(value: string): string | null {
  return splitOnce(value, "#")[1];
}

export function appendPool(backend: BackendName, pool: string): PoolName {
  return `${backendOf(backend)}#${pool}`;
}

function splitOnce(value: string, sep: string): [string, string | null] {
  const i = value.indexOf(sep);
  return i < 0 ? [value, null] : [value.slice(0, i), value.slice(i + 1)];
}

/** The RPC queue of a volume service (Cinder's `cinder-volume.<host@backend>`). */
export function volumeTopic(hostOrBackend: PoolName | BackendName): string {
  return `cinder-volume.${backendOf(hostOrBackend)}`;
}

export const SCHEDULER_TOPIC = "cinder-scheduler";
