/**
 * The driver's follow-up of running items: each one is settled from its migration's row
 * (success, error, or still starting long after its start), and, while the evacuation is
 * cancelling, its migration is asked to stop as the migrations API's cancel would.
 */
import { EvacuationItemState, EvacuationStatus, MigrationFlow, MigrationState } from "../../common/states";
import { type EvacuationRow, updateEvacuationItemIf } from "../../db/evacuations";
import { updateMigrationIf } from "../../db/migrationRecords";
import type { DriverContext } from "./driverContext";
import type { ItemMigration, RunningItem } from "./driverQueries";

/** Migration states a cancel may interrupt (as the migrations API's cancel). */
const CANCELLABLE: readonly MigrationState[] = [
  MigrationState.STARTING,
  MigrationState.QUEUED,
  MigrationState.MIGRATING,
];

/**
 * Settles a running item whose migration ended: `success` → succeeded (with the bytes it copied);
 * `error` → cancelled (the evacuation is cancelling or the migration was cancelled), pending again
 * while attempts ≤ max_retries (the reason kept), else failed with the migration's error. Each by
 * compare-and-swap on the item, so a second driver doing the same changes nothing. Returns true
 * while the item still runs.
 */
export async function settle(ctx: DriverContext, e: EvacuationRow, item: RunningItem): Promise<boolean> {
  const { db, logger } = ctx;
  const m = item.migration;
  const expected = { state: EvacuationItemState.RUNNING, migration_id: item.migration_id };
  if (m?.state === MigrationState.SUCCESS) {
    ctx.recast.delete(m.id);
    const done = await updateEvacuationItemIf(
      db,
      item.id,
      { state: EvacuationItemState.SUCCEEDED, bytes: m.bytes_done, reason: null, finished_at: db.fn.now() },
      expected,
    );
    if (done) {
      logger.info(
        { evacuation_id: e.id, volume_id: item.volume_id, migration_id: m.id, to: item.to_host },
        "evacuation item succeeded",
      );
    }
    return false;
  }
  if (m === null || m.state === MigrationState.ERROR) {
    if (m) {
      ctx.recast.delete(m.id);
    }
    const reason = m === null ? "its migration record is gone" : (m.error ?? "the migration failed");
    let state: EvacuationItemState;
    if (e.status === EvacuationStatus.CANCELLING || m?.cancel_requested_at) {
      state = EvacuationItemState.CANCELLED;
    } else {
      state = item.attempts <= e.max_retries ? EvacuationItemState.PENDING : EvacuationItemState.FAILED;
    }
    const done = await updateEvacuationItemIf(
      db,
      item.id,
      { state, reason, finished_at: state === EvacuationItemState.PENDING ? null : db.fn.now() },
      expected,
    );
    if (done) {
      logger.warn(
        {
          evacuation_id: e.id,
          volume_id: item.volume_id,
          migration_id: m?.id,
          attempts: item.attempts,
          reason,
        },
        `evacuation item ${state === EvacuationItemState.PENDING ? "will be retried" : state}`,
      );
    }
    return false;
  }
  if (m.stuck) {
    await castAgain(ctx, e, item, m);
  }
  return true;
}

/**
 * A migration still `starting` long after its transaction: the process that started it may have
 * died between its commit and its cast to the scheduler (or the scheduler between recording the
 * destination and its cast to the worker). A cast again is harmless if the first one arrives
 * after all: the scheduler acts only on a `starting` migration, and the worker begins it by
 * compare-and-swap on its state (`starting`/`queued` → `migrating`, volume `starting` →
 * `migrating`), so it begins once; the other messages find it begun and are ignored.
 */
async function castAgain(
  ctx: DriverContext,
  e: EvacuationRow,
  item: RunningItem,
  m: ItemMigration,
): Promise<void> {
  const last = ctx.recast.get(m.id) ?? 0;
  if (Date.now() - last < ctx.stuckStartMs) {
    return;
  }
  ctx.recast.set(m.id, Date.now());
  ctx.logger.warn(
    { evacuation_id: e.id, volume_id: item.volume_id, migration_id: m.id },
    "migration still starting; casting it to the scheduler again",
  );
  await ctx.schedulerRpc.migrateVolume({
    volume_id: item.volume_id,
    migration_id: m.id,
    backend: m.requested_dest,
    force_host_copy: m.force_host_copy,
  });
}

/**
 * Asks a running item's migration to stop, as the migrations API's cancel does (the source worker
 * polls the row): not once it is completing, nor a Nova swap; those finish and settle as they end.
 */
export async function askCancel(ctx: DriverContext, e: EvacuationRow, item: RunningItem): Promise<void> {
  const m = item.migration;
  if (!m || m.cancel_requested_at || !CANCELLABLE.includes(m.state) || m.flow === MigrationFlow.COMPUTE) {
    return;
  }
  const asked = await updateMigrationIf(
    ctx.db,
    m.id,
    { cancel_requested_at: ctx.db.raw("coalesce(cancel_requested_at, now())") },
    { state: CANCELLABLE, flow: [null, MigrationFlow.GENERIC, MigrationFlow.DRIVER] },
  );
  if (asked) {
    ctx.logger.info(
      { evacuation_id: e.id, volume_id: item.volume_id, migration_id: m.id },
      "migration cancel requested by the evacuation",
    );
  }
}
