/** What the evacuation driver's steps (driverSettle.ts, driverStart.ts) share with the driver. */
import type { AppConfig } from "../../common/config";
import type { Logger } from "../../common/logger";
import type { Db } from "../../db/connection";
import type { SchedulerRpc } from "../rpc/stubs";
import type { Bus } from "../rpc/types";

export interface DriverContext {
  db: Db;
  bus: Bus;
  config: AppConfig;
  logger: Logger;
  /** This process, as `evacuations.driver` names the lease holder. */
  id: string;
  leaseMs: number;
  /** A migration still `starting` this long is cast to the scheduler again. */
  stuckStartMs: number;
  /** A failed item waits this long before its next attempt. */
  retryDelayMs: number;
  schedulerRpc: SchedulerRpc;
  /** When a stuck migration was last cast again, by migration id. */
  recast: Map<string, number>;
  /** True once the driver is stopping: start nothing more. */
  stopping(): boolean;
}
