/**
 * Process entry point: `vms <all|api|scheduler|volume> --config FILE [--backend NAME]…`.
 * `all` runs api, scheduler and every enabled backend's worker in one process (the embedded
 * default); the other modes are the distributed processes of docker-compose.yml.
 */
import type { Server } from "node:http";
import { parseArgs } from "node:util";

import { createApp } from "../api/app";
import { type AppConfig, loadConfigFile } from "../common/config";
import { coerceError, ConfigError } from "../common/errors";
import { createLogger, type Logger } from "../common/logger";
import { type Db, migrateLatest, openDatabase } from "../db/connection";
import { RunnerFactory } from "../drivers/exec";
import { EvacuationDriver } from "../services/evacuation/driver";
import { createBus } from "../services/rpc";
import type { Bus } from "../services/rpc/types";
import { startSchedulerService } from "../services/scheduler/service";
import { type RunningService, startVolumeService } from "../services/volume/service";

const MODES = ["all", "api", "scheduler", "volume"] as const;
type Mode = (typeof MODES)[number];

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      config: { type: "string", default: process.env["VMS_CONFIG"] ?? "/etc/cinder/cinder.conf" },
      backend: { type: "string", multiple: true },
    },
  });
  const mode = (positionals[0] ?? "all") as Mode;
  if (!MODES.includes(mode)) {
    throw new ConfigError(`unknown mode "${mode}"; use one of ${MODES.join(", ")}`);
  }
  const config = loadConfigFile(values.config!);
  const logger = createLogger({ name: `vms-${mode}`, level: config.logLevel });
  const backends = selectBackends(config, mode, values.backend);

  const db = await openDatabase(config.databaseConnection);
  await migrateLatest(db);
  const bus = await createBus(config.transportUrl, { logger });
  const runners = new RunnerFactory({ logger });
  const services: RunningService[] = [];
  let server: Server | undefined;
  // Ends the API's long-lived responses (event streams), which server.close() would wait for.
  const stopping = new AbortController();

  const shutdown = async (signal: string): Promise<void> => {
    logger.info({ signal }, "shutting down");
    stopping.abort();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    for (const s of services.reverse()) {
      await s.stop();
    }
    await bus.close();
    await runners.close();
    await db.destroy();
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void shutdown(signal));
  }

  for (const backend of backends) {
    services.push(await startVolumeService({ db, bus, config, backend, runners, logger }));
  }
  if (mode === "all" || mode === "scheduler") {
    services.push(await startSchedulerService({ db, bus, config, logger }));
    // Evacuations are driven where the scheduler runs; stopped first, it gives its leases up.
    const evacuations = new EvacuationDriver({ db, bus, config, logger });
    evacuations.start();
    services.push({ stop: () => evacuations.stop() });
  }
  if (mode === "all" || mode === "api") {
    server = await listen({ db, bus, config, logger, signal: stopping.signal });
  }
}

function selectBackends(config: AppConfig, mode: Mode, wanted: string[] | undefined): AppConfig["backends"] {
  if (mode !== "all" && mode !== "volume") {
    return [];
  }
  if (!wanted || wanted.length === 0) {
    return config.backends;
  }
  return wanted.map((name) => {
    const b = config.backends.find((x) => x.section === name);
    if (!b) {
      throw new ConfigError(`--backend ${name} is not in [DEFAULT] enabled_backends`);
    }
    return b;
  });
}

async function listen(deps: {
  db: Db;
  bus: Bus;
  config: AppConfig;
  logger: Logger;
  signal: AbortSignal;
}): Promise<Server> {
  const { config } = deps;
  const app = createApp(deps);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.listenPort, config.listenHost, () => resolve(s));
    s.once("error", reject);
  });
  // Cinder's WSGI server keeps idle client connections for client_socket_timeout (900 s); Node's
  // default of 5 s makes clients that pause between calls hit "connection closed" on reuse.
  server.keepAliveTimeout = 900_000;
  server.headersTimeout = 901_000;
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.listenPort;
  const endpoint = `http://${config.listenHost}:${port}/v3`;
  deps.logger.info({ endpoint }, "API listening");
  process.stdout.write(
    [
      `Volume migration service listening on ${endpoint}`,
      "Point the clients at it (noauth: the token is <user>:<project>, admins are noauth_admin_users):",
      `  cinder --os-auth-type noauth --os-endpoint ${endpoint} --os-user-id admin --os-project-id demo get-pools`,
      `  openstack --os-auth-type none --os-endpoint ${endpoint}/demo volume list`,
      `The dashboard: http://${config.listenHost}:${port}/dashboard/ (noauth: sign in as admin, project demo)`,
      "The vms commands (npx vms in this checkout) read the same settings from the environment:",
      `  export OS_AUTH_TYPE=noauth OS_ENDPOINT=${endpoint} OS_USER_ID=admin OS_PROJECT_ID=demo`,
      "  vms migrate <id> <host@backend#pool> --wait; vms migrations list; vms evacuate <host@backend> --dry-run",
      "",
    ].join("\n"),
  );
  return server;
}

main().catch((e: unknown) => {
  const err = coerceError(e);
  process.stderr.write(`vms: ${err instanceof ConfigError ? err.message : (err.stack ?? err.message)}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
