import { InvalidInput, InvalidSnapshot, InvalidVolume, SnapshotNotFound } from "../../common/errors";
import { SnapshotStatus, VolumeStatus } from "../../common/states";
import { getSnapshot, type SnapshotRow } from "../../db/snapshots";
import { getVolume, type VolumeRow } from "../../db/volumes";
import type { Caller } from "./caller";
import { findVolume, type VolumeApiOptions } from "./lookup";

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

export interface VolumeSource {
  volume: VolumeRow;
  /** GiB: the requested size, or the source's when none was given. */
  size: number;
  /** The source's volume type, which the clone keeps unless told otherwise. */
  volumeTypeId: string | null;
}

/** Statuses a volume may be cloned from (Cinder clones attached volumes too). */
const CLONEABLE: readonly string[] = [VolumeStatus.AVAILABLE, VolumeStatus.IN_USE];

/**
 * `POST /volumes` with `source_volid` (Cinder's create_cloned_volume path): the source must be
 * visible to the caller (404 otherwise, before any other check), `available` or `in-use`, and the
 * clone at least as large. The scheduler then places the clone on the source's backend.
 */
export async function volumeSource(
  o: VolumeApiOptions,
  caller: Caller,
  sourceVolid: string,
  size: number | null,
): Promise<VolumeSource> {
  const volume = await findVolume(o.db, caller, sourceVolid);
  if (!CLONEABLE.includes(volume.status)) {
    throw new InvalidVolume(
      `Unable to create a volume from an originating source volume when its status is ${volume.status}; it must be one of 'available', 'in-use'.`,
    );
  }
  const want = size ?? volume.size;
  if (want < volume.size) {
    // Cinder's wording, its double space included (create_volume.py _extract_size).
    throw new InvalidInput(
      `Volume size '${want}'GB cannot be smaller than original volume size  ${volume.size}GB. They must be >= original volume size.`,
    );
  }
  return { volume, size: want, volumeTypeId: volume.volume_type_id };
}
