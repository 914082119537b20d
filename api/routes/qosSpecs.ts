/**
 * /qos-specs (cinder/api/contrib/qos_specs_manage.py): list, create, show, set keys (PUT),
 * delete_keys, delete, and the association actions, which Cinder exposes as GETs.
 */
import { type Request, type Response, Router } from "express";

import { boolParam } from "../../services/volumeApi/lookup";
import type { QosApi } from "../../services/volumeApi/qosApi";
import { ctx, jsonBody } from "../context";
import { validateCreateQos, validateSetQosKeys, validateUnsetQosKeys } from "../schemas/qosSpecs";
import { qosSpecsDetail, qosSpecsSummary } from "../views/qosSpecs";
import { param, query } from "./params";

export function qosSpecsRouter(qos: QosApi): Router {
  const r = Router();

  r.get("/qos-specs", async (req: Request, res: Response) => {
    res.json({ qos_specs: (await qos.list(ctx(req))).map(qosSpecsSummary) });
  });

  r.post("/qos-specs", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateCreateQos(body);
    const created = await qos.create(c, (body as { qos_specs: Record<string, unknown> }).qos_specs);
    res.json(qosSpecsDetail(created, c));
  });

  r.get("/qos-specs/:id", async (req: Request, res: Response) => {
    const c = ctx(req);
    res.json(qosSpecsDetail(await qos.get(c, param(req, "id")), c));
  });

  r.put("/qos-specs/:id", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateSetQosKeys(body);
    await qos.update(c, param(req, "id"), (body as { qos_specs: Record<string, string | null> }).qos_specs);
    res.json(body);
  });

  r.put("/qos-specs/:id/delete_keys", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateUnsetQosKeys(body);
    await qos.deleteKeys(c, param(req, "id"), (body as { keys: string[] }).keys);
    res.status(202).end();
  });

  r.delete("/qos-specs/:id", async (req: Request, res: Response) => {
    await qos.delete(ctx(req), param(req, "id"), boolParam("force", query(req, "force")));
    res.status(202).end();
  });

  r.get("/qos-specs/:id/associations", async (req: Request, res: Response) => {
    res.json({ qos_associations: await qos.associations(ctx(req), param(req, "id")) });
  });

  r.get("/qos-specs/:id/associate", async (req: Request, res: Response) => {
    await qos.associate(ctx(req), param(req, "id"), query(req, "vol_type_id"));
    res.status(202).end();
  });

  r.get("/qos-specs/:id/disassociate", async (req: Request, res: Response) => {
    await qos.disassociate(ctx(req), param(req, "id"), query(req, "vol_type_id"));
    res.status(202).end();
  });

  r.get("/qos-specs/:id/disassociate_all", async (req: Request, res: Response) => {
    await qos.disassociateAll(ctx(req), param(req, "id"));
    res.status(202).end();
  });

  return r;
}
