/** A small JSON client for the tier: one request, its status, its body and how long it took. */
import { performance } from "node:perf_hooks";

import { waitFor } from "../helpers/stack";
import { type Identity, PROJECT, type ReliabilityStack } from "./stack";

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  ms: number;
}

/** The answer's JSON, or `{raw}` when it is not JSON (an HTML error page, say). */
function parseBody(text: string): Record<string, unknown> {
  if (!text) {
    return {};
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { raw: text };
  }
}

export async function call(
  stack: ReliabilityStack,
  who: Identity,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const headers: Record<string, string> = { ...stack.headers(who, "3.0") };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  const t0 = performance.now();
  const res = await fetch(`${stack.base}/v3/${PROJECT}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  return { status: res.status, body: parseBody(text), ms };
}

/** Runs `jobs` with at most `width` in flight; resolves in input order. */
export async function pool<T>(width: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return out;
}

interface VolumeBrief {
  id: string;
  status: string;
  "os-vol-host-attr:host"?: string;
  "os-vol-mig-status-attr:migstat"?: string | null;
}

/** Every volume of the project (admin view), paged through the detail list. */
export async function listVolumes(stack: ReliabilityStack): Promise<VolumeBrief[]> {
  const r = await call(stack, "admin", "GET", "/volumes/detail?limit=1000");
  if (r.status !== 200) {
    throw new Error(`volume list answered ${r.status}: ${JSON.stringify(r.body)}`);
  }
  return r.body["volumes"] as VolumeBrief[];
}

/** Creates `n` 1 GiB volumes as the admin and waits until every one is available. */
export async function createVolumes(stack: ReliabilityStack, n: number, name: string): Promise<string[]> {
  const ids = await pool(8, [
    ...Array.from({ length: n }, (_, i) => async () => {
      const r = await call(stack, "admin", "POST", "/volumes", { volume: { size: 1, name: `${name}-${i}` } });
      if (r.status !== 202) {
        throw new Error(`create answered ${r.status}: ${JSON.stringify(r.body)}`);
      }
      return (r.body["volume"] as { id: string }).id;
    }),
  ]);
  const wanted = new Set(ids);
  await waitFor(
    async () => {
      const ready = (await listVolumes(stack)).filter((v) => wanted.has(v.id) && v.status === "available");
      return ready.length === n;
    },
    `${n} volumes available`,
    300_000,
    500,
  );
  return ids;
}

/** The pool (`host@backend#pool`) of the other raw-file backend than the one `host` is on. */
export function otherPool(host: string): string {
  const [node] = host.split("@");
  return host.includes("@file-1") ? `${node}@file-2#file-2` : `${node}@file-1#file-1`;
}
