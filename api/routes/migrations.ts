/**
 * /migrations (beyond Cinder, admin only): list with filters, show, and the actions `cancel` and
 * `set_bandwidth_limit` on POST /migrations/{id}/action. As for volume actions, the body must
 * hold exactly one action and is validated against its schema before the policy check.
 */
import { type Request, type Response, Router } from "express";

import { MalformedRequestBody, NoSuchAction } from "../../common/errors";
import type { MigrationApi } from "../../services/volumeApi/migrationApi";
import { ctx, jsonBody, type RequestContext } from "../context";
import { validateCancel, validateSetBandwidthLimit } from "../schemas/migrations";
import { migrationView } from "../views/migration";
import { isObject, param, query } from "./params";

type MigrationAction = (c: RequestContext, id: string, body: Record<string, unknown>) => Promise<void>;

export function migrationsRouter(migrations: MigrationApi): Router {
  const r = Router();
  const actions: Record<string, MigrationAction> = {
    cancel: async (c, id, body) => {
      validateCancel(body);
      await migrations.cancel(c, id);
    },
    set_bandwidth_limit: async (c, id, body) => {
      validateSetBandwidthLimit(body);
      const bps = (body["set_bandwidth_limit"] as { bps: number | null }).bps;
      await migrations.setBandwidthLimit(c, id, bps);
    },
  };

  r.get("/migrations", async (req: Request, res: Response) => {
    const list = await migrations.list(ctx(req), {
      volume_id: query(req, "volume_id"),
      state: query(req, "state"),
      active: query(req, "active"),
    });
    res.json({ migrations: list.map(migrationView) });
  });

  r.get("/migrations/:id", async (req: Request, res: Response) => {
    res.json({ migration: migrationView(await migrations.get(ctx(req), param(req, "id"))) });
  });

  r.post("/migrations/:id/action", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req);
    if (!isObject(body) || Object.keys(body).length !== 1) {
      throw new MalformedRequestBody();
    }
    const name = Object.keys(body)[0]!;
    const action = Object.hasOwn(actions, name) ? actions[name] : undefined;
    if (!action) {
      throw new NoSuchAction(name);
    }
    await action(c, param(req, "id"), body);
    res.status(202).end();
  });

  return r;
}
