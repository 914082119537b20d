/**
 * /disk-drains (beyond Cinder, admin only, issue 16): drain a physical volume of an LVM backend
 * with pvmove while its volumes stay in use. Create, list (?backend=, ?status=), show, and the
 * action os-cancel on POST /disk-drains/{id}/action. As for evacuations, a body is validated
 * against its schema before the policy check.
 */
import { type Request, type Response, Router } from "express";

import { InvalidInput, MalformedRequestBody, NoSuchAction } from "../../common/errors";
import { DISK_DRAIN_STATUSES, type DiskDrainStatus } from "../../common/states";
import type { CreateDiskDrainRequest, DiskDrainApi } from "../../services/diskDrain/api";
import { ctx, jsonBody } from "../context";
import { validateCancelDiskDrain, validateCreateDiskDrain } from "../schemas/diskDrains";
import { diskDrainView } from "../views/diskDrain";
import { isObject, param, query } from "./params";

export function diskDrainsRouter(drains: DiskDrainApi): Router {
  const r = Router();

  r.post("/disk-drains", async (req: Request, res: Response) => {
    const body = jsonBody(req) ?? {};
    validateCreateDiskDrain(body);
    const row = await drains.create(ctx(req), (body as { disk_drain: CreateDiskDrainRequest }).disk_drain);
    res.status(202).json({ disk_drain: diskDrainView(row) });
  });

  r.get("/disk-drains", async (req: Request, res: Response) => {
    const status = query(req, "status");
    if (status !== undefined && !(DISK_DRAIN_STATUSES as readonly string[]).includes(status)) {
      throw new InvalidInput(`status must be one of ${DISK_DRAIN_STATUSES.join(", ")}`);
    }
    const list = await drains.list(ctx(req), {
      backend: query(req, "backend"),
      status: status as DiskDrainStatus | undefined,
    });
    res.json({ disk_drains: list.map(diskDrainView) });
  });

  r.get("/disk-drains/:id", async (req: Request, res: Response) => {
    res.json({ disk_drain: diskDrainView(await drains.get(ctx(req), param(req, "id"))) });
  });

  r.post("/disk-drains/:id/action", async (req: Request, res: Response) => {
    const body = jsonBody(req);
    if (!isObject(body) || Object.keys(body).length !== 1) {
      throw new MalformedRequestBody();
    }
    const name = Object.keys(body)[0]!;
    if (name !== "os-cancel") {
      throw new NoSuchAction(name);
    }
    validateCancelDiskDrain(body);
    await drains.cancel(ctx(req), param(req, "id"));
    res.status(202).end();
  });

  return r;
}
