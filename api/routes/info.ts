/** os-availability-zone, extensions and capabilities/{host}. */
import { type Request, type Response, Router } from "express";

import { EXTENSIONS, type InfoApi } from "../../services/volumeApi/infoApi";
import { ctx } from "../context";
import { param } from "./params";

export function infoRouter(info: InfoApi): Router {
  const r = Router();

  r.get("/os-availability-zone", async (req: Request, res: Response) => {
    ctx(req);
    const zones = await info.availabilityZones();
    res.json({
      availabilityZoneInfo: zones.map((z) => ({ zoneName: z.name, zoneState: { available: z.available } })),
    });
  });

  r.get("/extensions", (req: Request, res: Response) => {
    ctx(req);
    res.json({ extensions: EXTENSIONS.map((e) => ({ ...e, links: [] })) });
  });

  r.get("/capabilities/:host", async (req: Request, res: Response) => {
    res.json(await info.capabilities(ctx(req), param(req, "host")));
  });

  return r;
}
