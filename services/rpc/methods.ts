/**
 * The RPC methods of each service, one map per topic: method name → its arguments and its reply.
 * The client stubs (stubs.ts, through RpcClient) and the served handlers (each manager's
 * handlers(), a TypedHandlers of the same map) are both checked against it. Method names and
 * argument keys are the wire format (Cinder's names); the version history is in stubs.ts.
 * Arguments travel as JSON, so these types hold JSON values only.
 */
import type { PoolCapabilities } from "../../db/services";
import type { CopyEndpoint, VolumeModelUpdate } from "../../drivers/types";

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

/** The scheduler's topic (`cinder-scheduler`). */
export interface SchedulerMethods {
  create_volume: { args: SchedulerCreateVolume; result: void };
  migrate_volume: { args: SchedulerMigrateVolume; result: void };
  retype: { args: SchedulerRetype; result: void };
}

export interface VolumeMigrateVolume {
  volume_id: string;
  migration_id: string;
  /** Destination chosen by the scheduler: `host@backend#pool` with that pool's capabilities. */
  dest: { host: string; capabilities: PoolCapabilities | null };
  force_host_copy: boolean;
}

/** One backend object a worker could adopt (an entry of Cinder's get_manageable_volumes). */
export interface ManageableVolume {
  reference: { "source-name": string };
  /** GiB, rounded up. */
  size: number;
  safe_to_manage: boolean;
  reason_not_safe: string | null;
  cinder_id: string | null;
  extra_info: null;
}

/** A volume worker's topic (`cinder-volume.<host@backend>`). */
export interface VolumeMethods {
  create_volume: { args: { volume_id: string }; result: void };
  delete_volume: { args: { volume_id: string }; result: void };
  create_snapshot: { args: { snapshot_id: string }; result: void };
  delete_snapshot: { args: { snapshot_id: string }; result: void };
  migrate_volume: { args: VolumeMigrateVolume; result: void };
  /** A call: resolves once the temp volume is available. */
  create_migration_target: { args: { volume_id: string }; result: void };
  retype: { args: { volume_id: string; new_type_id: string }; result: void };
  extend_volume: { args: { volume_id: string; new_size: number }; result: void };
  /** A call: Nova's os-migrate_volume_completion, answered with the id Nova keeps. */
  migrate_volume_completion: {
    args: { volume_id: string; new_volume_id: string; error: boolean };
    result: { save_volume_id: string };
  };
  /** A call to the destination: the name the moved volume keeps. */
  update_migrated_volume: {
    args: { volume_id: string; new_volume_id: string; original_status: string };
    result: VolumeModelUpdate;
  };
  /** A call to the destination: where its bytes are. */
  get_copy_endpoint: { args: { volume_id: string }; result: CopyEndpoint };
  /** A call: the backend objects, managed or not (os-volume-manage's manageable_volumes). */
  get_manageable_volumes: { args: Record<string, never>; result: ManageableVolume[] };
  /** A call: the size a managed object would have, or why it cannot be managed. */
  manage_existing_get_size: { args: { source_name: string }; result: { size: number } | { error: string } };
  /** Adopt the object as the `managing` volume. */
  manage_existing: { args: { volume_id: string; source_name: string }; result: void };
}

/** A snapshot a migration makes on its destination: the temp volume's, named after `name_id`. */
export interface MigrationSnapshotRef {
  /** The source's snapshot (its row gives the size). */
  snapshot_id: string;
  /** The destination object's name id (snapshot_name_template % name_id). */
  name_id: string;
}

/**
 * A volume worker's methods for a volume that moves with its snapshots (the destination's side of
 * flows/snapshots.ts); served on the same topic as VolumeMethods.
 */
export interface VolumeSnapshotMoveMethods {
  /** A call: snapshot the temp volume as it is now. */
  create_migration_snapshot: { args: MigrationSnapshotRef & { volume_id: string }; result: void };
  /** A call: remove such a snapshot (one that does not exist is removed already). */
  delete_migration_snapshot: { args: MigrationSnapshotRef; result: void };
  /** A call: where such a snapshot's bytes can be read. */
  get_snapshot_copy_endpoint: { args: MigrationSnapshotRef; result: CopyEndpoint };
}
