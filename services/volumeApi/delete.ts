/**
 * DELETE /volumes/{id} and os-force_delete (cinder/volume/api.py `delete`). Both are one
 * compare-and-swap to `deleting` followed by a cast to the volume's service; force only drops the
 * status condition, never the others (a migrating, attached or snapshotted volume stays).
 */
import { InvalidVolume } from "../../common/errors";
import { IDLE_MIGRATION_STATUSES, VolumeStatus } from "../../common/states";
import { noSnapshots, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { VolumeRpc } from "../rpc/stubs";
import { AdminPolicy, authorize, type Caller } from "./caller";
import type { VolumeApiOptions } from "./lookup";

const DELETABLE_STATUSES: VolumeStatus[] = [
  VolumeStatus.AVAILABLE,
  VolumeStatus.ERROR,
  VolumeStatus.ERROR_RESTORING,
  VolumeStatus.ERROR_EXTENDING,
  VolumeStatus.ERROR_MANAGING,
];

/**
 * Cinder's message when the delete compare-and-swap fails, whatever the cause. Its status part is
 * `utils.build_or_str(expected status, 'status must be %s and')`, empty for a force delete, which
 * leaves Cinder's double space ("Volume  must not be…").
 */
export function deleteRefused(force: boolean): InvalidVolume {
  const status = force ? "" : `status must be ${DELETABLE_STATUSES.join(" or ")} and`;
  return new InvalidVolume(
    `Volume ${status} must not be migrating, attached, belong to a group, have snapshots, awaiting a ` +
      "transfer, or be disassociated from snapshots after volume transfer.",
  );
}

/**
 * A volume no scheduler placed (no host) is removed at once whatever its status, as in Cinder;
 * otherwise one compare-and-swap to `deleting` and a cast to its volume service.
 */
export async function deleteVolume(
  o: VolumeApiOptions,
  caller: Caller,
  volume: VolumeRow,
  force: boolean,
): Promise<void> {
  if (force) {
    authorize(caller, AdminPolicy.FORCE_DELETE);
  }
  const id = volume.id;
  if (!volume.host) {
    const gone = await updateVolumeIf(
      o.db,
      id,
      { status: VolumeStatus.DELETED, deleted: true, deleted_at: new Date() },
      { host: null },
    );
    if (gone) {
      return;
    }
  }
  const row = await updateVolumeIf(
    o.db,
    id,
    { status: VolumeStatus.DELETING },
    {
      ...(force ? {} : { status: DELETABLE_STATUSES }),
      migration_status: IDLE_MIGRATION_STATUSES,
      migration_target_of: null,
      consistencygroup_id: null,
      group_id: null,
    },
    (qb) => {
      noSnapshots(qb);
      // A force delete of a volume stuck in `deleting` casts the delete again, as in Cinder.
      qb.whereNot("volumes.attach_status", "attached");
    },
  );
  if (!row) {
    throw deleteRefused(force);
  }
  try {
    await new VolumeRpc(o.bus).deleteVolume(row.host!, { volume_id: id });
  } catch (err) {
    await updateVolumeIf(
      o.db,
      id,
      { status: VolumeStatus.ERROR_DELETING },
      { status: VolumeStatus.DELETING },
    );
    throw err;
  }
}
