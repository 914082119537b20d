/**
 * /types: list, show, create, update, delete, the type's extra specs and its access list
 * (cinder/api/v3/types.py, cinder/api/contrib/types_manage.py, types_extra_specs.py,
 * volume_type_access.py). Every body is validated before the policy check, as in Cinder.
 */
import { type Request, type Response, Router } from "express";

import { MalformedRequestBody, NoSuchAction } from "../../common/errors";
import type { TypeExtraSpecsApi } from "../../services/volumeApi/typeExtraSpecs";
import type { TypeApi } from "../../services/volumeApi/volumeTypeApi";
import { ctx, jsonBody } from "../context";
import { toBool } from "../schemas/parameterTypes";
import {
  validateAddProjectAccess,
  validateCreateExtraSpecs,
  validateCreateType,
  validateRemoveProjectAccess,
  validateUpdateExtraSpec,
  validateUpdateType,
} from "../schemas/types";
import { createdTypeView, typeView, updatedTypeView } from "../views/type";
import { isObject, param, query } from "./params";

type Specs = Record<string, string | null>;

export function typesRouter(types: TypeApi, specs: TypeExtraSpecsApi): Router {
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
      extraSpecs: isObject(t["extra_specs"]) ? (t["extra_specs"] as Specs) : {},
      isPublic: toBool(t["os-volume-type-access:is_public"], true),
    });
    res.status(200).json({ volume_type: createdTypeView(created) });
  });

  r.put("/types/:id", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateUpdateType(body);
    const t = (body as { volume_type: Record<string, unknown> }).volume_type;
    const updated = await types.update(c, param(req, "id"), {
      name: typeof t["name"] === "string" ? t["name"] : null,
      description: typeof t["description"] === "string" ? t["description"] : null,
      isPublic: t["is_public"] === undefined || t["is_public"] === null ? null : toBool(t["is_public"]),
    });
    res.json({ volume_type: updatedTypeView(updated) });
  });

  r.delete("/types/:id", async (req: Request, res: Response) => {
    await types.delete(ctx(req), param(req, "id"));
    res.status(202).end();
  });

  r.get("/types/:id/extra_specs", async (req: Request, res: Response) => {
    res.json({ extra_specs: await specs.list(ctx(req), param(req, "id")) });
  });

  // Cinder answers with the request body itself.
  r.post("/types/:id/extra_specs", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateCreateExtraSpecs(body);
    await specs.set(c, param(req, "id"), (body as { extra_specs: Specs }).extra_specs);
    res.json(body);
  });

  r.get("/types/:id/extra_specs/:key", async (req: Request, res: Response) => {
    const key = param(req, "key");
    res.json({ [key]: await specs.show(ctx(req), param(req, "id"), key) });
  });

  r.put("/types/:id/extra_specs/:key", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateUpdateExtraSpec(body);
    await specs.update(c, param(req, "id"), param(req, "key"), body as Specs);
    res.json(body);
  });

  r.delete("/types/:id/extra_specs/:key", async (req: Request, res: Response) => {
    await specs.delete(ctx(req), param(req, "id"), param(req, "key"));
    res.status(202).end();
  });

  r.get("/types/:id/os-volume-type-access", async (req: Request, res: Response) => {
    const id = param(req, "id");
    const projects = await types.accessList(ctx(req), id);
    res.json({ volume_type_access: projects.map((p) => ({ volume_type_id: id, project_id: p })) });
  });

  r.post("/types/:id/action", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req);
    if (!isObject(body) || Object.keys(body).length !== 1) {
      throw new MalformedRequestBody();
    }
    const name = Object.keys(body)[0]!;
    if (name === "addProjectAccess") {
      validateAddProjectAccess(body);
      await types.addAccess(c, param(req, "id"), String((body[name] as { project: string }).project));
    } else if (name === "removeProjectAccess") {
      validateRemoveProjectAccess(body);
      await types.removeAccess(c, param(req, "id"), String((body[name] as { project: string }).project));
    } else {
      throw new NoSuchAction(name);
    }
    res.status(202).end();
  });

  return r;
}
