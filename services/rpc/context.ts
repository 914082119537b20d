/**
 * The request ids on the wire. Every message carries the ids its sender was working under, as
 * oslo.messaging sends `_context_request_id` and `_context_global_request_id`, and the receiving
 * bus runs the handler under them: the scheduler's and the workers' lines then carry the id of the
 * API request that caused them. A message sent outside any request carries none, and its handler
 * runs with none (never with the ids of whatever the receiving process was doing).
 */
import {
  currentRequestIds,
  isRequestId,
  type RequestIds,
  runWithRequestIds,
} from "../../common/requestContext";

/** The `context` field of an Envelope. */
export interface WireContext {
  request_id: string;
  global_request_id?: string;
}

/** The current request ids for an outgoing message, or undefined outside a request. */
export function outgoingContext(): WireContext | undefined {
  const ids = currentRequestIds();
  if (!ids) {
    return undefined;
  }
  return ids.globalRequestId === undefined
    ? { request_id: ids.requestId }
    : { request_id: ids.requestId, global_request_id: ids.globalRequestId };
}

/**
 * The ids of a received message's `context`; anything but a well-formed id is dropped (a message
 * is input from another process: a malformed id must not reach the logs or a CHECKed column).
 */
export function incomingIds(context: unknown): RequestIds | undefined {
  if (typeof context !== "object" || context === null) {
    return undefined;
  }
  const { request_id: id, global_request_id: global } = context as Record<string, unknown>;
  if (!isRequestId(id)) {
    return undefined;
  }
  return isRequestId(global) ? { requestId: id, globalRequestId: global } : { requestId: id };
}

/** Runs a received message's handling under the ids it carries (none when it carries none). */
export function runAsSender<T>(context: unknown, fn: () => T): T {
  return runWithRequestIds(incomingIds(context), fn);
}
