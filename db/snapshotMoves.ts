/**
 * The snapshot rows of a volume that moves with its snapshots (migrate_volumes_with_snapshots):
 * which volumes may move so, the chain in the order it is rebuilt, and the rows following the
 * volume to its new backend.
 */
import type { Knex } from "knex";

import { AttachStatus, SnapshotStatus } from "../common/states";
import type { SnapshotRow } from "./snapshots";
import { noSnapshots } from "./volumes";

type Conn = Knex | Knex.Transaction;

/**
 * A volume row's condition (inside a compare-and-swap on `volumes`) for a move that takes its
 * snapshots along: none of its live snapshots is anything but `available` (one being created or
 * deleted cannot be rebuilt), and a volume that is attached has none (Nova's swap carries no
 * snapshots). Without the option, Cinder's: no snapshots at all.
 */
export function snapshotsMayMove(allowed: boolean): (qb: Knex.QueryBuilder) => void {
  if (!allowed) {
    return noSnapshots;
  }
  return (qb) => {
    qb.whereNotExists(function (this: Knex.QueryBuilder) {
      this.select(1)
        .from("snapshots")
        .whereRaw("snapshots.volume_id = volumes.id")
        .andWhere("snapshots.deleted", false)
        .andWhere((w) =>
          w
            .whereNot("snapshots.status", SnapshotStatus.AVAILABLE)
            .orWhereRaw("volumes.attach_status = ?", [AttachStatus.ATTACHED]),
        );
    });
  };
}

/** The volume's live snapshots, oldest first: the order the chain is rebuilt in. */
export async function snapshotChain(db: Conn, volumeId: string): Promise<SnapshotRow[]> {
  return (await db("snapshots")
    .where({ volume_id: volumeId, deleted: false })
    .orderBy([
      { column: "created_at", order: "asc" },
      { column: "id", order: "asc" },
    ])) as SnapshotRow[];
}

/**
 * The snapshots' rows follow their volume (in the transaction of its row swap): each names the
 * destination's object from now on. Only `available` rows move; returns how many did.
 */
export async function moveSnapshotRows(
  trx: Knex.Transaction,
  moves: readonly { id: string; nameId: string }[],
): Promise<number> {
  let moved = 0;
  for (const m of moves) {
    moved += await trx("snapshots")
      .where({ id: m.id, deleted: false, status: SnapshotStatus.AVAILABLE })
      .update({ name_id: m.nameId, provider_location: null, updated_at: trx.fn.now() });
  }
  return moved;
}
