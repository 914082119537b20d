/** Admin discovery: scheduler-stats/get_pools, os-services (and enable/disable), os-hosts, clusters. */
import { type Request, type Response, Router } from "express";

import type { DiscoveryApi } from "../../services/volumeApi/discoveryApi";
import { ctx, jsonBody } from "../context";
import { validateDisableLogReason, validateEnableDisable } from "../schemas/services";
import { hostView, poolView, serviceView } from "../views/service";
import { clustersRouter } from "./clusters";
import { isObject, param, query } from "./params";

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

  r.put("/os-services/:action", async (req: Request, res: Response) => {
    const c = ctx(req);
    const action = param(req, "action");
    const body = jsonBody(req) ?? {};
    (action === "disable-log-reason" ? validateDisableLogReason : validateEnableDisable)(body);
    const b = isObject(body) ? body : {};
    const str = (k: string): string => (typeof b[k] === "string" ? b[k] : "");
    const service = str("service");
    const done = await discovery.updateService(c, action, {
      host: str("host"),
      binary: str("binary") || service,
      disabledReason: str("disabled_reason"),
    });
    res.json({
      host: done.host,
      service,
      binary: str("binary"),
      status: done.status,
      disabled: done.disabled,
      ...(done.disabledReason === undefined ? {} : { disabled_reason: done.disabledReason }),
    });
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
