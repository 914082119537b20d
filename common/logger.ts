import pino from "pino";

import { requestLogFields } from "./requestContext";

export type Logger = pino.Logger;

/**
 * Every line written while a request's work runs carries its `request_id` (and the client's
 * `global_request_id`), in whichever process the work runs: see requestContext.ts.
 */
export function createLogger(opts: {
  name: string;
  level?: string;
  /** Where lines go; stdout by default (tests read them from a stream). */
  destination?: pino.DestinationStream;
}): Logger {
  const options = {
    name: opts.name,
    level: process.env["VMS_LOG_LEVEL"] ?? opts.level ?? "info",
    mixin: requestLogFields,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that writes nothing, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
