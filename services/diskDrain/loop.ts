/**
 * One disk drain on its backend's worker (issue 16): start pvmove, sample its progress every
 * `interval` seconds into the row, abort it when cancelled, vgreduce when asked, and continue it
 * after an interruption. The row says what to do next, so the loop can be entered at any status
 * (a worker that restarts enters it again for every active drain of its backend).
 *
 * Continuing: pvmove commits each moved segment to the VG metadata and keeps the unfinished move
 * there as a `pvmove` LV. After the storage host crashed or rebooted (its commands failed and then
 * answer again) or this worker restarted, the loop runs `pvmove` on the PV again, which takes the
 * move up from its last committed segment.
 */
import { setTimeout as sleep } from "node:timers/promises";

import { coerceError } from "../../common/errors";
import type { Logger } from "../../common/logger";
import { ACTIVE_DISK_DRAIN_STATUSES, DiskDrainStatus } from "../../common/states";
import type { Db } from "../../db/connection";
import { type DiskDrainRow, getDiskDrain, updateDiskDrainIf } from "../../db/diskDrains";
import { isSshConnectFailure } from "../../drivers/exec/types";
import { PvDrainRefused, type PvMover, type PvSample } from "../../drivers/lvm/pvmove";

/** Consecutive failures (other than an unreachable host) after which a drain is `failed`. */
export const MAX_FAILURES = 10;
/** Samples with no pvmove LV but extents left on the PV before the move counts as ended short. */
const MAX_SETTLING = 3;

export interface DrainLoopDeps {
  db: Db;
  logger: Logger;
  mover: PvMover;
  signal: AbortSignal;
}

/** What the loop carries from one sample to the next. */
interface LoopState {
  /** Run pvmove on the PV again before the next sample (after an interruption). */
  resume: boolean;
  last: { at: number; moved: number } | null;
  /** The storage host's boot id at the last sample: another one means it rebooted meanwhile. */
  bootId: string | null;
  /** Samples in a row with no move but extents still on the PV (pvmove finishing in two commits). */
  settling: number;
}

function isActive(row: DiskDrainRow | undefined): row is DiskDrainRow {
  return row !== undefined && ACTIVE_DISK_DRAIN_STATUSES.includes(row.status);
}

export async function runDrain(deps: DrainLoopDeps, id: string, interrupted: boolean): Promise<void> {
  const log = deps.logger.child({ disk_drain_id: id });
  const state: LoopState = { resume: interrupted, last: null, bootId: null, settling: 0 };
  let failures = 0;
  while (!deps.signal.aborted) {
    const row = await getDiskDrain(deps.db, id);
    if (!isActive(row)) {
      return;
    }
    try {
      await step(deps, row, state, log);
      failures = 0;
    } catch (e) {
      const err = coerceError(e);
      // Whatever failed, the poller on the host may have gone with it: run pvmove again first.
      state.resume = true;
      state.last = null;
      if (isSshConnectFailure(e)) {
        // The storage host is down: pvmove's checkpoint waits on its disks; continue when it answers.
        log.warn({ err, pv: row.pv }, "disk drain: storage host unreachable, will continue the move");
      } else if (++failures >= MAX_FAILURES || e instanceof PvDrainRefused) {
        log.error({ err, pv: row.pv }, "disk drain failed");
        await finish(deps.db, row, DiskDrainStatus.FAILED, { error: err.message });
        return;
      } else {
        log.warn({ err, pv: row.pv, failures }, "disk drain: step failed, trying again");
      }
    }
    const next = await getDiskDrain(deps.db, id);
    if (!isActive(next)) {
      return;
    }
    await sleep(next.interval * 1000, undefined, { signal: deps.signal }).catch(() => undefined);
  }
}

function finish(
  db: Db,
  row: DiskDrainRow,
  status: DiskDrainStatus,
  values: Partial<Pick<DiskDrainRow, "error" | "percent" | "bytes_moved">> = {},
): Promise<DiskDrainRow | undefined> {
  return updateDiskDrainIf(
    db,
    row.id,
    { ...values, status, rate_bps: null, finished_at: db.fn.now() },
    { status: row.status },
  );
}

async function step(deps: DrainLoopDeps, row: DiskDrainRow, state: LoopState, log: Logger): Promise<void> {
  const { db, mover } = deps;
  switch (row.status) {
    case DiskDrainStatus.PENDING: {
      const room = await mover.room(row.pv);
      if (room.usedBytes > 0 && !(await mover.moves()).has(row.pv)) {
        await mover.start(row.pv, row.interval);
      }
      log.info({ pv: row.pv, vg: room.vg, bytes: room.usedBytes }, "disk drain: pvmove started");
      await updateDiskDrainIf(
        db,
        row.id,
        { status: DiskDrainStatus.MOVING, bytes_total: room.usedBytes, started_at: db.fn.now() },
        { status: DiskDrainStatus.PENDING },
      );
      state.resume = false;
      return;
    }
    case DiskDrainStatus.MOVING:
      return moving(deps, row, state, log);
    case DiskDrainStatus.REDUCING: {
      if ((await mover.sample(row.pv)).inGroup) {
        await mover.reduce(row.pv);
      }
      log.info({ pv: row.pv, vg: mover.vg }, "disk drain: PV removed from its volume group");
      await finish(db, row, DiskDrainStatus.COMPLETED);
      return;
    }
    case DiskDrainStatus.CANCELLING: {
      if ((await mover.sample(row.pv)).move) {
        await mover.abort(row.pv);
      }
      log.info({ pv: row.pv }, "disk drain: cancelled (pvmove aborted)");
      await finish(db, row, DiskDrainStatus.CANCELLED);
      return;
    }
    default:
      return;
  }
}

async function moving(deps: DrainLoopDeps, row: DiskDrainRow, state: LoopState, log: Logger): Promise<void> {
  const { db, mover } = deps;
  let sample: PvSample = await mover.sample(row.pv);
  if (state.bootId !== null && sample.bootId !== state.bootId) {
    // The host rebooted between two samples (the SSH runner reconnects without an error).
    state.resume = true;
    state.last = null;
  }
  state.bootId = sample.bootId;
  if (state.resume) {
    if (sample.move) {
      log.info({ pv: row.pv, percent: sample.move.percent }, "disk drain: continuing the interrupted pvmove");
      await mover.start(row.pv, row.interval);
      await updateDiskDrainIf(db, row.id, { resumes: row.resumes + 1 }, { status: row.status });
      sample = await mover.sample(row.pv);
    }
    state.resume = false;
  }
  if (sample.move) {
    state.settling = 0;
    const percent = Math.min(100, Math.max(0, sample.move.percent ?? row.percent));
    const moved = Math.round((row.bytes_total * percent) / 100);
    const now = Date.now();
    const rate = state.last
      ? Math.max(0, ((moved - state.last.moved) * 1000) / (now - state.last.at || 1))
      : null;
    state.last = { at: now, moved };
    await updateDiskDrainIf(
      db,
      row.id,
      { percent, bytes_moved: moved, rate_bps: rate === null ? row.rate_bps : Math.round(rate) },
      { status: DiskDrainStatus.MOVING },
    );
    return;
  }
  if (sample.usedBytes > 0) {
    if (++state.settling < MAX_SETTLING) {
      return;
    }
    throw new PvDrainRefused(
      `pvmove of ${row.pv} is no longer running and ${sample.usedBytes} bytes are still on it`,
    );
  }
  const done = { percent: 100, bytes_moved: row.bytes_total };
  log.info({ pv: row.pv, bytes: row.bytes_total }, "disk drain: every extent moved");
  if (row.remove_from_group) {
    await updateDiskDrainIf(
      db,
      row.id,
      { ...done, status: DiskDrainStatus.REDUCING, rate_bps: null },
      { status: DiskDrainStatus.MOVING },
    );
  } else {
    await finish(db, row, DiskDrainStatus.COMPLETED, done);
  }
}
