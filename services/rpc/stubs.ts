/**
 * Typed client stubs for every RPC method, so callers never spell a method name or argument key.
 * Method names follow Cinder's (cinder/scheduler/rpcapi.py, cinder/volume/rpcapi.py); each
 * method's name, arguments and reply are declared once in methods.ts, which the handlers use too.
 *
 * Version history:
 *   1.0 - create_volume, migrate_volume (scheduler); create_volume, delete_volume, create_snapshot,
 *         delete_snapshot, migrate_volume, create_migration_target, get_copy_endpoint (volume).
 *   1.1 - extend_volume, migrate_volume_completion (volume).
 *   1.2 - retype (scheduler); retype in place (volume).
 *   1.3 - update_migrated_volume (volume).
 *   1.4 - get_manageable_volumes, manage_existing_get_size, manage_existing (volume).
 *   1.5 - create_migration_snapshot, delete_migration_snapshot, get_snapshot_copy_endpoint
 *         (volume, SnapshotMoveRpc).
 */
import { SCHEDULER_TOPIC, volumeTopic } from "../../common/hosts";
import type {
  SchedulerCreateVolume,
  SchedulerMethods,
  SchedulerMigrateVolume,
  SchedulerRetype,
  VolumeMethods,
  VolumeMigrateVolume,
  VolumeSnapshotMoveMethods,
} from "./methods";
import { RpcClient } from "./typed";
import type { Bus } from "./types";

export class SchedulerRpc {
  private readonly rpc: RpcClient<SchedulerMethods>;

  constructor(bus: Bus) {
    this.rpc = new RpcClient<SchedulerMethods>(bus);
  }

  createVolume(args: SchedulerCreateVolume): Promise<void> {
    return this.rpc.cast(SCHEDULER_TOPIC, "create_volume", args);
  }

  migrateVolume(args: SchedulerMigrateVolume): Promise<void> {
    return this.rpc.cast(SCHEDULER_TOPIC, "migrate_volume", args);
  }

  /** os-retype accepted: the volume is `retyping`; the scheduler decides whether it must move. */
  retype(args: SchedulerRetype): Promise<void> {
    return this.rpc.cast(SCHEDULER_TOPIC, "retype", args);
  }
}

/** The argument and reply types of a volume worker's method. */
type Args<M extends keyof VolumeMethods> = VolumeMethods[M]["args"];
type Result<M extends keyof VolumeMethods> = VolumeMethods[M]["result"];

export class VolumeRpc {
  private readonly rpc: RpcClient<VolumeMethods>;

  constructor(bus: Bus) {
    this.rpc = new RpcClient<VolumeMethods>(bus);
  }

  createVolume(host: string, args: Args<"create_volume">): Promise<void> {
    return this.rpc.cast(volumeTopic(host), "create_volume", args);
  }

  deleteVolume(host: string, args: Args<"delete_volume">): Promise<void> {
    return this.rpc.cast(volumeTopic(host), "delete_volume", args);
  }

  createSnapshot(host: string, args: Args<"create_snapshot">): Promise<void> {
    return this.rpc.cast(volumeTopic(host), "create_snapshot", args);
  }

  deleteSnapshot(host: string, args: Args<"delete_snapshot">): Promise<void> {
    return this.rpc.cast(volumeTopic(host), "delete_snapshot", args);
  }

  migrateVolume(host: string, args: VolumeMigrateVolume): Promise<void> {
    return this.rpc.cast(volumeTopic(host), "migrate_volume", args);
  }

  /** Creates the migration's temp volume on its backend and waits until it is available. */
  createMigrationTarget(
    host: string,
    args: Args<"create_migration_target">,
    timeoutMs: number,
  ): Promise<void> {
    // The wire's reply to a void handler is null; callers get undefined, as before.
    return this.rpc
      .call(volumeTopic(host), "create_migration_target", args, { timeoutMs })
      .then(() => undefined);
  }

  /** Retype where the volume is: its pool already satisfies the new type. */
  retype(host: string, args: Args<"retype">): Promise<void> {
    return this.rpc.cast(volumeTopic(host), "retype", args);
  }

  extendVolume(host: string, args: Args<"extend_volume">): Promise<void> {
    return this.rpc.cast(volumeTopic(host), "extend_volume", args);
  }

  /**
   * Nova's callback after a swap (os-migrate_volume_completion), handled by the source volume's
   * service; returns the id Nova must keep for the attachment (Cinder's save_volume_id).
   */
  migrateVolumeCompletion(
    host: string,
    args: Args<"migrate_volume_completion">,
  ): Promise<Result<"migrate_volume_completion">> {
    return this.rpc.call(volumeTopic(host), "migrate_volume_completion", args);
  }

  /**
   * Asked of the destination after the copy, before the swap: the name the moved volume keeps
   * (Cinder's update_migrated_volume, a call).
   */
  updateMigratedVolume(
    host: string,
    args: Args<"update_migrated_volume">,
  ): Promise<Result<"update_migrated_volume">> {
    return this.rpc.call(volumeTopic(host), "update_migrated_volume", args);
  }

  /** Where the destination's bytes are, so the source worker can copy into it. */
  getCopyEndpoint(host: string, args: Args<"get_copy_endpoint">): Promise<Result<"get_copy_endpoint">> {
    return this.rpc.call(volumeTopic(host), "get_copy_endpoint", args);
  }

  /** The objects on the backend a volume could be made of (os-volume-manage). */
  getManageableVolumes(host: string): Promise<Result<"get_manageable_volumes">> {
    return this.rpc.call(volumeTopic(host), "get_manageable_volumes", {});
  }

  manageExistingGetSize(
    host: string,
    args: Args<"manage_existing_get_size">,
  ): Promise<Result<"manage_existing_get_size">> {
    return this.rpc.call(volumeTopic(host), "manage_existing_get_size", args);
  }

  /** The volume row is `managing`; the worker adopts the object and makes it available. */
  manageExisting(host: string, args: Args<"manage_existing">): Promise<void> {
    return this.rpc.cast(volumeTopic(host), "manage_existing", args);
  }
}

type MoveArgs<M extends keyof VolumeSnapshotMoveMethods> = VolumeSnapshotMoveMethods[M]["args"];

/** The destination's side of a volume moving with its snapshots (calls, all idempotent). */
export class SnapshotMoveRpc {
  private readonly rpc: RpcClient<VolumeSnapshotMoveMethods>;

  constructor(bus: Bus) {
    this.rpc = new RpcClient<VolumeSnapshotMoveMethods>(bus);
  }

  async createMigrationSnapshot(host: string, args: MoveArgs<"create_migration_snapshot">): Promise<void> {
    await this.rpc.call(volumeTopic(host), "create_migration_snapshot", args);
  }

  async deleteMigrationSnapshot(host: string, args: MoveArgs<"delete_migration_snapshot">): Promise<void> {
    await this.rpc.call(volumeTopic(host), "delete_migration_snapshot", args);
  }

  getSnapshotCopyEndpoint(
    host: string,
    args: MoveArgs<"get_snapshot_copy_endpoint">,
  ): Promise<VolumeSnapshotMoveMethods["get_snapshot_copy_endpoint"]["result"]> {
    return this.rpc.call(volumeTopic(host), "get_snapshot_copy_endpoint", args);
  }
}
