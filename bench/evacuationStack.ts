/**
 * The all-in-one service on the embedded default, started inside the bench process: what
 * `vms all --config etc/demo.conf` wires (main/index.ts), with PGlite, the in-process bus and the
 * demo's two raw-file backends under a temp dir, the API on a free port. In-process so the bench
 * can time the evacuation driver's own ticks (TimedDriver); everything else is the service's code.
 */
import fs from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import { performance } from "node:perf_hooks";

import { createApp } from "../api/app";
import { type AppConfig, parseConfig } from "../common/config";
import { silentLogger } from "../common/logger";
import { type Db, migrateLatest, openDatabase } from "../db/connection";
import { RunnerFactory } from "../drivers/exec";
import { EvacuationDriver } from "../services/evacuation/driver";
import { EvacuationApi } from "../services/evacuation/evacuationApi";
import { createBus } from "../services/rpc";
import { startSchedulerService } from "../services/scheduler/service";
import { type RunningService, startVolumeService } from "../services/volume/service";

const DEMO_CONF = path.resolve(__dirname, "../etc/demo.conf");

/** One tick of the driver: when it began (ms, performance clock) and how long it took. */
export interface Tick {
  at: number;
  ms: number;
}

/**
 * The service's evacuation driver, unchanged, with each tick's wall time recorded. A tick is the
 * driver's whole pass (lease, settling running items, starting migrations through
 * os-migrate_volume's path, ending); the timer runs ticks one after another, so they never overlap.
 */
class TimedDriver extends EvacuationDriver {
  readonly ticks: Tick[] = [];

  override tick(): Promise<void> {
    const at = performance.now();
    return super.tick().finally(() => this.ticks.push({ at, ms: performance.now() - at }));
  }
}

export interface EvacuationStack {
  /** `http://127.0.0.1:<port>/v3/demo`. */
  base: string;
  stateDir: string;
  config: AppConfig;
  db: Db;
  /** The API process's evacuation half, for timing a plan without HTTP. */
  evacuationApi: EvacuationApi;
  ticks(): readonly Tick[];
  stop(): Promise<void>;
}

/**
 * The demo configuration with what a 1,000-volume run needs on top: no quota in the way, the
 * migrations leaving a backend at once up to `parallel` (the default 2 would queue the rest in the
 * worker, hiding the evacuation's own caps). The API listens on a free port (not the file's).
 */
function benchConfig(stateDir: string, parallel: number): AppConfig {
  return parseConfig(fs.readFileSync(DEMO_CONF, "utf8"), {
    VMS__DEFAULT__STATE_PATH: stateDir,
    VMS__DEFAULT__QUOTA_VOLUMES: "-1",
    VMS__DEFAULT__QUOTA_GIGABYTES: "-1",
    VMS__DEFAULT__MAX_CONCURRENT_MIGRATIONS: String(parallel),
    VMS__DEFAULT__LOG_LEVEL: "error",
  });
}

export async function startEvacuationStack(stateDir: string, parallel: number): Promise<EvacuationStack> {
  const config = benchConfig(stateDir, parallel);
  // Silent: the service's info lines (one per migration step) would swamp the bench's output.
  const logger = silentLogger();
  const db = await openDatabase(config.databaseConnection);
  await migrateLatest(db);
  const bus = await createBus(config.transportUrl, { logger });
  const runners = new RunnerFactory({ logger });
  const services: RunningService[] = [];
  let server: Server | undefined;
  const stop = async (): Promise<void> => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server?.closeAllConnections();
    for (const s of services.reverse()) {
      await s.stop();
    }
    await bus.close();
    await runners.close();
    await db.destroy();
  };
  try {
    for (const backend of config.backends) {
      services.push(await startVolumeService({ db, bus, config, backend, runners, logger }));
    }
    services.push(await startSchedulerService({ db, bus, config, logger }));
    const driver = new TimedDriver({ db, bus, config, logger });
    driver.start();
    services.push({ stop: () => driver.stop() });
    const app = createApp({ db, bus, config, logger });
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
      s.once("error", reject);
    });
    // As main/index.ts: Node's 5 s idle timeout races a client that polls every 5 s.
    server.keepAliveTimeout = 900_000;
    server.headersTimeout = 901_000;
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    return {
      base: `http://127.0.0.1:${port}/v3/demo`,
      stateDir,
      config,
      db,
      evacuationApi: new EvacuationApi({ db, bus, config, logger }),
      ticks: () => driver.ticks,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
