/**
 * The one error middleware: every failure becomes Cinder's fault body
 * `{"<faultName>": {"code": N, "message": "..."}}` (cinder/api/openstack/wsgi.py `Fault`).
 * Messages of unsafe errors (and of anything that is not a ServiceError) are replaced by Cinder's
 * generic text and logged in full; 4xx are logged at info level.
 */
import type { NextFunction, Request, Response } from "express";

import { NotFound, QuotaExceeded, ServiceError } from "../common/errors";
import type { Logger } from "../common/logger";
import { requestIdOf } from "./context";

const FAULT_NAMES: Readonly<Record<number, string>> = {
  400: "badRequest",
  401: "unauthorized",
  403: "forbidden",
  404: "itemNotFound",
  405: "badMethod",
  409: "conflictingRequest",
  413: "overLimit",
  415: "badMediaType",
  501: "notImplemented",
  503: "serviceUnavailable",
};

export const GENERIC_MESSAGE =
  "The server has either erred or is incapable of performing the requested operation.";

export function faultName(status: number): string {
  return FAULT_NAMES[status] ?? "computeFault";
}

/**
 * Errors from express's body reader (http-errors) and from its router, which cannot decode a path
 * parameter with a malformed %-escape (`%zz`, `%c0%ae`): it throws the URIError with status 400
 * and no `expose`. Either is a client-side status with a safe message.
 */
function httpError(err: unknown): { status: number; message: string } | undefined {
  const e = err as { status?: unknown; expose?: unknown; type?: unknown; message?: unknown };
  const exposed = e?.expose === true || err instanceof URIError;
  if (typeof e?.status === "number" && e.status >= 400 && e.status < 500 && exposed) {
    const message = e.type === "entity.too.large" ? "Request is too large." : String(e.message);
    return { status: e.status, message };
  }
  return undefined;
}

function describe(err: unknown): { status: number; message: string; safe: boolean } {
  if (err instanceof ServiceError) {
    return err.safe
      ? { status: err.httpStatus, message: err.message, safe: true }
      : { status: 500, message: GENERIC_MESSAGE, safe: false };
  }
  const h = httpError(err);
  if (h) {
    return { ...h, safe: true };
  }
  return { status: 500, message: GENERIC_MESSAGE, safe: false };
}

/**
 * A 413 carries Cinder's `retryAfter` in the body and the `Retry-After` header (wsgi.Fault copies
 * the exception's header into both).
 */
export function sendFault(res: Response, status: number, message: string, retryAfter?: string): void {
  const body: Record<string, unknown> = { code: status, message };
  if (retryAfter !== undefined) {
    body["retryAfter"] = retryAfter;
    res.setHeader("Retry-After", retryAfter);
  }
  res.status(status).json({ [faultName(status)]: body });
}

export function faultHandler(logger: Logger) {
  // Express recognises error middleware by its four parameters.
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const { status, message, safe } = describe(err);
    const log = { err, requestId: requestIdOf(req), method: req.method, url: req.originalUrl, status };
    if (status >= 500 || !safe) {
      logger.error(log, "request failed");
    } else {
      logger.info({ ...log, err: undefined, reason: message }, "request refused");
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    sendFault(res, status, message, err instanceof QuotaExceeded ? err.retryAfter : undefined);
  };
}

/** Anything no route matched: a fast 404 (openstackclient probes `<endpoint>/servers/detail`). */
export function notFound(_req: Request, _res: Response, next: NextFunction): void {
  next(new NotFound("The resource could not be found."));
}
