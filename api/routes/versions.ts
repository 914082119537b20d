/**
 * Version documents (cinder/api/versions.py). No microversion check here: cinderclient sends
 * `volume 3.70` on `GET /` whatever it will use later, and must always learn the range.
 */
import { type Request, type Response, Router } from "express";

import { MAX_API_VERSION, MIN_API_VERSION } from "../microversion";

export function versionDocument(req: Request): Record<string, unknown> {
  const base = `${req.protocol}://${req.get("host") ?? "localhost"}`;
  return {
    versions: [
      {
        id: "v3.0",
        status: "CURRENT",
        version: MAX_API_VERSION.toString(),
        min_version: MIN_API_VERSION.toString(),
        updated: "2023-08-31T00:00:00Z",
        links: [
          { rel: "describedby", type: "text/html", href: "https://docs.openstack.org/" },
          { rel: "self", href: `${base}/v3/` },
        ],
        "media-types": [
          { base: "application/json", type: "application/vnd.openstack.volume+json;version=3" },
        ],
      },
    ],
  };
}

export function versionsRouter(): Router {
  const r = Router();
  // 300 Multiple Choices at the root, as Cinder (tempest checks the status).
  r.get("/", (req: Request, res: Response) => {
    res.status(300).json(versionDocument(req));
  });
  r.get("/v3", (req: Request, res: Response) => {
    res.status(200).json(versionDocument(req));
  });
  return r;
}
