/**
 * os-volume-manage (adopt an existing backend object), manageable_volumes (3.8+; also the legacy
 * GET /os-volume-manage) and the os-unmanage volume action, which this router answers before the
 * volume action table sees it (cinder/api/contrib/volume_manage.py, volume_unmanage.py).
 */
import { type NextFunction, type Request, type Response, Router } from "express";

import { InvalidInput, NotFound } from "../../common/errors";
import type { ManageableVolume } from "../../services/rpc/methods";
import type { ManageApi } from "../../services/volumeApi/manageApi";
import type { VolumeApi } from "../../services/volumeApi/volumeApi";
import { ctx, jsonBody, type RequestContext } from "../context";
import { validateManageVolume } from "../schemas/manage";
import { toBool } from "../schemas/parameterTypes";
import { volumeDetail } from "../views/volume";
import { cleanText, isObject, metadataOf, param, query } from "./params";

function summary(m: ManageableVolume): Record<string, unknown> {
  return { reference: m.reference, size: m.size, safe_to_manage: m.safe_to_manage };
}

export function manageRouter(manage: ManageApi, volumes: VolumeApi): Router {
  const r = Router();

  r.post("/os-volume-manage", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateManageVolume(body);
    const v = (body as { volume: Record<string, unknown> }).volume;
    if (typeof v["host"] !== "string" || v["host"] === "") {
      throw new InvalidInput("Host field is missing.");
    }
    const { volume, type } = await manage.manage(c, {
      host: v["host"],
      ref: v["ref"],
      name: cleanText(v["name"]) || null,
      description: cleanText(v["description"]) || null,
      volumeType: typeof v["volume_type"] === "string" && v["volume_type"] !== "" ? v["volume_type"] : null,
      availabilityZone: typeof v["availability_zone"] === "string" ? v["availability_zone"] : null,
      metadata: metadataOf(v["metadata"]),
      bootable: toBool(v["bootable"]),
    });
    res.status(202).json({ volume: volumeDetail({ volume, type, attachments: [] }, c) });
  });

  const list = (detail: boolean, minVersion?: string) => async (req: Request, res: Response) => {
    const c = ctx(req);
    if (minVersion && !c.apiVersion.matches(minVersion)) {
      throw new NotFound(`API version ${c.apiVersion.toString()} is not supported on this method.`);
    }
    const found = await manage.manageable(c, {
      host: query(req, "host"),
      limit: query(req, "limit"),
      offset: query(req, "offset"),
      marker: query(req, "marker"),
      sort:
        query(req, "sort") ??
        (query(req, "sort_key") ? `${query(req, "sort_key")}:${query(req, "sort_dir") ?? "asc"}` : undefined),
    });
    res.json({ "manageable-volumes": detail ? found : found.map(summary) });
  };
  r.get("/manageable_volumes", list(false, "3.8"));
  r.get("/manageable_volumes/detail", list(true, "3.8"));
  r.get("/os-volume-manage", list(false));
  r.get("/os-volume-manage/detail", list(true));

  // os-unmanage: {"os-unmanage": null}; any other action goes on to the action table.
  r.post("/volumes/:id/action", async (req: Request, res: Response, next: NextFunction) => {
    let body: unknown;
    try {
      body = jsonBody(req);
    } catch {
      next();
      return;
    }
    if (!isObject(body) || Object.keys(body).length !== 1 || !("os-unmanage" in body)) {
      next();
      return;
    }
    const c: RequestContext = ctx(req);
    await manage.unmanage(c, await volumes.get(c, param(req, "id")));
    res.status(202).end();
  });

  return r;
}
