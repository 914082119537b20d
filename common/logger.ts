import pino from "pino";

export type Logger = pino.Logger;

export function createLogger(opts: { name: string; level?: string }): Logger {
  return pino({ name: opts.name, level: process.env["VMS_LOG_LEVEL"] ?? opts.level ?? "info" });
}

/** A logger that writes nothing, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
