/**
 * The disk-drain half of a volume worker (issue 16): answers check_pv_drain and drain_pv on the
 * worker's topic, runs each drain of its backend in the background (loop.ts), and at start takes
 * up every drain of its backend that a previous run left active.
 */
import type { BackendConfig } from "../../common/config";
import { coerceError, DriverError } from "../../common/errors";
import type { Logger } from "../../common/logger";
import { runOutsideRequest } from "../../common/requestContext";
import type { Db } from "../../db/connection";
import { activeDiskDrains } from "../../db/diskDrains";
import { CommandError, type CommandRunner } from "../../drivers/exec/types";
import { lvmOptions } from "../../drivers/lvm/options";
import { PvMover } from "../../drivers/lvm/pvmove";
import type { DiskDrainMethods, PvDrainCheck } from "../rpc/diskDrainMethods";
import { toRpcHandlers } from "../rpc/typed";
import type { RpcHandlers } from "../rpc/types";
import { runDrain } from "./loop";

export interface DiskDrainWorkerDeps {
  db: Db;
  logger: Logger;
  backend: BackendConfig;
  /** The backend's runner (its storage host). */
  runner: CommandRunner;
}

export class DiskDrainWorker {
  /** Null for a backend whose driver is not LVM: it has no physical volumes to drain. */
  private readonly mover: PvMover | null;
  private readonly running = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(private readonly deps: DiskDrainWorkerDeps) {
    this.mover =
      deps.backend.volumeDriver === "lvm"
        ? new PvMover(deps.runner, lvmOptions(deps.backend).volumeGroup)
        : null;
  }

  handlers(): RpcHandlers {
    return toRpcHandlers<DiskDrainMethods>({
      check_pv_drain: (a) => this.check(a.pv),
      drain_pv: async (a) => this.launch(a.drain_id, false),
    });
  }

  /** Takes up the drains a previous run of this worker left active (they continue the move). */
  async start(): Promise<void> {
    if (!this.mover) {
      return;
    }
    for (const row of await activeDiskDrains(this.deps.db, this.deps.backend.serviceHost)) {
      this.deps.logger.info({ disk_drain_id: row.id, status: row.status }, "disk drain: taking it up again");
      this.launch(row.id, true);
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.running.values()]);
  }

  async check(pv: string): Promise<PvDrainCheck | { error: string }> {
    if (!this.mover) {
      return {
        error: `backend ${this.deps.backend.serviceHost} is not an LVM backend: it has no physical volumes`,
      };
    }
    try {
      const room = await this.mover.room(pv);
      return {
        vg: room.vg,
        pv: room.pv,
        used_bytes: room.usedBytes,
        free_elsewhere_bytes: room.freeElsewhereBytes,
      };
    } catch (e) {
      if (e instanceof DriverError || e instanceof CommandError) {
        return { error: e.message };
      }
      throw e;
    }
  }

  private launch(id: string, interrupted: boolean): void {
    const mover = this.mover;
    if (!mover || this.running.has(id) || this.stopping.signal.aborted) {
      return;
    }
    const deps = { db: this.deps.db, logger: this.deps.logger, mover, signal: this.stopping.signal };
    // A drain outlives the request that cast it: its lines carry the drain's id instead.
    const run = runOutsideRequest(() => runDrain(deps, id, interrupted))
      .catch((e: unknown) =>
        this.deps.logger.error({ err: coerceError(e), disk_drain_id: id }, "disk drain loop ended"),
      )
      .finally(() => this.running.delete(id));
    this.running.set(id, run);
  }
}
