import type { AppConfig, BackendConfig } from "../../common/config";
import type { Logger } from "../../common/logger";
import type { Db } from "../../db/connection";
import type { VolumeDriver } from "../../drivers/types";
import type { ComputeClient } from "../compute/nova";
import type { VolumeCopier } from "../copy/types";
import type { Bus } from "../rpc/types";

/** What a backend's volume worker is given; the manager and the migration runner share it. */
export interface VolumeManagerDeps {
  db: Db;
  bus: Bus;
  config: AppConfig;
  backend: BackendConfig;
  driver: VolumeDriver;
  copier: VolumeCopier;
  /** Nova's swap API, for attached volumes; null when [nova] is not configured. */
  nova: ComputeClient | null;
  logger: Logger;
}
