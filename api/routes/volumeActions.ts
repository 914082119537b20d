/**
 * POST /volumes/{id}/action: a single-key body naming the action (cinder/api/openstack/wsgi.py
 * `action_peek_json`). Each action validates its body against its schema for the request's
 * microversion BEFORE anything else, then hands over to the volume API, which looks the volume
 * up (404), checks the policy (403) and the preconditions. Cinder's answer is 202 with an empty
 * body unless the action says otherwise.
 */
import { type Request, type Response, Router } from "express";

import { MalformedRequestBody, NoSuchAction } from "../../common/errors";
import type { VolumeApi } from "../../services/volumeApi/volumeApi";
import { ctx, jsonBody } from "../context";
import { adminActions } from "./actions/admin";
import type { Action } from "./actions/types";
import { volumeActions } from "./actions/volume";
import { isObject, param } from "./params";

export function volumeActionsRouter(volumes: VolumeApi): Router {
  const r = Router();
  const table: Record<string, Action> = { ...adminActions(volumes), ...volumeActions(volumes) };

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
    const answer = await action(c, param(req, "id"), body);
    if (!answer) {
      res.status(202).end();
    } else if (answer.body === undefined) {
      res.status(answer.status).end();
    } else {
      res.status(answer.status).json(answer.body);
    }
  });

  return r;
}
