import type { AppConfig } from "../../common/config";
import type { Logger } from "../../common/logger";
import type { Db } from "../../db/connection";
import type { Bus } from "../rpc/types";

/** What the scheduler's manager and its retype half are given (one options object, passed down). */
export interface SchedulerDeps {
  db: Db;
  bus: Bus;
  config: AppConfig;
  logger: Logger;
}
