/**
 * Per-request state, kept in WeakMaps keyed by the request instead of augmenting express's types:
 * the request id and microversion (set first, so even faults can report them), the caller (set
 * by auth), the URL's project id, and the decoded JSON body.
 */
import type { Request } from "express";

import { InvalidInput, MalformedRequestBody } from "../common/errors";
import type { RequestIds } from "../common/requestContext";
import { BadRequest } from "../services/volumeApi/badRequest";
import type { Caller } from "../services/volumeApi/caller";
import { type ApiVersion, MIN_API_VERSION } from "./microversion";

export interface RequestContext extends Caller {
  requestId: string;
  apiVersion: ApiVersion;
  /** The project id written in the URL (`/v3/{project_id}/…`), or null when omitted. */
  urlProjectId: string | null;
  /** `scheme://host[:port]` from the request, for links. */
  baseUrl: string;
}

interface PendingContext {
  requestId: string;
  ids: RequestIds;
  apiVersion?: ApiVersion;
  urlProjectId?: string | null;
  caller?: Caller;
}

const state = new WeakMap<Request, PendingContext>();

export function initRequest(req: Request, requestId: string, globalRequestId?: string): void {
  const ids = globalRequestId === undefined ? { requestId } : { requestId, globalRequestId };
  state.set(req, { requestId, ids });
}

function get(req: Request): PendingContext {
  const s = state.get(req);
  if (!s) {
    throw new Error("request context used before initRequest");
  }
  return s;
}

export function requestIdOf(req: Request): string | undefined {
  return state.get(req)?.requestId;
}

/** The request's ids (its own and the client's), for running its work under them. */
export function requestIdsOf(req: Request): RequestIds | undefined {
  return state.get(req)?.ids;
}

export function setApiVersion(req: Request, v: ApiVersion): void {
  get(req).apiVersion = v;
}

export function setUrlProject(req: Request, projectId: string | null): void {
  get(req).urlProjectId = projectId;
}

export function urlProjectOf(req: Request): string | null {
  return get(req).urlProjectId ?? null;
}

export function setCaller(req: Request, caller: Caller): void {
  get(req).caller = caller;
}

/**
 * The full context; only valid behind the auth middleware. Like Cinder's Resource, a URL naming
 * another project than the caller's is refused (checked here, i.e. only once a route matched).
 */
export function ctx(req: Request): RequestContext {
  const s = get(req);
  if (!s.caller) {
    throw new Error("request context used before authentication");
  }
  if (s.urlProjectId && s.urlProjectId !== s.caller.projectId) {
    throw new BadRequest("Malformed request url");
  }
  return {
    ...s.caller,
    requestId: s.requestId,
    apiVersion: s.apiVersion ?? MIN_API_VERSION,
    urlProjectId: s.urlProjectId ?? null,
    baseUrl: `${req.protocol}://${req.get("host") ?? "localhost"}`,
  };
}

const MALFORMED = Symbol("malformed");
const TOO_DEEP = Symbol("too deep");
const HAS_NUL = Symbol("has NUL");
const bodies = new WeakMap<Request, unknown>();

/**
 * Deepest nesting of arrays and objects a body may have. Cinder's deepest requests need 4; past a
 * few thousand levels every recursive walk of the value (the schema error's Python repr, ajv,
 * JSON.stringify) overflows the stack, so deep bodies are refused before anything reads them.
 */
export const MAX_BODY_DEPTH = 32;

/** Whether JSON text nests arrays and objects deeper than `limit` (brackets in strings do not count). */
function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) {
        i++; // a backslash escapes the next character, a quote included
      } else if (c === 0x22) {
        inString = false;
      }
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) {
        return true;
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/**
 * Whether a decoded body holds U+0000 in a string or a key: Postgres cannot store it in text or
 * jsonb, so it would fail whichever query the value reached. Bodies are shallow by now.
 */
function hasNul(v: unknown): boolean {
  if (typeof v === "string") {
    return v.includes("\u0000");
  }
  return (
    typeof v === "object" &&
    v !== null &&
    Object.entries(v).some(([k, x]) => k.includes("\u0000") || hasNul(x))
  );
}

/** Decode the raw body as JSON whatever the Content-Type (clients send application/json). */
export function storeBody(req: Request, raw: Buffer | undefined): void {
  if (!raw || raw.length === 0) {
    return;
  }
  const text = raw.toString("utf8");
  if (nestedDeeperThan(text, MAX_BODY_DEPTH)) {
    bodies.set(req, TOO_DEEP);
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    bodies.set(req, MALFORMED);
    return;
  }
  bodies.set(req, hasNul(body) ? HAS_NUL : body);
}

/**
 * The decoded body, undefined when empty. Unparsable JSON raises here rather than in the body
 * middleware, so an unknown path still answers 404 before a bad body answers 400, as in Cinder.
 */
export function jsonBody(req: Request): unknown {
  const body = bodies.get(req);
  if (body === MALFORMED) {
    throw new MalformedRequestBody();
  }
  if (body === TOO_DEEP) {
    throw new MalformedRequestBody(`JSON nested deeper than ${MAX_BODY_DEPTH} levels`);
  }
  if (body === HAS_NUL) {
    throw new InvalidInput("NUL characters (\\u0000) are not allowed in the request body");
  }
  return body;
}
