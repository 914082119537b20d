/**
 * DELETE /volumes/{id} and os-force_delete (cinder/volume/api.py `delete`). Both are one
 * compare-and-swap to `deleting` followed by a cast to the volume's service; force only drops the
 * status condition, never the others (a migrating or attached volume stays; one with snapshots
 * too, unless `cascade` takes them along: forced, whatever their status).
 */
import type { Knex } from "knex";

import { InvalidVolume } from "../../common/errors";
import { IDLE_MIGRATION_STATUSES, SnapshotStatus, VolumeStatus } from "../../common/states";
import {
  markSnapshotsDeleting,
  noOtherProjectSnapshots,
  noUndeletableSnapshots,
} from "../../db/cascadeDelete";
import { noSnapshots, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { VolumeRpc } from "../rpc/stubs";
import type { AdminPolicy, Caller } from "./caller";
import { authorize } from "./caller";
import type { VolumeApiOptions } from "./lookup";

const DELETABLE_STATUSES: VolumeStatus[] = [
  VolumeStatus.AVAILABLE,
  VolumeStatus.ERROR,
  VolumeStatus.ERROR_RESTORING,
  VolumeStatus.ERROR_EXTENDING,
  VolumeStatus.ERROR_MANAGING,
];

/** Snapshots a cascade delete (not forced) takes along. */
const CASCADE_SNAPSHOT_STATUSES: SnapshotStatus[] = [
  SnapshotStatus.AVAILABLE,
  SnapshotStatus.ERROR,
  SnapshotStatus.DELETING,
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

/** What DELETE /volumes/{id} was asked: `force` names the policy that allows it. */
export interface DeleteOptions {
  /** os-force_delete (volume_admin_actions:force_delete) or `?force=true` at 3.23+ (volume:force_delete). */
  force?: AdminPolicy;
  /** `?cascade=true`: the volume's snapshots are deleted first. */
  cascade?: boolean;
}

/** The snapshot filters of the delete compare-and-swap (cinder/volume/api.py `delete`). */
function snapshotFilters(caller: Caller, d: DeleteOptions): (qb: Knex.QueryBuilder) => void {
  return (qb) => {
    if (!d.cascade) {
      noSnapshots(qb);
    } else if (!d.force) {
      noUndeletableSnapshots(qb);
      if (!caller.isAdmin) {
        noOtherProjectSnapshots(qb);
      }
    }
    // A force delete of a volume stuck in `deleting` casts the delete again, as in Cinder.
    qb.whereNot("volumes.attach_status", "attached");
  };
}

/**
 * A volume no scheduler placed (no host) is removed at once whatever its status, as in Cinder;
 * otherwise one compare-and-swap to `deleting` and a cast to its volume service. A cascade marks
 * the snapshots `deleting` in the same transaction (all of them when forced, else those
 * `available` or `error`, which the filter made all); where Cinder then leaves the volume
 * `error_deleting` with "Failed to update snapshot.", the transaction rolls back instead.
 */
export async function deleteVolume(
  o: VolumeApiOptions,
  caller: Caller,
  volume: VolumeRow,
  d: DeleteOptions = {},
): Promise<void> {
  const force = d.force !== undefined;
  if (d.force) {
    authorize(caller, d.force);
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
  const row = await o.db.transaction(async (trx) => {
    const updated = await updateVolumeIf(
      trx,
      id,
      { status: VolumeStatus.DELETING },
      {
        ...(force ? {} : { status: DELETABLE_STATUSES }),
        migration_status: IDLE_MIGRATION_STATUSES,
        migration_target_of: null,
        consistencygroup_id: null,
        group_id: null,
      },
      snapshotFilters(caller, d),
    );
    if (updated && d.cascade) {
      const left = await markSnapshotsDeleting(trx, id, force ? undefined : CASCADE_SNAPSHOT_STATUSES);
      if (left > 0) {
        throw new InvalidVolume("Failed to update snapshot.");
      }
    }
    return updated;
  });
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
