/**
 * Cinder's host strings: `host@backend#pool`. `extractHost` mirrors cinder.volume.volume_utils.extract_host.
 */
export interface ParsedHost {
  host: string;
  backend: string | null;
  pool: string | null;
}

export function parseHost(value: string): ParsedHost {
  const [hostBackend, pool] = splitOnce(value, "#");
  const [host, backend] = splitOnce(hostBackend, "@");
  return { host, backend, pool };
}

/** `host@backend` without the pool: the name of the volume service and its queue. */
export function backendOf(value: string): string {
  return splitOnce(value, "#")[0];
}

export function poolOf(value: string): string | null {
  return splitOnce(value, "#")[1];
}

export function appendPool(backend: string, pool: string): string {
  return `${backendOf(backend)}#${pool}`;
}

function splitOnce(value: string, sep: string): [string, string | null] {
  const i = value.indexOf(sep);
  return i < 0 ? [value, null] : [value.slice(0, i), value.slice(i + 1)];
}

/** The RPC queue of a volume service (Cinder's `cinder-volume.<host@backend>`). */
export function volumeTopic(hostOrBackend: string): string {
  return `cinder-volume.${backendOf(hostOrBackend)}`;
}

export const SCHEDULER_TOPIC = "cinder-scheduler";
