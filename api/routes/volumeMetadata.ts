/**
 * /volumes/{id}/metadata (cinder/api/v3/volume_metadata.py): the user metadata of a volume. All
 * answers are 200. From 3.15 the collection carries an ETag and PUT honours If-Match (412 when
 * the metadata changed meanwhile); cinderclient's `metadata … unset` relies on it.
 */
import { createHash } from "node:crypto";

import { type Request, type Response, Router } from "express";

import { BadRequest } from "../../services/volumeApi/badRequest";
import type { VolumeApi } from "../../services/volumeApi/volumeApi";
import { ctx, jsonBody, type RequestContext } from "../context";
import { validateMetadata, validateMetadataItem } from "../schemas/volumeMetadata";
import { metadataOf, param } from "./params";

/** ETAGS: metadata ETags and If-Match from 3.15. */
const ETAGS = "3.15";

/** Python's json.dumps (", " and ": " separators, non-ASCII escaped), as Cinder hashes it. */
function pyJsonString(s: string): string {
  return JSON.stringify(s).replace(
    /[\u0080-\uffff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export function metadataEtag(metadata: Record<string, string>): string {
  const items = Object.entries(metadata).map(([k, v]) => `${pyJsonString(k)}: ${pyJsonString(v)}`);
  return createHash("md5")
    .update(`{"metadata": {${items.join(", ")}}}`, "utf8")
    .digest("hex");
}

/** The entity tags of an If-Match header, or undefined when absent or `*` (webob's AnyETag). */
function ifMatch(req: Request): string[] | undefined {
  const header = req.get("if-match");
  if (!header || header.trim() === "*") {
    return undefined;
  }
  return header.split(",").map((t) =>
    t
      .trim()
      .replace(/^W\//, "")
      .replace(/^"(.*)"$/, "$1"),
  );
}

export function volumeMetadataRouter(volumes: VolumeApi): Router {
  const r = Router();

  /** Cinder's `_validate_etag`, from 3.15: false when If-Match names another version. */
  const etagMatches = async (req: Request, c: RequestContext, id: string): Promise<boolean> => {
    const tags = c.apiVersion.matches(ETAGS) ? ifMatch(req) : undefined;
    return tags === undefined || tags.includes(metadataEtag(await volumes.metadata(c, id)));
  };

  r.get("/volumes/:id/metadata", async (req: Request, res: Response) => {
    const c = ctx(req);
    const metadata = await volumes.metadata(c, param(req, "id"));
    if (c.apiVersion.matches(ETAGS)) {
      res.setHeader("ETag", metadataEtag(metadata));
    }
    res.json({ metadata });
  });

  r.post("/volumes/:id/metadata", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateMetadata(body);
    const metadata = metadataOf((body as { metadata: unknown }).metadata);
    res.json({ metadata: await volumes.changeMetadata(c, param(req, "id"), { kind: "merge", metadata }) });
  });

  r.put("/volumes/:id/metadata", async (req: Request, res: Response) => {
    const c = ctx(req);
    const id = param(req, "id");
    const body = jsonBody(req) ?? {};
    validateMetadata(body);
    if (!(await etagMatches(req, c, id))) {
      res.status(412).end();
      return;
    }
    const metadata = metadataOf((body as { metadata: unknown }).metadata);
    res.json({ metadata: await volumes.changeMetadata(c, id, { kind: "replace", metadata }) });
  });

  r.get("/volumes/:id/metadata/:key", async (req: Request, res: Response) => {
    const c = ctx(req);
    const key = param(req, "key");
    res.json({ meta: { [key]: await volumes.metadataItem(c, param(req, "id"), key) } });
  });

  r.put("/volumes/:id/metadata/:key", async (req: Request, res: Response) => {
    const c = ctx(req);
    const id = param(req, "id");
    const key = param(req, "key");
    const body = jsonBody(req) ?? {};
    validateMetadataItem(body);
    if (!(await etagMatches(req, c, id))) {
      res.status(412).end();
      return;
    }
    const meta = metadataOf((body as { meta: unknown }).meta);
    if (!Object.hasOwn(meta, key)) {
      throw new BadRequest("Request body and URI mismatch");
    }
    await volumes.changeMetadata(c, id, { kind: "merge", metadata: meta });
    res.json({ meta });
  });

  r.delete("/volumes/:id/metadata/:key", async (req: Request, res: Response) => {
    const c = ctx(req);
    await volumes.changeMetadata(c, param(req, "id"), { kind: "delete", key: param(req, "key") });
    res.status(200).end();
  });

  return r;
}
