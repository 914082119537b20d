/** POST /snapshots/{id}/action: os-reset_status, os-force_delete, os-update_snapshot_status. */
import { type Request, type Response, Router } from "express";

import { SNAPSHOT_STATUSES, type SnapshotStatus } from "../../common/states";
import { BadRequest } from "../../services/volumeApi/badRequest";
import type { VolumeApiOptions } from "../../services/volumeApi/lookup";
import {
  forceDeleteSnapshot,
  resetSnapshotStatus,
  updateSnapshotStatus,
} from "../../services/volumeApi/snapshotActions";
import { ctx, jsonBody } from "../context";
import { compileSchema } from "../validation/validator";
import { param } from "./params";

// Cinder's parameter_types.snapshot_status: the statuses a snapshot row may hold.
const status = { type: "string", enum: SNAPSHOT_STATUSES.filter((s) => s !== "deleted") };

const validateReset = compileSchema({
  type: "object",
  properties: {
    "os-reset_status": {
      type: "object",
      properties: { status },
      required: ["status"],
      additionalProperties: false,
    },
  },
  required: ["os-reset_status"],
  additionalProperties: false,
});

const validateUpdate = compileSchema({
  type: "object",
  properties: {
    "os-update_snapshot_status": {
      type: "object",
      properties: {
        status,
        progress: { type: "string", pattern: "^(100|[0-9]{1,2})%$" },
      },
      required: ["status"],
      additionalProperties: false,
    },
  },
  required: ["os-update_snapshot_status"],
  additionalProperties: false,
});

const validateForceDelete = compileSchema({
  type: "object",
  properties: { "os-force_delete": {} },
  required: ["os-force_delete"],
  additionalProperties: false,
});

export function snapshotActionsRouter(o: VolumeApiOptions): Router {
  const r = Router();
  r.post("/snapshots/:id/action", async (req: Request, res: Response) => {
    const c = ctx(req);
    const id = param(req, "id");
    const body = (jsonBody(req) ?? {}) as Record<string, Record<string, string> | undefined>;
    if ("os-reset_status" in body) {
      validateReset(body);
      await resetSnapshotStatus(o, c, id, body["os-reset_status"]!["status"] as SnapshotStatus);
    } else if ("os-force_delete" in body) {
      validateForceDelete(body);
      await forceDeleteSnapshot(o, c, id);
    } else if ("os-update_snapshot_status" in body) {
      validateUpdate(body);
      const p = body["os-update_snapshot_status"]!;
      await updateSnapshotStatus(o, c, id, p["status"] as SnapshotStatus, p["progress"]);
    } else {
      throw new BadRequest("There is no such action");
    }
    res.status(202).end();
  });
  return r;
}
