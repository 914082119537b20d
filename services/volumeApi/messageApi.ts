/**
 * User messages (cinder/api/v3/messages.py, 3.3+): what failed after a 2xx answer, readable by
 * the owning project (admins read every project's), kept message_ttl seconds. Members read and
 * delete their project's messages; another project's message does not exist for them.
 */
import { NotFound } from "../../common/errors";
import {
  deleteMessage,
  getMessage,
  listMessages,
  type MessageFilter,
  type MessageRow,
} from "../../db/messages";
import { BadRequest } from "./badRequest";
import type { Caller } from "./caller";
import type { VolumeApiOptions } from "./lookup";

export interface ListMessagesRequest extends MessageFilter {
  limit?: string;
  marker?: string;
  /** `created_at:asc` style (Cinder's sort, created_at only) or sort_dir. */
  ascending?: boolean;
}

export class MessageApi {
  constructor(private readonly o: VolumeApiOptions) {}

  private get ttl(): number {
    return this.o.config.messages.ttlSecs;
  }

  async list(caller: Caller, r: ListMessagesRequest): Promise<MessageRow[]> {
    let limit: number | undefined;
    if (r.limit !== undefined) {
      limit = Number(r.limit);
      if (!/^\d+$/.test(r.limit.trim())) {
        throw new BadRequest("limit param must be an integer");
      }
    }
    let marker: MessageRow | undefined;
    if (r.marker !== undefined) {
      marker = await this.visible(caller, r.marker).catch(() => undefined);
      if (!marker) {
        throw new BadRequest(`Marker ${r.marker} could not be found.`);
      }
    }
    return listMessages(this.o.db, this.ttl, {
      ...r,
      projectId: caller.isAdmin ? r.projectId : caller.projectId,
      limit,
      markerCreatedAt: marker?.created_at,
      markerId: marker?.id,
    });
  }

  get(caller: Caller, id: string): Promise<MessageRow> {
    return this.visible(caller, id);
  }

  async delete(caller: Caller, id: string): Promise<void> {
    await this.visible(caller, id);
    await deleteMessage(this.o.db, id);
  }

  /** The time a message is kept until (Cinder's expires_at, shown as guaranteed_until). */
  expiresAt(m: MessageRow): Date {
    return new Date(new Date(m.created_at).getTime() + this.ttl * 1000);
  }

  private async visible(caller: Caller, id: string): Promise<MessageRow> {
    const m = await getMessage(this.o.db, this.ttl, id);
    if (!m || (!caller.isAdmin && m.project_id !== caller.projectId)) {
      throw new NotFound(`Message ${id} could not be found.`);
    }
    return m;
  }
}
