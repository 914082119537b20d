/**
 * os-quota-sets (show with ?usage, defaults, update, delete), os-quota-class-sets (show, update)
 * and /limits (cinder/api/contrib/quotas.py, quota_classes.py, cinder/api/v3/limits.py).
 */
import { type Request, type Response, Router } from "express";

import { boolParam } from "../../services/volumeApi/lookup";
import type { QuotaApi } from "../../services/volumeApi/quotaApi";
import { ctx, jsonBody } from "../context";
import { validateUpdateQuotaClassSet, validateUpdateQuotaSet } from "../schemas/quotas";
import { param, query } from "./params";

export function quotasRouter(quotas: QuotaApi): Router {
  const r = Router();

  r.get("/os-quota-sets/:project/defaults", async (req: Request, res: Response) => {
    const project = param(req, "project");
    res.json({ quota_set: { ...(await quotas.defaults(ctx(req), project)), id: project } });
  });

  r.get("/os-quota-sets/:project", async (req: Request, res: Response) => {
    const c = ctx(req);
    const project = param(req, "project");
    const set = boolParam("usage", query(req, "usage"))
      ? await quotas.showUsage(c, project)
      : await quotas.show(c, project);
    res.json({ quota_set: { ...set, id: project } });
  });

  r.put("/os-quota-sets/:project", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateUpdateQuotaSet(body);
    const set = (body as { quota_set: Record<string, unknown> }).quota_set;
    res.json({ quota_set: await quotas.update(c, param(req, "project"), set) });
  });

  r.delete("/os-quota-sets/:project", async (req: Request, res: Response) => {
    await quotas.delete(ctx(req), param(req, "project"));
    res.status(200).end();
  });

  r.get("/os-quota-class-sets/:class", async (req: Request, res: Response) => {
    const name = param(req, "class");
    res.json({ quota_class_set: { ...(await quotas.showClass(ctx(req), name)), id: name } });
  });

  r.put("/os-quota-class-sets/:class", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateUpdateQuotaClassSet(body);
    const set = (body as { quota_class_set: Record<string, number | string> }).quota_class_set;
    res.json({ quota_class_set: await quotas.updateClass(c, param(req, "class"), set) });
  });

  r.get("/limits", async (req: Request, res: Response) => {
    const c = ctx(req);
    // Admins may name another project from 3.39 (LIMITS_ADMIN_FILTER).
    const project = c.apiVersion.matches("3.39")
      ? (query(req, "project_id") ?? query(req, "tenant_id"))
      : undefined;
    res.json({ limits: { rate: [], absolute: await quotas.absolute(c, project) } });
  });

  return r;
}
