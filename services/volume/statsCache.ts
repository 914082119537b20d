import type { ServiceCapabilities } from "../../db/services";
import type { RpcArgs, RpcHandlers } from "../rpc/types";

export interface StatsCacheOptions {
  /** The driver's full stats read (an LVM backend runs `vgs` and `lvs` on its storage host). */
  read: () => Promise<ServiceCapabilities>;
  /** Cinder's backend_stats_polling_interval: the longest a reading is reused. */
  maxAgeSecs: number;
  now?: () => number;
}

/**
 * Driver stats between heartbeats. Cinder bumps the service row every report_interval but polls
 * the driver every backend_stats_polling_interval (60 s), and again after a change it made: on a
 * storage host an LVM report costs about a second of CPU, so reading it on every 3-second
 * heartbeat of every backend starved the hosts' copies. A reading is reused until it is older than
 * the interval or the worker changed its backend (invalidate), so the scheduler still sees a
 * create or delete at the next heartbeat.
 */
export class StatsCache {
  private last: { at: number; caps: ServiceCapabilities } | null = null;
  /** Bumped by invalidate(), so a read that began before a change is not kept as fresh. */
  private generation = 0;
  private readonly now: () => number;

  constructor(private readonly opts: StatsCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The cached reading while fresh, else a new one; a failed read keeps nothing and throws. */
  async get(): Promise<ServiceCapabilities> {
    const t = this.now();
    if (this.last && t - this.last.at < this.opts.maxAgeSecs * 1000) {
      return this.last.caps;
    }
    this.last = null;
    const generation = this.generation;
    const caps = await this.opts.read();
    if (generation === this.generation) {
      this.last = { at: t, caps };
    }
    return caps;
  }

  /** The backend changed (a volume made, removed, resized or moved): the next get() reads again. */
  invalidate(): void {
    this.generation += 1;
    this.last = null;
  }
}

/**
 * The worker's RPC handlers, each invalidating the stats when it settles: nearly every volume
 * method changes the backend, and one extra report after a read-only call costs less than a list
 * of which calls write, which would go stale as methods are added.
 */
export function refreshingStats(handlers: RpcHandlers, stats: Pick<StatsCache, "invalidate">): RpcHandlers {
  return Object.fromEntries(
    Object.entries(handlers).map(([method, handle]) => [
      method,
      (args: RpcArgs) => handle(args).finally(() => stats.invalidate()),
    ]),
  );
}
