/**
 * Cinder's create_cloned_volume, built from the driver's snapshot operations: a temporary
 * snapshot of the source, a volume created from it, the snapshot removed. This is what Cinder's
 * LVM driver does itself (a `clone-snap-<id>` LV, a copy, the LV removed), it is a sparse copy on
 * the raw-file driver, and a live source (in-use) is read at one point in time rather than while
 * it changes. The driver interface has no clone method of its own yet.
 */
import type { DriverSnapshot, DriverVolume, VolumeDriver, VolumeModelUpdate } from "../../drivers/types";

/** The temporary snapshot's backend name: one per clone, so clones of one source run side by side. */
export function cloneSnapshotName(cloneId: string): string {
  return `clone-snap-${cloneId}`;
}

export async function cloneVolume(
  driver: VolumeDriver,
  volume: DriverVolume,
  source: DriverVolume,
): Promise<VolumeModelUpdate> {
  const snapshot: DriverSnapshot = {
    id: volume.id,
    volumeId: source.id,
    name: cloneSnapshotName(volume.id),
    volumeSize: source.size,
  };
  await driver.createSnapshot(snapshot, source);
  try {
    return await driver.createVolumeFromSnapshot(volume, snapshot);
  } finally {
    // Removed whether the copy worked or not; deleting is idempotent in every driver.
    await driver.deleteSnapshot(snapshot);
  }
}
