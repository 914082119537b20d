/** /snapshots: list, detail, create, show, delete (cinder/api/v3/snapshots.py). */
import { type Request, type Response, Router } from "express";

import { BadRequest } from "../../services/volumeApi/badRequest";
import type { SnapshotApi } from "../../services/volumeApi/snapshotApi";
import { ctx, jsonBody } from "../context";
import { toBool } from "../schemas/parameterTypes";
import { validateCreateSnapshot } from "../schemas/snapshots";
import { snapshotCore, snapshotDetail, snapshotSummary } from "../views/snapshot";
import { cleanText, metadataOf, param, query } from "./params";

/** SNAPSHOT_IN_USE: from 3.66 in-use volumes may be snapshotted without `force`. */
const SNAPSHOT_IN_USE = "3.66";
const FORCE_FLAG_INVALID =
  `Since microversion ${SNAPSHOT_IN_USE} the 'force' flag is invalid for this request.  For backward ` +
  "compatability, however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored.";

export function snapshotsRouter(snapshots: SnapshotApi): Router {
  const r = Router();

  r.get("/snapshots", async (req: Request, res: Response) => {
    const c = ctx(req);
    const rows = await snapshots.list(c, {
      allTenants: query(req, "all_tenants"),
      volumeId: query(req, "volume_id"),
    });
    res.json({ snapshots: rows.map(snapshotSummary) });
  });

  r.get("/snapshots/detail", async (req: Request, res: Response) => {
    const c = ctx(req);
    const rows = await snapshots.list(c, {
      allTenants: query(req, "all_tenants"),
      volumeId: query(req, "volume_id"),
    });
    res.json({ snapshots: rows.map((s) => snapshotDetail(s, c)) });
  });

  r.post("/snapshots", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateCreateSnapshot(body);
    const s = (body as { snapshot: Record<string, unknown> }).snapshot;
    const inUseVersion = c.apiVersion.matches(SNAPSHOT_IN_USE);
    const forceGiven = s["force"] !== undefined && s["force"] !== null;
    const force = toBool(s["force"]);
    if (forceGiven && inUseVersion && !force) {
      throw new BadRequest(FORCE_FLAG_INVALID);
    }
    const created = await snapshots.create(c, {
      volumeId: String(s["volume_id"]),
      name: cleanText("name" in s ? s["name"] : s["display_name"]),
      description: cleanText(s["description"]),
      metadata: metadataOf(s["metadata"]),
      allowInUse: force || inUseVersion,
    });
    res.status(202).json({ snapshot: snapshotCore(created, c) });
  });

  r.get("/snapshots/:id", async (req: Request, res: Response) => {
    const c = ctx(req);
    res.json({ snapshot: snapshotDetail(await snapshots.get(c, param(req, "id")), c) });
  });

  r.delete("/snapshots/:id", async (req: Request, res: Response) => {
    await snapshots.delete(ctx(req), param(req, "id"));
    res.status(202).end();
  });

  return r;
}
