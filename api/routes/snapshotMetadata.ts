/** /snapshots/{id}/metadata (cinder/api/v3/snapshot_metadata.py): the user metadata of a snapshot. */
import { type Request, type Response, Router } from "express";

import { BadRequest } from "../../services/volumeApi/badRequest";
import type { SnapshotApi } from "../../services/volumeApi/snapshotApi";
import { ctx, jsonBody } from "../context";
import { validateMetadata, validateMetadataItem } from "../schemas/volumeMetadata";
import { metadataOf, param } from "./params";

export function snapshotMetadataRouter(snapshots: SnapshotApi): Router {
  const r = Router();

  r.get("/snapshots/:id/metadata", async (req: Request, res: Response) => {
    const s = await snapshots.get(ctx(req), param(req, "id"));
    res.json({ metadata: s.metadata ?? {} });
  });

  r.post("/snapshots/:id/metadata", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateMetadata(body);
    const metadata = metadataOf((body as { metadata: unknown }).metadata);
    res.json({ metadata: await snapshots.changeMetadata(c, param(req, "id"), { kind: "merge", metadata }) });
  });

  r.put("/snapshots/:id/metadata", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateMetadata(body);
    const metadata = metadataOf((body as { metadata: unknown }).metadata);
    res.json({
      metadata: await snapshots.changeMetadata(c, param(req, "id"), { kind: "replace", metadata }),
    });
  });

  r.get("/snapshots/:id/metadata/:key", async (req: Request, res: Response) => {
    const key = param(req, "key");
    res.json({ meta: { [key]: await snapshots.metadataItem(ctx(req), param(req, "id"), key) } });
  });

  r.put("/snapshots/:id/metadata/:key", async (req: Request, res: Response) => {
    const c = ctx(req);
    const key = param(req, "key");
    const body = jsonBody(req) ?? {};
    validateMetadataItem(body);
    const meta = metadataOf((body as { meta: unknown }).meta);
    if (!Object.hasOwn(meta, key)) {
      throw new BadRequest("Request body and URI mismatch");
    }
    await snapshots.changeMetadata(c, param(req, "id"), { kind: "merge", metadata: meta });
    res.json({ meta });
  });

  r.delete("/snapshots/:id/metadata/:key", async (req: Request, res: Response) => {
    await snapshots.changeMetadata(ctx(req), param(req, "id"), { kind: "delete", key: param(req, "key") });
    res.status(200).end();
  });

  return r;
}
