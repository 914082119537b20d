/**
 * The worker's part of a cascade delete (Cinder's `delete_volume(cascade=True)`): the volume's
 * snapshots go first, each one `deleting` already (the API marked them in the same transaction as
 * the volume). The worker does this for every delete, not only for requests that asked for a
 * cascade: a plain delete's compare-and-swap refuses volumes with snapshots, so live snapshots here
 * mean a cascade, perhaps one a restarted worker resumes without the request's flag.
 */
import { InvalidSnapshot } from "../../common/errors";
import { SnapshotStatus } from "../../common/states";
import { listSnapshotsOfVolumes, softDeleteSnapshot, updateSnapshotIf } from "../../db/snapshots";
import type { VolumeRow } from "../../db/volumes";
import type { VolumeManagerDeps } from "./deps";
import { driverSnapshot } from "./driverViews";

/**
 * Deletes the live snapshots of `volume` (data, then row). Throws, before touching any, when one
 * is not `deleting` (Cinder's message), and when a snapshot's data cannot be removed (that
 * snapshot is then `error_deleting`); the caller then leaves the volume `error_deleting`.
 */
export async function deleteSnapshotsOf(deps: VolumeManagerDeps, volume: VolumeRow): Promise<void> {
  const { db, driver } = deps;
  const snapshots = await listSnapshotsOfVolumes(db, [volume.id]);
  const stray = snapshots.find((s) => s.status !== SnapshotStatus.DELETING);
  if (stray) {
    throw new InvalidSnapshot(
      `Snapshot ${stray.id} was found in state ${stray.status} rather than 'deleting' during cascade delete.`,
    );
  }
  for (const s of snapshots) {
    try {
      await driver.deleteSnapshot(driverSnapshot(deps.config.snapshotNameTemplate, s));
    } catch (err) {
      await updateSnapshotIf(
        db,
        s.id,
        { status: SnapshotStatus.ERROR_DELETING },
        { status: SnapshotStatus.DELETING },
      );
      throw err;
    }
    await softDeleteSnapshot(db, s.id);
  }
}
