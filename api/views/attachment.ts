/** The attachment views (cinder/api/v3/views/attachments.py). */
import type { AttachmentRow } from "../../db/attachments";
import { cinderTime } from "./common";

export function attachmentSummary(a: AttachmentRow): Record<string, unknown> {
  return { id: a.id, status: a.attach_status, instance: a.instance_uuid, volume_id: a.volume_id };
}

/** Cinder writes '' for a time that is not set. */
export function attachmentDetail(a: AttachmentRow): Record<string, unknown> {
  return {
    ...attachmentSummary(a),
    attached_at: cinderTime(a.attach_time) ?? "",
    detached_at: a.deleted ? (cinderTime(a.deleted_at) ?? "") : "",
    attach_mode: a.attach_mode,
    connection_info: a.connection_info,
  };
}
