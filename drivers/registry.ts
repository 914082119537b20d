import type { DriverName } from "../services/common/config";
import { DriverError } from "../services/common/errors";
import { RawFileDriver } from "./rawfile";
import type { DriverDeps, VolumeDriver } from "./types";

type DriverFactory = (deps: DriverDeps) => VolumeDriver;

/** Every driver, registered in one place; `volume_driver` in a backend section picks one. */
export const DRIVERS: Record<DriverName, DriverFactory | null> = {
  rawfile: (deps) => new RawFileDriver(deps),
  lvm: null,
};

export function createDriver(deps: DriverDeps): VolumeDriver {
  const factory = DRIVERS[deps.backend.volumeDriver];
  if (!factory) {
    throw new DriverError(
      `[${deps.backend.section}] volume_driver = ${deps.backend.volumeDriver} is not available yet`,
    );
  }
  return factory(deps);
}
