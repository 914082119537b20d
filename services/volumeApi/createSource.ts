import { InvalidInput, InvalidSnapshot, SnapshotNotFound } from "../../common/errors";
import { SnapshotStatus } from "../../common/states";
import { getSnapshot, type SnapshotRow } from "../../db/snapshots";
import { getVolume } from "../../db/volumes";
import type { Caller } from "./caller";
import type { VolumeApiOptions } from "./lookup";

export interface SnapshotSource {
  snapshot: SnapshotRow;
  /** GiB: the requested size, or the snapshot's when none was given. */
  size: number;
  /** The snapshot's volume type, which a volume created from it keeps unless told otherwise. */
  volumeTypeId: string | null;
}

/**
 * `POST /volumes` with `snapshot_id` (cinder/volume/flows/api/create_volume.py checks): the
 * snapshot must be visible to the caller and `available`, and the volume at least as large.
 */
export async function snapshotSource(
  o: VolumeApiOptions,
  caller: Caller,
  snapshotId: string,
  size: number | null,
): Promise<SnapshotSource> {
  const snapshot = await getSnapshot(o.db, snapshotId);
  if (!snapshot || (!caller.isAdmin && snapshot.project_id !== caller.projectId)) {
    throw new SnapshotNotFound(snapshotId);
  }
  if (snapshot.status !== SnapshotStatus.AVAILABLE) {
    throw new InvalidSnapshot("Originating snapshot status must be one of 'available' values");
  }
  const want = size ?? snapshot.volume_size;
  if (want < snapshot.volume_size) {
    throw new InvalidInput(
      `Volume size '${want}'GB cannot be smaller than the snapshot size ${snapshot.volume_size}GB. They must be >= original snapshot size.`,
    );
  }
  const source = await getVolume(o.db, snapshot.volume_id);
  return { snapshot, size: want, volumeTypeId: source?.volume_type_id ?? null };
}
