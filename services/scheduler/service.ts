import type { AppConfig } from "../../common/config";
import { SCHEDULER_TOPIC } from "../../common/hosts";
import type { Logger } from "../../common/logger";
import { ServiceBinary } from "../../common/states";
import type { Db } from "../../db/connection";
import { Heartbeat } from "../heartbeat";
import type { Bus } from "../rpc/types";
import type { RunningService } from "../volume/service";
import { SchedulerManager } from "./manager";
import { startMessageReaper } from "./messageReaper";

export async function startSchedulerService(deps: {
  db: Db;
  bus: Bus;
  config: AppConfig;
  logger: Logger;
}): Promise<RunningService> {
  const logger = deps.logger.child({ service: "cinder-scheduler" });
  const manager = new SchedulerManager({ ...deps, logger });
  const heartbeat = new Heartbeat({
    db: deps.db,
    logger,
    service: {
      host: deps.config.host,
      binary: ServiceBinary.SCHEDULER,
      topic: SCHEDULER_TOPIC,
      availabilityZone: deps.config.storageAvailabilityZone,
    },
    intervalSecs: deps.config.reportInterval,
    bus: deps.bus,
  });
  await heartbeat.start();
  await deps.bus.serve(SCHEDULER_TOPIC, manager.handlers());
  const reaper = startMessageReaper({ ...deps, logger });
  logger.info("scheduler started");
  return {
    stop: () => {
      reaper.stop();
      return heartbeat.stop();
    },
  };
}
