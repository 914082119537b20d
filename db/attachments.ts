import { randomUUID } from "node:crypto";

import type { Knex } from "knex";

import type { AttachStatus } from "../common/states";
import { isUuid } from "./volumes";

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

type Conn = Knex | Knex.Transaction;

export type NewAttachment = Pick<
  AttachmentRow,
  "volume_id" | "instance_uuid" | "attached_host" | "mountpoint" | "attach_mode" | "attach_status"
>;

/** A new attachment row; an `attached` one gets its attach_time now. */
export async function insertAttachment(db: Conn, a: NewAttachment): Promise<AttachmentRow> {
  const rows = (await db("volume_attachments")
    .insert({
      id: randomUUID(),
      ...a,
      attach_time: a.attach_status === "attached" ? db.fn.now() : null,
    })
    .returning("*")) as AttachmentRow[];
  return rows[0]!;
}

export async function getAttachment(db: Conn, id: string): Promise<AttachmentRow | undefined> {
  if (!isUuid(id)) {
    return undefined;
  }
  return (await db("volume_attachments").where({ id, deleted: false }).first()) as AttachmentRow | undefined;
}

/** Cinder's attachment delete on detach: the row stays for history, detached and soft-deleted. */
export async function detachAttachment(db: Conn, id: string): Promise<boolean> {
  const n = await db("volume_attachments").where({ id, deleted: false }).update({
    attach_status: "detached",
    deleted: true,
    deleted_at: db.fn.now(),
    updated_at: db.fn.now(),
  });
  return n > 0;
}
