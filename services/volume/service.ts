import type { AppConfig, BackendConfig } from "../../common/config";
import { volumeTopic } from "../../common/hosts";
import type { Logger } from "../../common/logger";
import { ServiceBinary } from "../../common/states";
import type { Db } from "../../db/connection";
import { type RunnerFactory, runnerSpecFor } from "../../drivers/exec";
import { createDriver } from "../../drivers/registry";
import { NovaClient } from "../compute/nova";
import { CopyEngine } from "../copy/engine";
import type { VolumeCopier } from "../copy/types";
import { DiskDrainWorker } from "../diskDrain/worker";
import { Heartbeat } from "../heartbeat";
import type { Bus } from "../rpc/types";
import { failedInternalDeletes } from "./cleanup";
import { VolumeManager } from "./manager";
import { expireComputeMigrations, leftoverVolumes, recoverMigrations } from "./recovery";
import { snapshotMoveHandlers } from "./snapshotMoveTarget";
import { refreshingStats, StatsCache } from "./statsCache";

export interface VolumeServiceDeps {
  db: Db;
  bus: Bus;
  config: AppConfig;
  backend: BackendConfig;
  runners: RunnerFactory;
  logger: Logger;
  /** @internal Tests wrap the copy engine (to record what it is asked or hold a copy). */
  wrapCopier?: (engine: VolumeCopier) => VolumeCopier;
}

export interface RunningService {
  stop(): Promise<void>;
}

/** One volume worker: driver set up, heartbeat with capabilities, then its queue served. */
export async function startVolumeService(
  deps: VolumeServiceDeps,
): Promise<RunningService & { manager: VolumeManager }> {
  const { backend, config } = deps;
  const logger = deps.logger.child({ service: "cinder-volume", backend: backend.serviceHost });
  // Local when the worker runs on the storage host, SSH to it otherwise ([backend] ssh_*).
  const runnerSpec = runnerSpecFor(backend);
  const runner = deps.runners.get(runnerSpec);
  const driver = createDriver({
    backend,
    runner,
    runnerSpec,
    volumeNameTemplate: config.volumeNameTemplate,
    logger,
  });
  await driver.doSetup();
  const manager = new VolumeManager({
    ...deps,
    driver,
    copier: (deps.wrapCopier ?? ((c) => c))(
      new CopyEngine({
        runners: deps.runners,
        logger,
        parallel: backend.volumeCopyStreams,
        sshCiphers: backend.volumeCopySshCiphers,
      }),
    ),
    nova: config.nova ? new NovaClient(config.nova) : null,
    logger,
  });
  const stats = new StatsCache({
    read: () => driver.getCapabilities(),
    maxAgeSecs: config.backendStatsPollingInterval,
  });
  const heartbeat = new Heartbeat({
    db: deps.db,
    logger,
    service: {
      host: backend.serviceHost,
      binary: ServiceBinary.VOLUME,
      topic: "cinder-volume",
      availabilityZone: backend.availabilityZone,
      clusterName: backend.clusterName,
    },
    intervalSecs: config.reportInterval,
    bus: deps.bus,
    capabilities: () => stats.get(),
  });
  await heartbeat.start();
  // Settle what a previous run of this worker left unfinished before taking new work.
  const recovery = { ...deps, volumeRpc: manager.volumeRpc, logger };
  const resume = await recoverMigrations(recovery);
  for (const id of await leftoverVolumes(recovery)) {
    manager.migrations.track(id, manager.deleteVolume(id));
  }
  // Disk drains (issue 16) are served on the same topic and continued where a previous run left them.
  const drains = new DiskDrainWorker({ db: deps.db, logger, backend, runner });
  const handlers = {
    ...manager.handlers(),
    ...drains.handlers(),
    ...snapshotMoveHandlers({ ...deps, driver }),
  };
  await deps.bus.serve(volumeTopic(backend.serviceHost), refreshingStats(handlers, stats));
  for (const r of resume) {
    if (r.action === "resume-copy") {
      manager.migrations.resumeCopy(r.migration, r.dest);
    } else {
      manager.migrations.resumeDriverMigration(r.migration, r.dest);
    }
  }
  manager.migrations.resumeQueued();
  await drains.start();
  const expiry = setInterval(() => {
    manager.migrations.track("expiry", expireComputeMigrations(recovery));
    manager.migrations.track(
      "cleanup",
      failedInternalDeletes(deps.db, backend.serviceHost).then(async (ids) => {
        for (const id of ids) {
          await manager.deleteVolume(id);
        }
      }),
    );
  }, config.reportInterval * 1000);
  expiry.unref();
  logger.info("volume service started");
  return {
    manager,
    async stop() {
      clearInterval(expiry);
      await heartbeat.stop();
      await drains.stop();
      await manager.stop();
    },
  };
}
