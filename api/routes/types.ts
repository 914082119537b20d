/** /types: list, show, create, delete (cinder/api/v3/types.py, cinder/api/contrib/types_manage.py). */
import { type Request, type Response, Router } from "express";

import type { TypeApi } from "../../services/volumeApi/volumeTypeApi";
import { ctx, jsonBody } from "../context";
import { toBool } from "../schemas/parameterTypes";
import { validateCreateType } from "../schemas/types";
import { createdTypeView, typeView } from "../views/type";
import { isObject, param, query } from "./params";

export function typesRouter(types: TypeApi): Router {
  const r = Router();

  r.get("/types", async (req: Request, res: Response) => {
    const c = ctx(req);
    const list = await types.list(c, query(req, "is_public"));
    res.json({ volume_types: list.map((t) => typeView(t, c)) });
  });

  r.get("/types/:id", async (req: Request, res: Response) => {
    const c = ctx(req);
    res.json({ volume_type: typeView(await types.get(c, param(req, "id")), c) });
  });

  r.post("/types", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateCreateType(body);
    const t = (body as { volume_type: Record<string, unknown> }).volume_type;
    const created = await types.create(c, {
      name: String(t["name"]),
      description: typeof t["description"] === "string" ? t["description"] : null,
      extraSpecs: isObject(t["extra_specs"]) ? (t["extra_specs"] as Record<string, string | null>) : {},
      isPublic: toBool(t["os-volume-type-access:is_public"], true),
    });
    res.status(200).json({ volume_type: createdTypeView(created) });
  });

  r.delete("/types/:id", async (req: Request, res: Response) => {
    await types.delete(ctx(req), param(req, "id"));
    res.status(202).end();
  });

  return r;
}
