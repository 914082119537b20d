import type { DriverName } from "../common/config";
import { LvmDriver } from "./lvm";
import { RawFileDriver } from "./rawfile";
import type { DriverDeps, VolumeDriver } from "./types";

type DriverFactory = (deps: DriverDeps) => VolumeDriver;

/** Every driver, registered in one place; `volume_driver` in a backend section picks one. */
export const DRIVERS: Record<DriverName, DriverFactory> = {
  rawfile: (deps) => new RawFileDriver(deps),
  lvm: (deps) => new LvmDriver(deps),
};

export function createDriver(deps: DriverDeps): VolumeDriver {
  return DRIVERS[deps.backend.volumeDriver](deps);
}
