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
