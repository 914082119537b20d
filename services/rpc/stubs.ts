/**
 * Typed client stubs for every RPC method, so callers never spell a method name or argument key.
 * Method names follow Cinder's (cinder/scheduler/rpcapi.py, cinder/volume/rpcapi.py).
 *
 * Version history:
 *   1.0 - create_volume, migrate_volume (scheduler); create_volume, delete_volume, create_snapshot,
 *         delete_snapshot, migrate_volume, create_migration_target, get_copy_endpoint (volume).
 *   1.1 - extend_volume, migrate_volume_completion (volume).
 *   1.2 - retype (scheduler); retype in place (volume).
 *   1.3 - update_migrated_volume (volume).
 */
import type { PoolCapabilities } from "../../db/services";
import type { CopyEndpoint, VolumeModelUpdate } from "../../drivers/types";
import { SCHEDULER_TOPIC, volumeTopic } from "../../common/hosts";
import type { Bus } from "./types";

export interface SchedulerCreateVolume {
  volume_id: string;
}

export interface SchedulerMigrateVolume {
  volume_id: string;
  migration_id: string;
  /** The destination as the admin sent it: `host@backend[#pool]`. */
  backend: string;
  force_host_copy: boolean;
}

export interface SchedulerRetype {
  volume_id: string;
  new_type_id: string;
  /** `never` keeps the volume where it is or fails; `on-demand` lets the scheduler move it. */
  migration_policy: "never" | "on-demand";
  /** The migrations row recorded by the API, or null when the scheduler records it itself. */
  migration_id: string | null;
}

export class SchedulerRpc {
  constructor(private readonly bus: Bus) {}

  createVolume(args: SchedulerCreateVolume): Promise<void> {
    return this.bus.cast(SCHEDULER_TOPIC, "create_volume", { ...args });
  }

  migrateVolume(args: SchedulerMigrateVolume): Promise<void> {
    return this.bus.cast(SCHEDULER_TOPIC, "migrate_volume", { ...args });
  }

  /** os-retype accepted: the volume is `retyping`; the scheduler decides whether it must move. */
  retype(args: SchedulerRetype): Promise<void> {
    return this.bus.cast(SCHEDULER_TOPIC, "retype", { ...args });
  }
}

export interface VolumeMigrateVolume {
  volume_id: string;
  migration_id: string;
  /** Destination chosen by the scheduler: `host@backend#pool` with that pool's capabilities. */
  dest: { host: string; capabilities: PoolCapabilities | null };
  force_host_copy: boolean;
}

export class VolumeRpc {
  constructor(private readonly bus: Bus) {}

  createVolume(host: string, args: { volume_id: string }): Promise<void> {
    return this.bus.cast(volumeTopic(host), "create_volume", args);
  }

  deleteVolume(host: string, args: { volume_id: string }): Promise<void> {
    return this.bus.cast(volumeTopic(host), "delete_volume", args);
  }

  createSnapshot(host: string, args: { snapshot_id: string }): Promise<void> {
    return this.bus.cast(volumeTopic(host), "create_snapshot", args);
  }

  deleteSnapshot(host: string, args: { snapshot_id: string }): Promise<void> {
    return this.bus.cast(volumeTopic(host), "delete_snapshot", args);
  }

  migrateVolume(host: string, args: VolumeMigrateVolume): Promise<void> {
    return this.bus.cast(volumeTopic(host), "migrate_volume", { ...args });
  }

  /** Creates the migration's temp volume on its backend and waits until it is available. */
  createMigrationTarget(host: string, args: { volume_id: string }, timeoutMs: number): Promise<void> {
    return this.bus
      .call(volumeTopic(host), "create_migration_target", args, { timeoutMs })
      .then(() => undefined);
  }

  /** Retype where the volume is: its pool already satisfies the new type. */
  retype(host: string, args: { volume_id: string; new_type_id: string }): Promise<void> {
    return this.bus.cast(volumeTopic(host), "retype", args);
  }

  extendVolume(host: string, args: { volume_id: string; new_size: number }): Promise<void> {
    return this.bus.cast(volumeTopic(host), "extend_volume", args);
  }

  /**
   * Nova's callback after a swap (os-migrate_volume_completion), handled by the source volume's
   * service; returns the id Nova must keep for the attachment (Cinder's save_volume_id).
   */
  migrateVolumeCompletion(
    host: string,
    args: { volume_id: string; new_volume_id: string; error: boolean },
  ): Promise<{ save_volume_id: string }> {
    return this.bus.call(volumeTopic(host), "migrate_volume_completion", args);
  }

  /**
   * Asked of the destination after the copy, before the swap: the name the moved volume keeps
   * (Cinder's update_migrated_volume, a call).
   */
  updateMigratedVolume(
    host: string,
    args: { volume_id: string; new_volume_id: string; original_status: string },
  ): Promise<VolumeModelUpdate> {
    return this.bus.call<VolumeModelUpdate>(volumeTopic(host), "update_migrated_volume", args);
  }

  /** Where the destination's bytes are, so the source worker can copy into it. */
  getCopyEndpoint(host: string, args: { volume_id: string }): Promise<CopyEndpoint> {
    return this.bus.call<CopyEndpoint>(volumeTopic(host), "get_copy_endpoint", args);
  }
}
