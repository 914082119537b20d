import type { Knex } from "knex";

import type { AttachStatus } from "../services/common/states";

export interface AttachmentRow {
  id: string;
  volume_id: string;
  instance_uuid: string | null;
  attached_host: string | null;
  mountpoint: string | null;
  attach_status: AttachStatus;
  attach_mode: string;
  attach_time: Date | null;
  created_at: Date;
  deleted: boolean;
}

export async function listAttachments(
  db: Knex | Knex.Transaction,
  volumeIds: string[],
): Promise<AttachmentRow[]> {
  if (volumeIds.length === 0) {
    return [];
  }
  return (await db("volume_attachments")
    .whereIn("volume_id", volumeIds)
    .andWhere({ deleted: false })
    .orderBy("created_at")) as AttachmentRow[];
}
