/**
 * The snapshot actions (cinder/api/contrib/admin_actions.py SnapshotAdminController and
 * snapshot_actions.py): os-reset_status and os-force_delete (admin), os-update_snapshot_status
 * (the owner: Nova reports assisted-snapshot progress with it). Each status change is a
 * compare-and-swap on the row.
 */
import { InvalidSnapshot } from "../../common/errors";
import { SnapshotStatus } from "../../common/states";
import { softDeleteSnapshot, updateSnapshotIf } from "../../db/snapshots";
import { getVolume } from "../../db/volumes";
import { VolumeRpc } from "../rpc/stubs";
import { AdminPolicy, authorize, type Caller } from "./caller";
import { findSnapshot, type VolumeApiOptions } from "./lookup";

/** Which statuses os-update_snapshot_status may move a snapshot to, by its current status. */
const UPDATE_TRANSITIONS: Readonly<Record<string, readonly string[]>> = {
  [SnapshotStatus.CREATING]: [SnapshotStatus.AVAILABLE, SnapshotStatus.ERROR],
  [SnapshotStatus.DELETING]: [SnapshotStatus.ERROR_DELETING],
};

export async function resetSnapshotStatus(
  o: VolumeApiOptions,
  caller: Caller,
  id: string,
  status: SnapshotStatus,
): Promise<void> {
  authorize(caller, AdminPolicy.SNAPSHOT_RESET_STATUS);
  const snapshot = await findSnapshot(o.db, caller, id);
  // Only the status the admin saw may be replaced: a concurrent change wins and this one is a 404.
  await updateSnapshotIf(o.db, id, { status }, { status: snapshot.status });
}

/** Deletes whatever the status (creating, deleting, error_deleting included). */
export async function forceDeleteSnapshot(o: VolumeApiOptions, caller: Caller, id: string): Promise<void> {
  authorize(caller, AdminPolicy.SNAPSHOT_FORCE_DELETE);
  const snapshot = await findSnapshot(o.db, caller, id);
  const row = await updateSnapshotIf(
    o.db,
    id,
    { status: SnapshotStatus.DELETING },
    { status: snapshot.status },
  );
  if (!row) {
    throw new InvalidSnapshot("Snapshot status changed while it was being force-deleted.");
  }
  const volume = await getVolume(o.db, snapshot.volume_id);
  if (!volume?.host) {
    await softDeleteSnapshot(o.db, id);
    return;
  }
  await new VolumeRpc(o.bus).deleteSnapshot(volume.host, { snapshot_id: id });
}

export async function updateSnapshotStatus(
  o: VolumeApiOptions,
  caller: Caller,
  id: string,
  status: SnapshotStatus,
  progress: string | undefined,
): Promise<void> {
  const snapshot = await findSnapshot(o.db, caller, id);
  const allowed = UPDATE_TRANSITIONS[snapshot.status] ?? [];
  if (!allowed.includes(status)) {
    // Cinder's wording (snapshot_actions.py).
    throw new InvalidSnapshot(
      `Provided snapshot status ${status} not allowed for snapshot with status ${snapshot.status}.`,
    );
  }
  const row = await updateSnapshotIf(
    o.db,
    id,
    { status, ...(progress !== undefined ? { progress } : {}) },
    { status: snapshot.status },
  );
  if (!row) {
    throw new InvalidSnapshot(`Snapshot ${id} changed status while it was being updated.`);
  }
}
