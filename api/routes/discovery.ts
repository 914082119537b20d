/** Admin discovery: scheduler-stats/get_pools, os-services, os-hosts, clusters. */
import { type Request, type Response, Router } from "express";

import type { DiscoveryApi } from "../../services/volumeApi/discoveryApi";
import { ctx } from "../context";
import { hostView, poolView, serviceView } from "../views/service";
import { clustersRouter } from "./clusters";
import { param, query } from "./params";

/** POOL_FILTER: get_pools honours filters (we support `name`) from 3.28. */
const POOL_FILTER = "3.28";

export function discoveryRouter(discovery: DiscoveryApi): Router {
  const r = Router();

  r.get("/scheduler-stats/get_pools", async (req: Request, res: Response) => {
    const c = ctx(req);
    const name = c.apiVersion.matches(POOL_FILTER) ? query(req, "name") : undefined;
    const { detail, pools } = await discovery.pools(c, { detail: query(req, "detail"), name });
    res.json({ pools: pools.map((p) => poolView(p, detail)) });
  });

  r.get("/os-services", async (req: Request, res: Response) => {
    const c = ctx(req);
    const { services, backendStates } = await discovery.services(c, {
      host: query(req, "host"),
      binary: query(req, "binary"),
    });
    res.json({ services: services.map((s) => serviceView(s, backendStates, c)) });
  });

  r.get("/os-hosts", async (req: Request, res: Response) => {
    const c = ctx(req);
    const hosts = await discovery.hosts(c, query(req, "zone"));
    res.json({ hosts: hosts.map(hostView) });
  });

  r.get("/os-hosts/:host", async (req: Request, res: Response) => {
    const c = ctx(req);
    const resources = await discovery.hostResources(c, param(req, "host"));
    res.json({ host: resources.map((resource) => ({ resource })) });
  });

  r.use(clustersRouter(discovery));

  return r;
}
