import { randomUUID } from "node:crypto";

import type { Knex } from "knex";

import type { AttachStatus } from "../common/states";
import { conditionalUpdate, type Expected, jsonb, type Updates } from "./conditional";
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
  /** What the host connecting the volume said about itself (a new-style attachment's connector). */
  connector: Record<string, unknown> | null;
  /** What the host was told to connect to (migration 005). */
  connection_info: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date | null;
  deleted: boolean;
  deleted_at: Date | null;
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

/** An attachment update by compare-and-swap; jsonb columns are serialised here. */
export function updateAttachmentIf(
  db: Conn,
  id: string,
  values: Updates<AttachmentRow>,
  expected: Expected<AttachmentRow>,
): Promise<AttachmentRow | undefined> {
  const v: Updates<AttachmentRow> = { ...values, updated_at: db.fn.now() };
  for (const col of ["connector", "connection_info"] as const) {
    const value = values[col];
    if (value !== undefined && value !== null && !isRaw(value)) {
      v[col] = jsonb(db, value);
    }
  }
  return conditionalUpdate<AttachmentRow>(db, "volume_attachments", id, v, { deleted: false, ...expected });
}

function isRaw(v: unknown): boolean {
  return typeof v === "object" && v !== null && "toSQL" in v;
}

export interface AttachmentFilter {
  /** Only attachments of this project's volumes (Cinder's get_all_by_project). */
  projectId?: string;
  volumeId?: string;
  status?: string;
  instanceUuid?: string;
}

/** Live attachments, oldest first, optionally of one project's volumes. */
export async function findAttachments(db: Conn, f: AttachmentFilter): Promise<AttachmentRow[]> {
  const qb = db("volume_attachments as a")
    .join("volumes as v", "v.id", "a.volume_id")
    .where({ "a.deleted": false })
    .orderBy([
      { column: "a.created_at", order: "asc" },
      { column: "a.id", order: "asc" },
    ])
    .select("a.*");
  if (f.projectId !== undefined) {
    qb.where("v.project_id", f.projectId);
  }
  if (f.volumeId !== undefined) {
    if (!isUuid(f.volumeId)) {
      return [];
    }
    qb.where("a.volume_id", f.volumeId);
  }
  if (f.status !== undefined) {
    qb.where("a.attach_status", f.status);
  }
  if (f.instanceUuid !== undefined) {
    qb.where("a.instance_uuid", f.instanceUuid);
  }
  return (await qb) as AttachmentRow[];
}
