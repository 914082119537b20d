/**
 * What a user message says (cinder/message/message_field.py): an action (what was being done)
 * and a detail (what went wrong), each a three-digit id with a fixed English text; the message's
 * `user_message` is "<action>:<detail>" and its `event_id` "VOLUME_<resource>_<action>_<detail>".
 * Cinder's own ids are kept; the migration actions Cinder lacks (it leaves failed migrations
 * silent) are numbered from 101 so they cannot meet an id Cinder adds later.
 */
export interface MessageField {
  id: string;
  text: string;
}

function field(id: string, text: string): MessageField {
  return { id, text };
}

export const MessageAction = {
  SCHEDULE_ALLOCATE_VOLUME: field("001", "schedule allocate volume"),
  ATTACH_VOLUME: field("002", "attach volume"),
  COPY_VOLUME_TO_IMAGE: field("003", "copy volume to image"),
  UPDATE_ATTACHMENT: field("004", "update attachment"),
  COPY_IMAGE_TO_VOLUME: field("005", "copy image to volume"),
  UNMANAGE_VOLUME: field("006", "unmanage volume"),
  EXTEND_VOLUME: field("007", "extend volume"),
  CREATE_VOLUME_FROM_BACKEND: field("008", "create volume from backend storage"),
  SNAPSHOT_CREATE: field("009", "create snapshot"),
  SNAPSHOT_DELETE: field("010", "delete snapshot"),
  SNAPSHOT_UPDATE: field("011", "update snapshot"),
  SNAPSHOT_METADATA_UPDATE: field("012", "update snapshot metadata"),
  BACKUP_CREATE: field("013", "create backup"),
  BACKUP_DELETE: field("014", "delete backup"),
  BACKUP_RESTORE: field("015", "restore backup"),
  REIMAGE_VOLUME: field("016", "reimage volume"),
  MIGRATE_VOLUME: field("101", "migrate volume"),
  RETYPE_VOLUME: field("102", "retype volume"),
  EVACUATE_VOLUME: field("103", "evacuate volume"),
} as const;

export const MessageDetail = {
  UNKNOWN_ERROR: field("001", "An unknown error occurred."),
  DRIVER_NOT_INITIALIZED: field("002", "Driver is not initialized at present."),
  NO_BACKEND_AVAILABLE: field("003", "Could not find any available weighted backend."),
  FAILED_TO_UPLOAD_VOLUME: field("004", "Failed to upload volume to image at backend."),
  VOLUME_ATTACH_MODE_INVALID: field("005", "Volume's attach mode is invalid."),
  QUOTA_EXCEED: field("006", "Not enough quota resource for operation."),
  NOT_ENOUGH_SPACE_FOR_IMAGE: field("007", "Image used for creating volume exceeds available space."),
  UNMANAGE_ENC_NOT_SUPPORTED: field("008", "Unmanaging encrypted volumes is not supported."),
  NOTIFY_COMPUTE_SERVICE_FAILED: field("009", "Compute service failed to extend volume."),
  DRIVER_FAILED_EXTEND: field("010", "Volume Driver failed to extend volume."),
  SIGNATURE_VERIFICATION_FAILED: field("011", "Image signature verification failed."),
  DRIVER_FAILED_CREATE: field("012", "Driver failed to create the volume."),
  SNAPSHOT_CREATE_ERROR: field("013", "Snapshot failed to create."),
  SNAPSHOT_UPDATE_METADATA_FAILED: field("014", "Volume snapshot update metadata failed."),
  SNAPSHOT_IS_BUSY: field("015", "Snapshot is busy."),
  SNAPSHOT_DELETE_ERROR: field("016", "Snapshot failed to delete."),
  BACKUP_INVALID_STATE: field("017", "Backup status is invalid."),
  BACKUP_SERVICE_DOWN: field("018", "Backup service is down."),
  BACKUP_CREATE_DEVICE_ERROR: field("019", "Failed to get backup device from the volume service."),
  BACKUP_CREATE_DRIVER_ERROR: field("020", "Backup driver failed to create backup."),
  ATTACH_ERROR: field("021", "Failed to attach volume."),
  DETACH_ERROR: field("022", "Failed to detach volume."),
  BACKUP_CREATE_CLEANUP_ERROR: field("023", "Cleanup of temporary volume/snapshot failed."),
  BACKUP_SCHEDULE_ERROR: field("024", "Backup failed to schedule. Service not found for creating backup."),
  BACKUP_DELETE_DRIVER_ERROR: field("025", "Backup driver failed to delete backup."),
  BACKUP_RESTORE_ERROR: field("026", "Backup driver failed to restore backup."),
  VOLUME_INVALID_STATE: field("027", "Volume status is invalid."),
  REIMAGE_VOLUME_FAILED: field("028", "Compute service failed to reimage volume."),
  IMAGE_FORMAT_UNACCEPTABLE: field(
    "029",
    "The image disk format must be the same as the volume format for the volume type you are requesting.",
  ),
  INCREMENTAL_BACKUP_FORCES_FULL_BACKUP: field(
    "030",
    "Incremental backup not possible, forcing full backup.",
  ),
  MIGRATION_CANCELLED: field("101", "The migration was cancelled by an administrator."),
  MIGRATION_FAILED: field("102", "The volume could not be moved; it stays where it was."),
} as const;

const ACTIONS: readonly MessageField[] = Object.values(MessageAction);
const DETAILS: readonly MessageField[] = Object.values(MessageDetail);

/** Cinder's translate_action: an unknown id reads "unknown action". */
export function translateAction(id: string | null): string {
  return ACTIONS.find((a) => a.id === id)?.text ?? "unknown action";
}

/** Cinder's translate_detail: an unknown id reads as the unknown error. */
export function translateDetail(id: string | null): string {
  return DETAILS.find((d) => d.id === id)?.text ?? MessageDetail.UNKNOWN_ERROR.text;
}

/** The text users read: "<action>:<detail>", without a space, as Cinder builds it. */
export function userMessage(actionId: string | null, detailId: string | null): string {
  return `${translateAction(actionId)}:${translateDetail(detailId)}`;
}
