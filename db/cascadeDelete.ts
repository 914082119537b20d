/**
 * What a cascade delete asks of the snapshots table (cinder/db/api.py's snapshot filters of
 * `volume.API.delete`): filters for the volume's compare-and-swap, and marking its snapshots.
 */
import type { Knex } from "knex";

import { SnapshotStatus } from "../common/states";

type Conn = Knex | Knex.Transaction;

/**
 * Cascade delete's filter on the volume row (Cinder's `~volume_has_undeletable_snapshots_filter`):
 * every live snapshot of the volume is `available` or `error`.
 */
export function noUndeletableSnapshots(qb: Knex.QueryBuilder): void {
  qb.whereNotExists(function (this: Knex.QueryBuilder) {
    this.select(1)
      .from("snapshots")
      .whereRaw("snapshots.volume_id = volumes.id")
      .andWhere("snapshots.deleted", false)
      .whereNotIn("snapshots.status", ["available", "error"]);
  });
}

/**
 * Cascade delete by a member (`~volume_has_other_project_snp_filter`): no snapshot of the volume
 * belongs to another project (a volume transferred without its snapshots).
 */
export function noOtherProjectSnapshots(qb: Knex.QueryBuilder): void {
  qb.whereNotExists(function (this: Knex.QueryBuilder) {
    this.select(1)
      .from("snapshots")
      .whereRaw("snapshots.volume_id = volumes.id")
      .andWhere("snapshots.deleted", false)
      .whereRaw("snapshots.project_id <> volumes.project_id");
  });
}

/**
 * Marks the live snapshots of a volume `deleting` (cascade delete), those in `statuses` only when
 * given; the number of snapshots that were not in one of them.
 */
export async function markSnapshotsDeleting(
  db: Conn,
  volumeId: string,
  statuses?: readonly SnapshotStatus[],
): Promise<number> {
  const qb = db("snapshots").where({ volume_id: volumeId, deleted: false });
  if (statuses) {
    qb.whereIn("status", statuses);
  }
  await qb.update({ status: SnapshotStatus.DELETING, updated_at: db.fn.now() });
  const left = (await db("snapshots")
    .where({ volume_id: volumeId, deleted: false })
    .whereNot("status", SnapshotStatus.DELETING)
    .count<{ count: string | number }[]>("* as count")) as { count: string | number }[];
  return Number(left[0]?.count ?? 0);
}
