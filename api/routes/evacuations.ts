/**
 * /evacuations (beyond Cinder, admin only): create (or plan, with dry_run), list, show, delete,
 * and the actions os-pause, os-resume, os-cancel and os-set_limits on
 * POST /evacuations/{id}/action. As for volume actions, a body is validated against its schema
 * before the policy check, and an action body holds exactly one action.
 */
import { type Request, type Response, Router } from "express";

import { MalformedRequestBody, NoSuchAction } from "../../common/errors";
import type { CreateEvacuationRequest, EvacuationLimits } from "../../services/evacuation/apiTypes";
import type { EvacuationApi } from "../../services/evacuation/evacuationApi";
import { ctx, jsonBody, type RequestContext } from "../context";
import {
  validateCancel,
  validateCreateEvacuation,
  validatePause,
  validateResume,
  validateSetLimits,
} from "../schemas/evacuations";
import { evacuationView } from "../views/evacuation";
import { isObject, param } from "./params";

type EvacuationAction = (c: RequestContext, id: string, body: Record<string, unknown>) => Promise<void>;

export function evacuationsRouter(evacuations: EvacuationApi): Router {
  const r = Router();
  const actions: Record<string, EvacuationAction> = {
    "os-pause": async (c, id, body) => {
      validatePause(body);
      await evacuations.pause(c, id);
    },
    "os-resume": async (c, id, body) => {
      validateResume(body);
      await evacuations.resume(c, id);
    },
    "os-cancel": async (c, id, body) => {
      validateCancel(body);
      await evacuations.cancel(c, id);
    },
    "os-set_limits": async (c, id, body) => {
      validateSetLimits(body);
      await evacuations.setLimits(c, id, body["os-set_limits"] as EvacuationLimits);
    },
  };

  r.post("/evacuations", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateCreateEvacuation(body);
    const info = await evacuations.create(c, (body as { evacuation: CreateEvacuationRequest }).evacuation);
    res.status(info.dryRun ? 200 : 202).json({ evacuation: evacuationView(info) });
  });

  r.get("/evacuations", async (req: Request, res: Response) => {
    const list = await evacuations.list(ctx(req));
    res.json({ evacuations: list.map((e) => evacuationView(e, false)) });
  });

  r.get("/evacuations/:id", async (req: Request, res: Response) => {
    res.json({ evacuation: evacuationView(await evacuations.get(ctx(req), param(req, "id"))) });
  });

  r.delete("/evacuations/:id", async (req: Request, res: Response) => {
    await evacuations.delete(ctx(req), param(req, "id"));
    res.status(204).end();
  });

  r.post("/evacuations/:id/action", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req);
    if (!isObject(body) || Object.keys(body).length !== 1) {
      throw new MalformedRequestBody();
    }
    const name = Object.keys(body)[0]!;
    const action = Object.hasOwn(actions, name) ? actions[name] : undefined;
    if (!action) {
      throw new NoSuchAction(name);
    }
    await action(c, param(req, "id"), body);
    res.status(202).end();
  });

  return r;
}
