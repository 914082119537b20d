/**
 * Every status in the system as a closed union. The same lists feed the SQL CHECK constraints in
 * db/migrations, so the database refuses what the type system refuses.
 */
function values<T extends Record<string, string>>(o: T): readonly T[keyof T][] {
  return Object.values(o) as T[keyof T][];
}

/** Cinder's `VolumeStatus` (cinder/objects/fields.py) plus `deleted` for soft-deleted rows. */
export const VolumeStatus = {
  CREATING: "creating",
  AVAILABLE: "available",
  DELETING: "deleting",
  ERROR: "error",
  ERROR_DELETING: "error_deleting",
  ERROR_MANAGING: "error_managing",
  MANAGING: "managing",
  ATTACHING: "attaching",
  IN_USE: "in-use",
  DETACHING: "detaching",
  MAINTENANCE: "maintenance",
  RESTORING_BACKUP: "restoring-backup",
  ERROR_RESTORING: "error_restoring",
  RESERVED: "reserved",
  AWAITING_TRANSFER: "awaiting-transfer",
  BACKING_UP: "backing-up",
  ERROR_BACKING_UP: "error_backing-up",
  ERROR_EXTENDING: "error_extending",
  DOWNLOADING: "downloading",
  UPLOADING: "uploading",
  RETYPING: "retyping",
  EXTENDING: "extending",
  DELETED: "deleted",
} as const;
export type VolumeStatus = (typeof VolumeStatus)[keyof typeof VolumeStatus];
export const VOLUME_STATUSES = values(VolumeStatus);

export const AttachStatus = {
  ATTACHED: "attached",
  ATTACHING: "attaching",
  DETACHED: "detached",
  RESERVED: "reserved",
  DETACHING: "detaching",
  ERROR_ATTACHING: "error_attaching",
  ERROR_DETACHING: "error_detaching",
  DELETED: "deleted",
} as const;
export type AttachStatus = (typeof AttachStatus)[keyof typeof AttachStatus];
export const ATTACH_STATUSES = values(AttachStatus);

/**
 * Cinder's `migration_status` without the packed `target:<id>` form: a temp volume is marked by
 * the `migration_target_of` column instead, and the view renders `target:<id>` for admins.
 */
export const MigrationStatus = {
  STARTING: "starting",
  MIGRATING: "migrating",
  COMPLETING: "completing",
  SUCCESS: "success",
  ERROR: "error",
  DELETING: "deleting",
} as const;
export type MigrationStatus = (typeof MigrationStatus)[keyof typeof MigrationStatus];
export const MIGRATION_STATUSES = values(MigrationStatus);

/** `migration_status` values that allow a new migration, retype or delete (Cinder's AVAILABLE_MIGRATION_STATUS). */
export const IDLE_MIGRATION_STATUSES: readonly (MigrationStatus | null)[] = [
  null,
  MigrationStatus.DELETING,
  MigrationStatus.ERROR,
  MigrationStatus.SUCCESS,
];

export const SnapshotStatus = {
  CREATING: "creating",
  AVAILABLE: "available",
  DELETING: "deleting",
  ERROR: "error",
  ERROR_DELETING: "error_deleting",
  DELETED: "deleted",
} as const;
export type SnapshotStatus = (typeof SnapshotStatus)[keyof typeof SnapshotStatus];
export const SNAPSHOT_STATUSES = values(SnapshotStatus);

/** One attempt to move a volume, as recorded in the `migrations` table. */
export const MigrationState = {
  STARTING: "starting",
  /** Accepted by the source worker, waiting for a slot (max_concurrent_migrations). */
  QUEUED: "queued",
  MIGRATING: "migrating",
  COMPLETING: "completing",
  SUCCESS: "success",
  ERROR: "error",
} as const;
export type MigrationState = (typeof MigrationState)[keyof typeof MigrationState];
export const MIGRATION_STATES = values(MigrationState);

export const MigrationFlow = {
  GENERIC: "generic",
  DRIVER: "driver",
  COMPUTE: "compute",
  /** A generic copy that rebuilds the volume's snapshots on the destination (migrate_volumes_with_snapshots). */
  SNAPSHOTS: "snapshots",
} as const;
export type MigrationFlow = (typeof MigrationFlow)[keyof typeof MigrationFlow];
export const MIGRATION_FLOWS = values(MigrationFlow);

export const MigrationKind = {
  MIGRATE: "migrate",
  RETYPE: "retype",
} as const;
export type MigrationKind = (typeof MigrationKind)[keyof typeof MigrationKind];
export const MIGRATION_KINDS = values(MigrationKind);

export const ServiceBinary = {
  VOLUME: "cinder-volume",
  SCHEDULER: "cinder-scheduler",
} as const;
export type ServiceBinary = (typeof ServiceBinary)[keyof typeof ServiceBinary];
export const SERVICE_BINARIES = values(ServiceBinary);

/** An evacuation: every volume of a source (host, backend, pool or cluster) moved elsewhere. */
export const EvacuationStatus = {
  RUNNING: "running",
  /** No new migration starts; running ones go on. */
  PAUSED: "paused",
  /** No new migration starts; running ones are asked to cancel. */
  CANCELLING: "cancelling",
  CANCELLED: "cancelled",
  COMPLETED: "completed",
  COMPLETED_WITH_ERRORS: "completed_with_errors",
  FAILED: "failed",
} as const;
export type EvacuationStatus = (typeof EvacuationStatus)[keyof typeof EvacuationStatus];
export const EVACUATION_STATUSES = values(EvacuationStatus);
export const ENDED_EVACUATION_STATUSES: readonly EvacuationStatus[] = [
  EvacuationStatus.CANCELLED,
  EvacuationStatus.COMPLETED,
  EvacuationStatus.COMPLETED_WITH_ERRORS,
  EvacuationStatus.FAILED,
];

/** One volume of an evacuation. */
export const EvacuationItemState = {
  PENDING: "pending",
  RUNNING: "running",
  SUCCEEDED: "succeeded",
  FAILED: "failed",
  SKIPPED: "skipped",
  CANCELLED: "cancelled",
} as const;
export type EvacuationItemState = (typeof EvacuationItemState)[keyof typeof EvacuationItemState];
export const EVACUATION_ITEM_STATES = values(EvacuationItemState);

export const EvacuationOrder = {
  SMALLEST_FIRST: "smallest_first",
  LARGEST_FIRST: "largest_first",
  OLDEST_FIRST: "oldest_first",
} as const;
export type EvacuationOrder = (typeof EvacuationOrder)[keyof typeof EvacuationOrder];
export const EVACUATION_ORDERS = values(EvacuationOrder);

/** Where a QoS spec is enforced (Cinder's QoSConsumerValues); `back-end` when not given. */
export const QosConsumer = {
  FRONT_END: "front-end",
  BACK_END: "back-end",
  BOTH: "both",
} as const;
export type QosConsumer = (typeof QosConsumer)[keyof typeof QosConsumer];
export const QOS_CONSUMERS = values(QosConsumer);

/** Where a volume type's encryption is applied (Cinder's `encryption.control_location`). */
export const ControlLocation = {
  FRONT_END: "front-end",
  BACK_END: "back-end",
} as const;
export type ControlLocation = (typeof ControlLocation)[keyof typeof ControlLocation];
export const CONTROL_LOCATIONS = values(ControlLocation);

/** A user message's severity (cinder/message/api.py `level`). */
export const MessageLevel = {
  ERROR: "ERROR",
  WARNING: "WARNING",
  INFO: "INFO",
} as const;
export type MessageLevel = (typeof MessageLevel)[keyof typeof MessageLevel];
export const MESSAGE_LEVELS = values(MessageLevel);

/** What a user message is about (cinder/message/message_field.py `Resource`). */
export const MessageResourceType = {
  VOLUME: "VOLUME",
  VOLUME_SNAPSHOT: "VOLUME_SNAPSHOT",
  VOLUME_BACKUP: "VOLUME_BACKUP",
} as const;
export type MessageResourceType = (typeof MessageResourceType)[keyof typeof MessageResourceType];
export const MESSAGE_RESOURCE_TYPES = values(MessageResourceType);

/** A drain of one physical volume of an LVM backend (issue 16, `disk-drains`). */
export const DiskDrainStatus = {
  /** Recorded; the backend's worker has not started pvmove yet. */
  PENDING: "pending",
  MOVING: "moving",
  /** Moved; the PV is being removed from the volume group (remove_from_group). */
  REDUCING: "reducing",
  /** Cancel asked: the worker aborts the move. */
  CANCELLING: "cancelling",
  COMPLETED: "completed",
  CANCELLED: "cancelled",
  FAILED: "failed",
} as const;
export type DiskDrainStatus = (typeof DiskDrainStatus)[keyof typeof DiskDrainStatus];
export const DISK_DRAIN_STATUSES = values(DiskDrainStatus);
export const ACTIVE_DISK_DRAIN_STATUSES: readonly DiskDrainStatus[] = [
  DiskDrainStatus.PENDING,
  DiskDrainStatus.MOVING,
  DiskDrainStatus.REDUCING,
  DiskDrainStatus.CANCELLING,
];
