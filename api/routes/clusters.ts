/**
 * /clusters, /clusters/detail and /clusters/{name} (cinder/api/v3/clusters.py), admin only, from
 * microversion 3.7; below it Cinder answers as if the resource did not exist.
 */
import { type NextFunction, type Request, type Response, Router } from "express";

import type { DiscoveryApi } from "../../services/volumeApi/discoveryApi";
import { ctx, type RequestContext } from "../context";
import { clusterDetail, clusterSummary } from "../views/cluster";
import { param, query } from "./params";

/** CLUSTER_SUPPORT */
const CLUSTERS = "3.7";
/** REPLICATION_CLUSTER: replication fields and filters. */
const REPLICATION = "3.26";

function filters(req: Request): Record<string, string> {
  return Object.fromEntries(
    Object.keys(req.query).flatMap((k) => {
      const v = query(req, k);
      return v === undefined ? [] : [[k, v]];
    }),
  );
}

export function clustersRouter(discovery: DiscoveryApi): Router {
  const r = Router();

  const versioned =
    (handler: (req: Request, res: Response, c: RequestContext) => Promise<void>) =>
    async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      const c = ctx(req);
      if (!c.apiVersion.matches(CLUSTERS)) {
        next();
        return;
      }
      await handler(req, res, c);
    };

  const list = (detail: boolean) =>
    versioned(async (req, res, c) => {
      const replication = c.apiVersion.matches(REPLICATION);
      const clusters = await discovery.clusters(c, filters(req), replication);
      const view = detail ? clusterDetail : clusterSummary;
      res.json({ clusters: clusters.map((cl) => view(cl, replication)) });
    });

  r.get("/clusters", list(false));
  r.get("/clusters/detail", list(true));
  r.get(
    "/clusters/:name",
    versioned(async (req, res, c) => {
      const cluster = await discovery.cluster(c, param(req, "name"), query(req, "binary"));
      res.json({ cluster: clusterDetail(cluster, c.apiVersion.matches(REPLICATION)) });
    }),
  );

  return r;
}
