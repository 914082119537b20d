/** /snapshots: list, detail, create, show, delete (cinder/api/v3/snapshots.py). */
import { type Request, type Response, Router } from "express";

import { BadRequest } from "../../services/volumeApi/badRequest";
import type { SnapshotApi } from "../../services/volumeApi/snapshotApi";
import { ctx, jsonBody } from "../context";
import { toBool } from "../schemas/parameterTypes";
import { validateCreateSnapshot } from "../schemas/snapshots";
import { nextLink } from "../views/common";
import { snapshotCore, snapshotDetail, snapshotSummary } from "../views/snapshot";
import { cleanText, metadataOf, param, queryParams } from "./params";
import { snapshotMetadataRouter } from "./snapshotMetadata";

/** SNAPSHOT_IN_USE: from 3.66 in-use volumes may be snapshotted without `force`. */
const SNAPSHOT_IN_USE = "3.66";
const FORCE_FLAG_INVALID =
  `Since microversion ${SNAPSHOT_IN_USE} the 'force' flag is invalid for this request.  For backward ` +
  "compatability, however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored.";

export function snapshotsRouter(snapshots: SnapshotApi): Router {
  const r = Router();
  r.use(snapshotMetadataRouter(snapshots));

  /** Filters and paging from the query, with the next-page link when the page is full. */
  const page = async (req: Request, detail: boolean): Promise<Record<string, unknown>> => {
    const c = ctx(req);
    const q = queryParams(req);
    const { rows, paging } = await snapshots.listPage(c, {
      ...q,
      allTenants: q["all_tenants"],
      volumeId: q["volume_id"],
      name: q["name"] ?? q["display_name"],
      status: q["status"],
    });
    const body: Record<string, unknown> = {
      snapshots: detail ? rows.map((s) => snapshotDetail(s, c)) : rows.map(snapshotSummary),
    };
    if (paging.limit !== undefined && rows.length === paging.limit && rows.length > 0) {
      const collection = detail ? "snapshots/detail" : "snapshots";
      body["snapshots_links"] = [
        { href: nextLink(c, collection, q, rows[rows.length - 1]!.id), rel: "next" },
      ];
    }
    return body;
  };

  r.get("/snapshots", async (req: Request, res: Response) => {
    res.json(await page(req, false));
  });

  r.get("/snapshots/detail", async (req: Request, res: Response) => {
    res.json(await page(req, true));
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
