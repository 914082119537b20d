import { coerceError, VolumeMigrationFailed } from "../../../common/errors";
import { AttachStatus, MigrationState, SnapshotStatus } from "../../../common/states";
import { getMigration, updateMigrationIf } from "../../../db/migrationRecords";
import { moveSnapshotRows, snapshotChain } from "../../../db/snapshotMoves";
import type { SnapshotRow } from "../../../db/snapshots";
import { getVolume, type VolumeRow } from "../../../db/volumes";
import { SnapshotMoveRpc } from "../../rpc/stubs";
import type { Bus } from "../../rpc/types";
import { driverSnapshot } from "../driverViews";
import { completeMigration, deleteRetiredSource } from "../swapRows";
import type { GenericFlowDeps } from "./genericDeps";
import { type MovedSnapshot, movedSnapshotNameId, rebuildChain } from "./snapshotChain";
import { createTempVolume, makeTempVolumeReady, rollBackMigration, type TempVolumeDeps } from "./temp";

export interface SnapshotFlowDeps extends GenericFlowDeps {
  bus: Bus;
}

/**
 * A volume that moves together with its snapshots ([DEFAULT] migrate_volumes_with_snapshots): the
 * generic flow's temp volume on the destination, the snapshot chain rebuilt in it oldest first
 * (snapshotChain.ts), every snapshot and the volume verified by sha256 against the source, then
 * one transaction swaps the volume rows (as the generic flow does) and points the snapshot rows at
 * the destination's snapshots (name_id). Only then are the source's snapshots, newest first, and
 * its volume deleted. Until the swap, any failure removes every snapshot made on the destination
 * and the temp volume, and leaves the source as it was. A restarted worker does not resume such a
 * move: recovery rolls it back (removeMovedSnapshots).
 */
export async function runSnapshotMigration(deps: SnapshotFlowDeps, migrationId: string): Promise<void> {
  const { db, logger } = deps;
  const migration = await getMigration(db, migrationId);
  const source = migration ? await getVolume(db, migration.volume_id) : undefined;
  if (!migration || !source || !migration.dest_host) {
    throw new Error(`migration ${migrationId} has no volume or destination`);
  }
  const log = logger.child({ migration_id: migrationId, volume_id: source.id, dest: migration.dest_host });
  const snapshotRpc = new SnapshotMoveRpc(deps.bus);
  const made: MovedSnapshot[] = [];
  let temp: VolumeRow | undefined;
  let chain: SnapshotRow[] = [];
  let retired: VolumeRow;
  try {
    chain = await snapshotChain(db, source.id);
    assertMovable(source, chain);
    temp = await createTempVolume(deps, migration, source, migration.dest_host);
    await makeTempVolumeReady(deps, temp);
    log.info(
      { temp_volume_id: temp.id, snapshots: chain.length },
      "temp volume ready; rebuilding the snapshot chain",
    );
    const sums = await rebuildChain(deps, { migrationId, source, temp, chain, snapshotRpc, made });
    await updateMigrationIf(
      db,
      migrationId,
      { source_checksum: sums.source, dest_checksum: sums.dest, eta_seconds: 0 },
      { state: MigrationState.MIGRATING },
    );
    const named = await deps.volumeRpc.updateMigratedVolume(temp.host!, {
      volume_id: source.id,
      new_volume_id: temp.id,
      original_status: source.previous_status ?? source.status,
    });
    retired = await completeMigration(
      db,
      { migrationId, sourceId: source.id, tempId: temp.id },
      named,
      async (trx) => {
        const moved = await moveSnapshotRows(trx, made);
        if (moved !== chain.length) {
          throw new VolumeMigrationFailed(`${chain.length - moved} snapshot(s) changed during the move`);
        }
      },
    );
  } catch (e) {
    const err = coerceError(e);
    log.error({ err }, "migration with snapshots failed before completion; rolling back");
    await removeMadeSnapshots(deps, snapshotRpc, temp?.host ?? null, made);
    await rollBackMigration(deps, { migrationId, sourceId: source.id, temp, err });
    throw err;
  }
  log.info(
    { snapshots: chain.length },
    "migration with snapshots complete; deleting the old snapshots and data",
  );
  await deleteOldSnapshots(deps, chain);
  await deleteRetiredSource(deps, retired);
}

/** What the API's compare-and-swap checked, once more now that the move begins. */
function assertMovable(source: VolumeRow, chain: SnapshotRow[]): void {
  if (source.attach_status === AttachStatus.ATTACHED) {
    throw new VolumeMigrationFailed("an attached volume cannot move with its snapshots");
  }
  const busy = chain.find((s) => s.status !== SnapshotStatus.AVAILABLE);
  if (busy) {
    throw new VolumeMigrationFailed(`snapshot ${busy.id} is ${busy.status}, not available`);
  }
}

/** The source's snapshots, newest first (a thick LV's origin goes after them, deleteRetiredSource). */
async function deleteOldSnapshots(deps: SnapshotFlowDeps, chain: SnapshotRow[]): Promise<void> {
  for (const s of [...chain].reverse()) {
    try {
      await deps.driver.deleteSnapshot(driverSnapshot(deps.config.snapshotNameTemplate, s));
    } catch (e) {
      deps.logger.error(
        { err: coerceError(e), snapshot_id: s.id },
        "could not delete a moved snapshot's old data",
      );
    }
  }
}

async function removeMadeSnapshots(
  deps: Pick<TempVolumeDeps, "logger">,
  rpc: SnapshotMoveRpc,
  host: string | null,
  made: readonly MovedSnapshot[],
): Promise<void> {
  if (host === null) {
    return;
  }
  for (const m of [...made].reverse()) {
    try {
      await rpc.deleteMigrationSnapshot(host, { snapshot_id: m.id, name_id: m.nameId });
    } catch (e) {
      deps.logger.error(
        { err: coerceError(e), snapshot_id: m.id },
        "could not remove a snapshot made on the destination",
      );
    }
  }
}

/**
 * For recovery: the snapshots an interrupted move may have made on `destHost` (their names follow
 * from the migration and the snapshots, movedSnapshotNameId), removed before its temp volume.
 */
export async function removeMovedSnapshots(
  deps: Pick<TempVolumeDeps, "db" | "logger"> & { bus: Bus },
  m: { id: string; volume_id: string },
  destHost: string,
): Promise<void> {
  const chain = await snapshotChain(deps.db, m.volume_id);
  const made = chain.map((s) => ({ id: s.id, nameId: movedSnapshotNameId(m.id, s.id) }));
  await removeMadeSnapshots(deps, new SnapshotMoveRpc(deps.bus), destHost, made);
}
