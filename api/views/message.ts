/** The user message view (cinder/api/v3/views/messages.py). */
import { userMessage } from "../../common/messageFields";
import type { MessageRow } from "../../db/messages";
import type { RequestContext } from "../context";
import { cinderTime, resourceLinks } from "./common";

export function messageView(m: MessageRow, expiresAt: Date, c: RequestContext): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: m.id,
    event_id: m.event_id,
    user_message: userMessage(m.action_id, m.detail_id),
    message_level: m.message_level,
    created_at: cinderTime(m.created_at),
    guaranteed_until: cinderTime(expiresAt),
    request_id: m.request_id,
    links: resourceLinks(c, "messages", m.id),
  };
  if (m.resource_type) {
    out["resource_type"] = m.resource_type;
  }
  if (m.resource_uuid) {
    out["resource_uuid"] = m.resource_uuid;
  }
  return out;
}
