/**
 * /attachments (cinder/api/v3/attachments.py): list, detail list, show, create, update, delete
 * from 3.27 (NEW_ATTACH), the os-complete action from 3.44.
 */
import { type Request, type Response, Router } from "express";

import { MalformedRequestBody, NoSuchAction, NotFound } from "../../common/errors";
import type { AttachmentApi, Connector } from "../../services/volumeApi/attachmentApi";
import { ctx, jsonBody, type RequestContext } from "../context";
import {
  validateCompleteAttachment,
  validateCreateAttachment,
  validateUpdateAttachment,
} from "../schemas/attachments";
import { attachmentDetail, attachmentSummary } from "../views/attachment";
import { isObject, param, query } from "./params";

function since(c: RequestContext, version: string): void {
  if (!c.apiVersion.matches(version)) {
    throw new NotFound(`API version ${c.apiVersion.toString()} is not supported on this method.`);
  }
}

export function attachmentsRouter(attachments: AttachmentApi): Router {
  const r = Router();

  const list = (detail: boolean) => async (req: Request, res: Response) => {
    const c = ctx(req);
    since(c, "3.27");
    const rows = await attachments.list(c, {
      allTenants: query(req, "all_tenants"),
      volumeId: query(req, "volume_id"),
      status: query(req, "status") ?? query(req, "attach_status"),
      instanceId: query(req, "instance_id"),
    });
    res.json({ attachments: rows.map(detail ? attachmentDetail : attachmentSummary) });
  };
  r.get("/attachments", list(false));
  r.get("/attachments/detail", list(true));

  r.get("/attachments/:id", async (req: Request, res: Response) => {
    const c = ctx(req);
    since(c, "3.27");
    res.json({ attachment: attachmentDetail(await attachments.get(c, param(req, "id"))) });
  });

  r.post("/attachments", async (req: Request, res: Response) => {
    const c = ctx(req);
    since(c, "3.27");
    const body = jsonBody(req) ?? {};
    validateCreateAttachment(body, c.apiVersion);
    const a = (body as { attachment: Record<string, unknown> }).attachment;
    const created = await attachments.create(c, {
      volumeId: String(a["volume_uuid"]),
      instanceUuid: typeof a["instance_uuid"] === "string" ? a["instance_uuid"] : null,
      connector: isObject(a["connector"]) ? (a["connector"] as Connector) : null,
      mode: a["mode"] === "rw" || a["mode"] === "ro" ? a["mode"] : "null",
    });
    res.json({ attachment: attachmentDetail(created) });
  });

  r.put("/attachments/:id", async (req: Request, res: Response) => {
    const c = ctx(req);
    since(c, "3.27");
    const body = jsonBody(req) ?? {};
    validateUpdateAttachment(body);
    const connector = (body as { attachment: { connector: Connector } }).attachment.connector;
    res.json({ attachment: attachmentDetail(await attachments.update(c, param(req, "id"), connector)) });
  });

  r.delete("/attachments/:id", async (req: Request, res: Response) => {
    const c = ctx(req);
    since(c, "3.27");
    const remaining = await attachments.delete(c, param(req, "id"));
    res.json({ attachments: remaining.map(attachmentSummary) });
  });

  r.post("/attachments/:id/action", async (req: Request, res: Response) => {
    const c = ctx(req);
    since(c, "3.44");
    const body = jsonBody(req);
    if (!isObject(body) || Object.keys(body).length !== 1) {
      throw new MalformedRequestBody();
    }
    const name = Object.keys(body)[0]!;
    if (name !== "os-complete") {
      throw new NoSuchAction(name);
    }
    validateCompleteAttachment(body);
    await attachments.complete(c, param(req, "id"));
    res.status(204).end();
  });

  return r;
}
