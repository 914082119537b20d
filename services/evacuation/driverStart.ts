/**
 * The driver's starts: pending items in their order while every cap has room, each through
 * os-migrate_volume's own path (migrateVolume), with the item marked `running` with its
 * migration's id inside that path's transaction.
 */
import { coerceError } from "../../common/errors";
import { EvacuationItemState, EvacuationStatus } from "../../common/states";
import {
  type EvacuationItemRow,
  type EvacuationRow,
  leaseEvacuation,
  updateEvacuationItemIf,
} from "../../db/evacuations";
import { getVolume } from "../../db/volumes";
import type { Caller } from "../volumeApi/caller";
import { migrateVolume } from "../volumeApi/migrate";
import { loadOf, pickStarts, saturated } from "./caps";
import type { DriverContext } from "./driverContext";
import { getItem, pendingCandidates, type RunningItem } from "./driverQueries";

const MiB = 1024 * 1024;
/** How many pending items one tick looks at (taken in order; what does not fit waits a tick). */
const CANDIDATE_WINDOW = 100;

/** Thrown inside the start's transaction to undo it: this driver may not start the item. */
class NotStarted extends Error {}

/** Starts pending items in order while every cap has room; returns how many started. */
export async function startPending(
  ctx: DriverContext,
  e: EvacuationRow,
  running: readonly RunningItem[],
): Promise<number> {
  if (running.length >= e.max_parallel) {
    return 0;
  }
  const full = saturated(loadOf(running), e);
  const candidates = await pendingCandidates(ctx.db, e.id, {
    excludeBackends: full.backends,
    excludePools: full.pools,
    retryDelayMs: ctx.retryDelayMs,
    limit: CANDIDATE_WINDOW,
  });
  let started = 0;
  for (const item of pickStarts(running, candidates, e)) {
    if (ctx.stopping()) {
      break;
    }
    if (await startItem(ctx, e, item)) {
      started += 1;
    }
  }
  return started;
}

/**
 * One item's migration. The volume's compare-and-swap, the migrations row and the item's
 * `pending` → `running` (with the migration's id, attempts + 1) commit together, and only while
 * this driver holds the lease of a `running` evacuation (renewed in the same transaction, which
 * also waits for a pause or cancel being written): a crash leaves either nothing or a recorded
 * start, and an item starts once. True when it started.
 */
async function startItem(ctx: DriverContext, e: EvacuationRow, item: EvacuationItemRow): Promise<boolean> {
  const { db, logger } = ctx;
  const volume = await getVolume(db, item.volume_id);
  if (!volume) {
    await refuse(ctx, e, item, "the volume no longer exists", { final: true });
    return false;
  }
  if (volume.host !== item.from_host) {
    await updateEvacuationItemIf(
      db,
      item.id,
      {
        state: EvacuationItemState.SKIPPED,
        reason: `moved off ${item.from_host} outside this evacuation (now on ${volume.host ?? "no host"})`,
        finished_at: db.fn.now(),
      },
      { state: EvacuationItemState.PENDING, attempts: item.attempts },
    );
    return false;
  }
  if (item.to_host === null) {
    await refuse(ctx, e, item, "no destination pool was planned for it", { final: true });
    return false;
  }
  const caller: Caller = {
    userId: e.user_id ?? "evacuation",
    projectId: e.project_id ?? "admin",
    isAdmin: true,
  };
  try {
    const migration = await migrateVolume(
      ctx,
      caller,
      volume,
      { host: item.to_host, cluster: null, forceHostCopy: false, lockVolume: false, clusterAllowed: true },
      {
        evacuationId: e.id,
        bpsLimit: e.bandwidth_limit === null ? null : e.bandwidth_limit * MiB,
        within: async (trx, m) => {
          const held = await leaseEvacuation(trx, e.id, ctx.id, ctx.leaseMs);
          if (held?.status !== EvacuationStatus.RUNNING) {
            throw new NotStarted(held ? `the evacuation is ${held.status}` : "the lease is lost");
          }
          const marked = await updateEvacuationItemIf(
            trx,
            item.id,
            {
              state: EvacuationItemState.RUNNING,
              migration_id: m.id,
              attempts: trx.raw("attempts + 1"),
              started_at: trx.fn.now(),
              finished_at: null,
              bytes: null,
            },
            { state: EvacuationItemState.PENDING, attempts: item.attempts },
          );
          if (!marked) {
            throw new NotStarted("the item is no longer pending");
          }
        },
      },
    );
    logger.info(
      {
        evacuation_id: e.id,
        volume_id: item.volume_id,
        migration_id: migration.id,
        from: item.from_host,
        to: item.to_host,
        attempt: item.attempts + 1,
      },
      "evacuation item started",
    );
    return true;
  } catch (err) {
    if (err instanceof NotStarted) {
      logger.info(
        { evacuation_id: e.id, volume_id: item.volume_id, why: err.message },
        "evacuation item not started",
      );
      return false;
    }
    // Refused before the transaction committed (the volume changed, the destination is gone...),
    // or the cast failed after it: then the item is running and its migration's error (written by
    // migrateVolume) settles it on the next tick.
    const now = await getItem(db, item.id);
    if (now?.state === EvacuationItemState.PENDING && now.attempts === item.attempts) {
      await refuse(ctx, e, item, coerceError(err).message, { final: false });
    }
    return false;
  }
}

/** A refused start counts as an attempt: pending again while retries remain (unless final), else failed. */
async function refuse(
  ctx: DriverContext,
  e: EvacuationRow,
  item: EvacuationItemRow,
  reason: string,
  o: { final: boolean },
): Promise<void> {
  const { db } = ctx;
  const retry = !o.final && item.attempts + 1 <= e.max_retries;
  const done = await updateEvacuationItemIf(
    db,
    item.id,
    {
      state: retry ? EvacuationItemState.PENDING : EvacuationItemState.FAILED,
      reason,
      attempts: item.attempts + 1,
      finished_at: retry ? null : db.fn.now(),
    },
    { state: EvacuationItemState.PENDING, attempts: item.attempts },
  );
  if (done) {
    ctx.logger.warn(
      { evacuation_id: e.id, volume_id: item.volume_id, reason, attempts: item.attempts + 1 },
      `evacuation item refused; ${retry ? "will be retried" : "failed"}`,
    );
  }
}
