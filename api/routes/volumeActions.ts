/**
 * POST /volumes/{id}/action: a single-key body naming the action (cinder/api/openstack/wsgi.py
 * `action_peek_json`). Each action validates its body against its schema for the request's
 * microversion BEFORE anything else, then hands over to the volume API, which looks the volume
 * up (404), checks the policy (403) and the preconditions.
 */
import { type Request, type Response, Router } from "express";

import { MalformedRequestBody, NoSuchAction } from "../../services/common/errors";
import type { VolumeApi } from "../../services/volume/api";
import { ctx, jsonBody, type RequestContext } from "../context";
import { toBool } from "../schemas/parameterTypes";
import {
  MIGRATE_CLUSTER_VERSION,
  validateMigrateVolume,
  validateResetStatus,
} from "../schemas/volumeActions";
import { isObject, param } from "./params";

type Action = (c: RequestContext, id: string, body: Record<string, unknown>) => Promise<void>;

function actions(volumes: VolumeApi): Record<string, Action> {
  return {
    "os-migrate_volume": async (c, id, body) => {
      validateMigrateVolume(body, c.apiVersion);
      const p = body["os-migrate_volume"] as Record<string, unknown>;
      await volumes.migrate(c, id, {
        host: typeof p["host"] === "string" ? p["host"] : null,
        cluster: typeof p["cluster"] === "string" ? p["cluster"] : null,
        forceHostCopy: toBool(p["force_host_copy"]),
        lockVolume: toBool(p["lock_volume"]),
        clusterAllowed: c.apiVersion.matches(MIGRATE_CLUSTER_VERSION),
      });
    },
    "os-reset_status": async (c, id, body) => {
      validateResetStatus(body);
      const p = body["os-reset_status"] as Record<string, string | null | undefined>;
      await volumes.resetStatus(c, id, {
        status: p["status"],
        attachStatus: p["attach_status"],
        migrationStatus: p["migration_status"],
      });
    },
  };
}

export function volumeActionsRouter(volumes: VolumeApi): Router {
  const r = Router();
  const table = actions(volumes);

  r.post("/volumes/:id/action", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req);
    if (!isObject(body) || Object.keys(body).length !== 1) {
      throw new MalformedRequestBody();
    }
    const name = Object.keys(body)[0]!;
    const action = Object.hasOwn(table, name) ? table[name] : undefined;
    if (!action) {
      throw new NoSuchAction(name);
    }
    await action(c, param(req, "id"), body);
    res.status(202).end();
  });

  return r;
}
