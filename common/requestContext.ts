/**
 * The request ids of the work under way, carried with AsyncLocalStorage: set by the API for each
 * HTTP request, by the bus for each message it hands a handler, and by the loops that continue a
 * migration or an evacuation (from the ids stored on its row). The logger adds them to every line
 * (logger.ts), so grepping one id finds what that request caused in every process.
 *
 * The ids are oslo's: `request_id` is the one the API answered with (`x-openstack-request-id`),
 * `global_request_id` the one the client sent in `X-OpenStack-Request-ID`, if any.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

export interface RequestIds {
  requestId: string;
  /** The caller's id for a chain of requests across services (oslo's global_request_id). */
  globalRequestId?: string;
}

/** oslo.middleware's ID_FORMAT: only ids of this form are taken from outside. */
const REQUEST_ID_FORMAT = /^req-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$/;

const storage = new AsyncLocalStorage<RequestIds | undefined>();

/** A new request id, `req-<uuid>` as oslo makes them. */
export function newRequestId(): string {
  return `req-${randomUUID()}`;
}

export function isRequestId(value: unknown): value is string {
  return typeof value === "string" && REQUEST_ID_FORMAT.test(value);
}

/**
 * Runs `fn` with `ids` as the current request ids, and everything it starts (awaits, timers,
 * callbacks) too. Undefined runs it with none: work not caused by a request must not inherit the
 * ids of whatever happened to start it.
 */
export function runWithRequestIds<T>(ids: RequestIds | undefined, fn: () => T): T {
  return storage.run(ids, fn);
}

/**
 * Runs `fn` outside any request: for timers, pollers and connections that outlive the request
 * that first needed them, whose later callbacks would otherwise log under that request's id.
 */
export function runOutsideRequest<T>(fn: () => T): T {
  return storage.run(undefined, fn);
}

export function currentRequestIds(): RequestIds | undefined {
  return storage.getStore();
}

/** The ids as stored in a row or read from one (columns `request_id`, `global_request_id`). */
export interface RequestIdColumns {
  request_id: string | null;
  global_request_id: string | null;
}

/** The current ids as columns, for a row whose work a later loop continues. */
export function requestIdColumns(): RequestIdColumns {
  const ids = storage.getStore();
  return { request_id: ids?.requestId ?? null, global_request_id: ids?.globalRequestId ?? null };
}

/** The ids a row was made under, or undefined for a row made outside any request. */
export function requestIdsOf(row: Partial<RequestIdColumns>): RequestIds | undefined {
  if (!isRequestId(row.request_id)) {
    return undefined;
  }
  return isRequestId(row.global_request_id)
    ? { requestId: row.request_id, globalRequestId: row.global_request_id }
    : { requestId: row.request_id };
}

/** The fields every log line gets while a request's work runs (none outside one). */
export function requestLogFields(): { request_id?: string; global_request_id?: string } {
  const ids = storage.getStore();
  if (!ids) {
    return {};
  }
  return ids.globalRequestId === undefined
    ? { request_id: ids.requestId }
    : { request_id: ids.requestId, global_request_id: ids.globalRequestId };
}
