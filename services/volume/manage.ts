/**
 * Adopting existing backend objects (Cinder's manage_existing, get_manageable_volumes), the
 * worker's half: which objects it could adopt, the size of one, and the adoption itself, which
 * gives the object the volume's backend name and turns `managing` into `available` (or
 * `error_managing`).
 */
import { coerceError, DriverError } from "../../common/errors";
import { VolumeStatus } from "../../common/states";
import { listSnapshotsOfVolumes } from "../../db/snapshots";
import { backendName, getVolume, updateVolumeIf, volumesOnBackend } from "../../db/volumes";
import type { ManageableVolume } from "../rpc/methods";
import type { VolumeManagerDeps } from "./deps";
import { driverVolume } from "./driverViews";

const GiB = 1024 ** 3;

/** Whole GiB, rounded up; an empty object still makes a 1 GiB volume. */
export function sizeGb(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / GiB));
}

/** Names this backend's rows already use: volumes (by name_id or id) and their snapshots. */
async function managedNames(
  deps: VolumeManagerDeps,
): Promise<{ volumes: Map<string, string>; snapshots: Set<string> }> {
  const volumes = await volumesOnBackend(deps.db, deps.backend.serviceHost);
  const byName = new Map(volumes.map((v) => [backendName(deps.config.volumeNameTemplate, v), v.id]));
  const snaps = await listSnapshotsOfVolumes(
    deps.db,
    volumes.map((v) => v.id),
  );
  return {
    volumes: byName,
    snapshots: new Set(snaps.map((s) => deps.config.snapshotNameTemplate.replace("%s", s.name_id ?? s.id))),
  };
}

export async function manageableVolumes(deps: VolumeManagerDeps): Promise<ManageableVolume[]> {
  if (!deps.driver.listBackendObjects) {
    return [];
  }
  const objects = await deps.driver.listBackendObjects();
  const { volumes, snapshots } = await managedNames(deps);
  return objects
    .map((o) => {
      const cinderId = volumes.get(o.name) ?? null;
      const reason = cinderId ? "already managed" : snapshots.has(o.name) ? "snapshot" : null;
      return {
        reference: { "source-name": o.name },
        size: sizeGb(o.sizeBytes),
        safe_to_manage: reason === null,
        reason_not_safe: reason,
        cinder_id: cinderId,
        extra_info: null,
      };
    })
    .sort((a, b) => a.reference["source-name"].localeCompare(b.reference["source-name"]));
}

/** The size (GiB) the adopted volume will have, or why the object cannot be adopted. */
export async function manageExistingGetSize(
  deps: VolumeManagerDeps,
  sourceName: string,
): Promise<{ size: number } | { error: string }> {
  if (!deps.driver.backendObjectSize || !deps.driver.manageExisting) {
    return { error: "the driver of this backend cannot manage existing volumes" };
  }
  const { volumes, snapshots } = await managedNames(deps);
  const managed = volumes.get(sourceName);
  if (managed) {
    return { error: `already managed by volume ${managed}` };
  }
  if (snapshots.has(sourceName)) {
    return { error: "it is a snapshot" };
  }
  try {
    return { size: sizeGb(await deps.driver.backendObjectSize(sourceName)) };
  } catch (err) {
    if (err instanceof DriverError) {
      return { error: err.message };
    }
    throw err;
  }
}

export async function manageExisting(
  deps: VolumeManagerDeps,
  volumeId: string,
  sourceName: string,
): Promise<void> {
  const { db, driver, logger } = deps;
  const volume = await getVolume(db, volumeId);
  if (!volume || volume.status !== VolumeStatus.MANAGING || !driver.manageExisting) {
    logger.info({ volume_id: volumeId }, "manage_existing: volume is not being managed here");
    return;
  }
  try {
    const update = await driver.manageExisting(
      driverVolume(deps.config.volumeNameTemplate, volume),
      sourceName,
    );
    await updateVolumeIf(
      db,
      volumeId,
      { ...update, status: VolumeStatus.AVAILABLE },
      { status: VolumeStatus.MANAGING },
    );
  } catch (e) {
    logger.error(
      { err: coerceError(e), volume_id: volumeId, source_name: sourceName },
      "manage_existing failed",
    );
    await updateVolumeIf(
      db,
      volumeId,
      { status: VolumeStatus.ERROR_MANAGING },
      { status: VolumeStatus.MANAGING },
    );
  }
}
