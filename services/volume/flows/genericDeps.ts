import type { AppConfig, BackendConfig } from "../../../common/config";
import type { Logger } from "../../../common/logger";
import type { Db } from "../../../db/connection";
import type { VolumeDriver } from "../../../drivers/types";
import type { VolumeCopier } from "../../copy/types";
import type { VolumeRpc } from "../../rpc/stubs";

/** What the generic flow and its copy step are given. */
export interface GenericFlowDeps {
  db: Db;
  config: AppConfig;
  backend: BackendConfig;
  driver: VolumeDriver;
  copier: VolumeCopier;
  volumeRpc: VolumeRpc;
  logger: Logger;
  signal: AbortSignal;
}
