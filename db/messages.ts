import { randomUUID } from "node:crypto";

import type { Knex } from "knex";

import type { MessageField } from "../common/messageFields";
import { currentRequestIds, newRequestId } from "../common/requestContext";
import { MessageLevel, MessageResourceType } from "../common/states";
import { isUuid } from "./volumes";

export interface MessageRow {
  id: string;
  project_id: string;
  request_id: string | null;
  resource_type: MessageResourceType | null;
  resource_uuid: string | null;
  event_id: string;
  action_id: string | null;
  detail_id: string | null;
  message_level: MessageLevel;
  created_at: Date;
}

type Conn = Knex | Knex.Transaction;

/**
 * A user message for a project (cinder/message/api.py `create`). Without the request's id (a
 * worker or the scheduler acting long after the request) a fresh `req-<uuid>` stands in.
 */
export async function recordUserMessage(
  db: Conn,
  m: {
    projectId: string;
    action: MessageField;
    detail: MessageField;
    resourceType?: MessageResourceType;
    resourceUuid?: string | null;
    requestId?: string | null;
    level?: MessageLevel;
  },
): Promise<MessageRow> {
  const resourceType = m.resourceType ?? MessageResourceType.VOLUME;
  const rows = (await db("messages")
    .insert({
      id: randomUUID(),
      project_id: m.projectId,
      // Cinder records the id of the request at work, so the message leads to its log lines.
      request_id: m.requestId ?? currentRequestIds()?.requestId ?? newRequestId(),
      resource_type: resourceType,
      resource_uuid: m.resourceUuid ?? null,
      event_id: `VOLUME_${resourceType}_${m.action.id}_${m.detail.id}`,
      action_id: m.action.id,
      detail_id: m.detail.id,
      message_level: m.level ?? MessageLevel.ERROR,
    })
    .returning("*")) as MessageRow[];
  return rows[0]!;
}

/** Messages younger than `ttlSecs`: older ones are expired even before the reaper removes them. */
function live(db: Conn, ttlSecs: number): Knex.QueryBuilder {
  return db("messages").where("created_at", ">", db.raw("now() - make_interval(secs => ?)", [ttlSecs]));
}

export interface MessageFilter {
  projectId?: string;
  resourceUuid?: string;
  resourceType?: string;
  eventId?: string;
  requestId?: string;
  messageLevel?: string;
}

export async function listMessages(
  db: Conn,
  ttlSecs: number,
  f: MessageFilter & { limit?: number; markerCreatedAt?: Date; markerId?: string; ascending?: boolean },
): Promise<MessageRow[]> {
  const dir = f.ascending ? "asc" : "desc";
  const qb = live(db, ttlSecs).orderBy([
    { column: "created_at", order: dir },
    { column: "id", order: dir },
  ]);
  for (const [col, v] of [
    ["project_id", f.projectId],
    ["resource_uuid", f.resourceUuid],
    ["resource_type", f.resourceType],
    ["event_id", f.eventId],
    ["request_id", f.requestId],
    ["message_level", f.messageLevel],
  ] as const) {
    if (v !== undefined) {
      qb.where(col, v);
    }
  }
  if (f.markerCreatedAt && f.markerId) {
    const op = f.ascending ? ">" : "<";
    qb.whereRaw(`(created_at, id) ${op} (?, ?)`, [f.markerCreatedAt, f.markerId]);
  }
  if (f.limit !== undefined) {
    qb.limit(f.limit);
  }
  return (await qb) as MessageRow[];
}

export async function getMessage(db: Conn, ttlSecs: number, id: string): Promise<MessageRow | undefined> {
  if (!isUuid(id)) {
    return undefined;
  }
  return (await live(db, ttlSecs).where({ id }).first()) as MessageRow | undefined;
}

export async function deleteMessage(db: Conn, id: string): Promise<void> {
  await db("messages").where({ id }).delete("id");
}

/** Remove expired messages (Cinder's cleanup_expired_messages); how many went. */
export async function reapExpiredMessages(db: Conn, ttlSecs: number): Promise<number> {
  const gone = (await db("messages")
    .where("created_at", "<=", db.raw("now() - make_interval(secs => ?)", [ttlSecs]))
    .delete("id")) as unknown[];
  return gone.length;
}
