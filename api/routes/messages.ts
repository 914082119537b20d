/**
 * /messages (cinder/api/v3/messages.py): list, show, delete from microversion 3.3; list filters,
 * limit and marker from 3.5 (MESSAGES_PAGINATION).
 */
import { type Request, type Response, Router } from "express";

import { NotFound } from "../../common/errors";
import type { MessageApi } from "../../services/volumeApi/messageApi";
import { ctx, type RequestContext } from "../context";
import { messageView } from "../views/message";
import { param, query } from "./params";

const MESSAGES = "3.3";
const MESSAGES_PAGINATION = "3.5";

/** Below 3.3 the method does not exist (Cinder's VersionNotFoundForAPIMethod, a 404). */
function requireMessages(c: RequestContext): void {
  if (!c.apiVersion.matches(MESSAGES)) {
    throw new NotFound(`API version ${c.apiVersion.toString()} is not supported on this method.`);
  }
}

export function messagesRouter(messages: MessageApi): Router {
  const r = Router();

  r.get("/messages", async (req: Request, res: Response) => {
    const c = ctx(req);
    requireMessages(c);
    const paged = c.apiVersion.matches(MESSAGES_PAGINATION);
    const sort = query(req, "sort") ?? "";
    const list = await messages.list(
      c,
      paged
        ? {
            limit: query(req, "limit"),
            marker: query(req, "marker"),
            ascending: /(^|,)\s*created_at:asc/.test(sort) || query(req, "sort_dir") === "asc",
            resourceUuid: query(req, "resource_uuid"),
            resourceType: query(req, "resource_type"),
            eventId: query(req, "event_id"),
            requestId: query(req, "request_id"),
            messageLevel: query(req, "message_level"),
            projectId: query(req, "project_id"),
          }
        : {},
    );
    res.json({ messages: list.map((m) => messageView(m, messages.expiresAt(m), c)) });
  });

  r.get("/messages/:id", async (req: Request, res: Response) => {
    const c = ctx(req);
    requireMessages(c);
    const m = await messages.get(c, param(req, "id"));
    res.json({ message: messageView(m, messages.expiresAt(m), c) });
  });

  r.delete("/messages/:id", async (req: Request, res: Response) => {
    const c = ctx(req);
    requireMessages(c);
    await messages.delete(c, param(req, "id"));
    res.status(204).end();
  });

  return r;
}
