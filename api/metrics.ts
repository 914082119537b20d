/**
 * `GET /metrics`: Prometheus text (prom-client, `text/plain; version=0.0.4`) on the API's own port,
 * without authentication (scrapers carry no Keystone token; nothing here names a tenant).
 *
 * The migration, evacuation and service figures are read from the database at scrape time by the
 * metrics' collect callbacks (one read shared by all of them, services/metrics/figures.ts), so one
 * API process reports the work of every process, workers on other machines included. The HTTP
 * histogram is this process's own: request durations by method, matched route pattern (never the
 * raw URL, so ids do not multiply the series) and status code.
 */
import type { NextFunction, Request, Response } from "express";
import { Router } from "express";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

import type { AppConfig } from "../common/config";
import type { Logger } from "../common/logger";
import type { Db } from "../db/connection";
import { type Figures, readFigures } from "../services/metrics/figures";
import { registerDiskDrains } from "./metricsDiskDrains";

export interface MetricsDeps {
  db: Db;
  config: AppConfig;
  logger: Logger;
}

/** Label of requests that matched no route (404s and the like), so they share one series. */
export const UNMATCHED_ROUTE = "unmatched";

/** Reads the figures once per scrape: the collect callbacks of one scrape share the read in flight. */
function sharedRead(read: () => Promise<Figures>): () => Promise<Figures> {
  let inFlight: Promise<Figures> | undefined;
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

function registerFigures(registry: Registry, figures: () => Promise<Figures>): void {
  const registers = [registry];
  new Gauge({
    name: "vms_migrations",
    help: "Migration attempts by state (rows of the migrations table).",
    labelNames: ["state"] as const,
    registers,
    async collect() {
      const f = await figures();
      this.reset();
      for (const [state, n] of Object.entries(f.migrations.byState)) {
        this.set({ state }, n);
      }
    },
  });
  new Counter({
    name: "vms_migrations_finished_total",
    help: "Migration attempts that ended, by outcome (success or error).",
    labelNames: ["outcome"] as const,
    registers,
    async collect() {
      const { byState } = (await figures()).migrations;
      this.reset();
      this.inc({ outcome: "success" }, byState.success);
      this.inc({ outcome: "error" }, byState.error);
    },
  });
  new Counter({
    name: "vms_migration_bytes_copied_total",
    help: "Bytes copied by migrations, finished and running.",
    registers,
    async collect() {
      const f = await figures();
      this.reset();
      this.inc(f.migrations.bytesCopied);
    },
  });
  new Gauge({
    name: "vms_migration_copy_bytes_per_second",
    help: "Copy throughput now: the rates of the migrations copying, summed.",
    registers,
    async collect() {
      this.set((await figures()).migrations.rateBps);
    },
  });
  new Counter({
    name: "vms_migration_verification_failures_total",
    help: "Migrations that failed because the destination's checksum did not match the source's.",
    registers,
    async collect() {
      const f = await figures();
      this.reset();
      this.inc(f.migrations.verificationFailures);
    },
  });
  registerEvacuations(registry, figures);
  registerServices(registry, figures);
}

function registerEvacuations(registry: Registry, figures: () => Promise<Figures>): void {
  const registers = [registry];
  new Gauge({
    name: "vms_evacuations",
    help: "Evacuations by status.",
    labelNames: ["status"] as const,
    registers,
    async collect() {
      const f = await figures();
      this.reset();
      for (const [status, n] of f.evacuationsByStatus) {
        this.set({ status }, n);
      }
    },
  });
  new Gauge({
    name: "vms_evacuation_info",
    help: "1 per evacuation not ended or ended within the last hour, with its status and source.",
    labelNames: ["evacuation", "status", "source"] as const,
    registers,
    async collect() {
      const f = await figures();
      this.reset();
      for (const e of f.evacuations) {
        this.set({ evacuation: e.id, status: e.status, source: e.source }, 1);
      }
    },
  });
  new Gauge({
    name: "vms_evacuation_volumes",
    help: "Volumes of an evacuation by item state.",
    labelNames: ["evacuation", "state"] as const,
    registers,
    async collect() {
      const f = await figures();
      this.reset();
      for (const e of f.evacuations) {
        for (const [state, n] of Object.entries(e.items)) {
          this.set({ evacuation: e.id, state }, n);
        }
      }
    },
  });
  new Gauge({
    name: "vms_evacuation_bytes",
    help: "Bytes an evacuation moves: the size of every volume not skipped.",
    labelNames: ["evacuation"] as const,
    registers,
    async collect() {
      const f = await figures();
      this.reset();
      for (const e of f.evacuations) {
        this.set({ evacuation: e.id }, e.bytesTotal);
      }
    },
  });
  new Gauge({
    name: "vms_evacuation_bytes_done",
    help: "Bytes of an evacuation moved so far: succeeded volumes plus the running copies' progress.",
    labelNames: ["evacuation"] as const,
    registers,
    async collect() {
      const f = await figures();
      this.reset();
      for (const e of f.evacuations) {
        this.set({ evacuation: e.id }, e.bytesDone);
      }
    },
  });
}

function registerServices(registry: Registry, figures: () => Promise<Figures>): void {
  const registers = [registry];
  new Gauge({
    name: "vms_service_up",
    help: "1 when the service's last heartbeat is within service_down_time, else 0.",
    labelNames: ["host", "binary"] as const,
    registers,
    async collect() {
      const f = await figures();
      this.reset();
      for (const s of f.services) {
        this.set({ host: s.host, binary: s.binary }, s.up ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: "vms_service_enabled",
    help: "1 when the service is enabled (os-services), 0 when disabled.",
    labelNames: ["host", "binary"] as const,
    registers,
    async collect() {
      const f = await figures();
      this.reset();
      for (const s of f.services) {
        this.set({ host: s.host, binary: s.binary }, s.disabled ? 0 : 1);
      }
    },
  });
}

/**
 * The route pattern a request matched, e.g. `/v3/volumes/:id` (the project id is stripped before
 * routing, api/projectUrl.ts). The router assigns `req.route` when it dispatches to a route; an
 * accessor on the request notes the mount path at that moment, since an error unwinds `baseUrl`
 * before the fault handler answers.
 */
function watchRoute(req: Request): () => string {
  let pattern: string | undefined;
  let route: unknown;
  Object.defineProperty(req, "route", {
    configurable: true,
    enumerable: true,
    get: () => route,
    set: (r: { path?: unknown } | undefined) => {
      route = r;
      if (r && r.path !== undefined) {
        pattern = `${req.baseUrl}${String(r.path)}`;
      }
    },
  });
  return () => pattern ?? (req.baseUrl ? `${req.baseUrl}/*` : UNMATCHED_ROUTE);
}

function httpDurations(registry: Registry) {
  const histogram = new Histogram({
    name: "vms_http_request_duration_seconds",
    help: "API request durations, by method, matched route pattern and status code.",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    const routeOf = watchRoute(req);
    let observed = false;
    const observe = (): void => {
      if (observed) {
        return;
      }
      observed = true;
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      histogram.observe(
        { method: req.method, route: routeOf(), status_code: String(res.statusCode) },
        seconds,
      );
    };
    res.once("finish", observe);
    res.once("close", observe);
    next();
  };
}

/** The timing middleware for every request, and `GET /metrics`. Mount first in the app. */
export function metricsRouter(deps: MetricsDeps): Router {
  const registry = new Registry();
  const figures = sharedRead(() => readFigures(deps.db, deps.config.serviceDownTime));
  registerFigures(registry, figures);
  registerDiskDrains(registry, deps.db);
  const r = Router();
  r.use(httpDurations(registry));
  r.get("/metrics", async (_req: Request, res: Response) => {
    let body: string;
    try {
      body = await registry.metrics();
    } catch (err) {
      deps.logger.warn({ err }, "metrics scrape failed");
      res.status(503).type("text/plain").send("metrics unavailable: the database did not answer\n");
      return;
    }
    res.setHeader("Content-Type", registry.contentType);
    res.send(body);
  });
  return r;
}
