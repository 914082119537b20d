/**
 * The disk-drain methods of a volume worker (issue 16), on the worker's own topic
 * (`cinder-volume.<host@backend>`) beside VolumeMethods: the worker serves both maps. A map of its
 * own, so the volume manager's handlers need not know drains.
 *
 * Version history: 1.0 - check_pv_drain, drain_pv.
 */
import { volumeTopic } from "../../common/hosts";
import { RpcClient } from "./typed";
import type { Bus } from "./types";

/** What a drain of the PV would move: its volume group, the bytes on it and the room elsewhere. */
export interface PvDrainCheck {
  vg: string;
  pv: string;
  used_bytes: number;
  free_elsewhere_bytes: number;
}

export interface DiskDrainMethods {
  /** A call: whether the PV can be drained now, or why not. */
  check_pv_drain: { args: { pv: string }; result: PvDrainCheck | { error: string } };
  /** Start (or continue) the recorded drain; the worker moves its row on. */
  drain_pv: { args: { drain_id: string }; result: void };
}

/** How long the API waits for a worker's check (a few LVM reports over SSH). */
export const CHECK_TIMEOUT_MS = 60_000;

export class DiskDrainRpc {
  private readonly rpc: RpcClient<DiskDrainMethods>;

  constructor(bus: Bus) {
    this.rpc = new RpcClient<DiskDrainMethods>(bus);
  }

  check(backend: string, pv: string): Promise<PvDrainCheck | { error: string }> {
    return this.rpc.call(volumeTopic(backend), "check_pv_drain", { pv }, { timeoutMs: CHECK_TIMEOUT_MS });
  }

  drain(backend: string, drainId: string): Promise<void> {
    return this.rpc.cast(volumeTopic(backend), "drain_pv", { drain_id: drainId });
  }
}
