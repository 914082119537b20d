/** /volumes: list, detail, create, show, update, delete (cinder/api/v3/volumes.py). */
import { type Request, type Response, Router } from "express";

import { BadRequest } from "../../services/volumeApi/badRequest";
import type { CreateVolumeRequest, UpdateVolumeRequest, VolumeApi } from "../../services/volumeApi/volumeApi";
import { ctx, jsonBody } from "../context";
import { validateCreateVolume, validateUpdateVolume } from "../schemas/volumes";
import { volumeCore, volumeDetail, volumeSummary } from "../views/volume";
import { cleanText, metadataOf, param, query } from "./params";
import { volumeMetadataRouter } from "./volumeMetadata";

/** Keys naming a source we cannot create volumes from yet, in the order Cinder looks them up. */
const UNSUPPORTED_SOURCES = [
  "source_volid",
  "consistencygroup_id",
  "group_id",
  "imageRef",
  "image_id",
  "backup_id",
];

const MULTIATTACH_REMOVED =
  "multiattach parameter has been removed. The default behavior is to use multiattach enabled volume " +
  "types. Contact your administrator to create a multiattach enabled volume type and use it to create " +
  "multiattach volumes.";

/** The validated `volume` object as the volume API wants it (name wins over display_name). */
function createRequest(v: Record<string, unknown>): CreateVolumeRequest {
  const size = v["size"];
  const multiattach = v["multiattach"];
  if (
    multiattach === true ||
    (typeof multiattach === "string" && /^(1|t|true|on|y|yes)$/i.test(multiattach))
  ) {
    throw new BadRequest(MULTIATTACH_REMOVED);
  }
  return {
    size: typeof size === "string" ? Number(size) : typeof size === "number" ? size : null,
    name: cleanText("name" in v ? v["name"] : v["display_name"]),
    description: cleanText("description" in v ? v["description"] : v["display_description"]),
    volumeType: typeof v["volume_type"] === "string" && v["volume_type"] !== "" ? v["volume_type"] : null,
    metadata: metadataOf(v["metadata"]),
    availabilityZone: typeof v["availability_zone"] === "string" ? v["availability_zone"] : null,
    snapshotId: typeof v["snapshot_id"] === "string" && v["snapshot_id"] !== "" ? v["snapshot_id"] : null,
    unsupportedSource:
      UNSUPPORTED_SOURCES.find((k) => v[k] !== undefined && v[k] !== null && v[k] !== "") ?? null,
  };
}

/** The validated `volume` of PUT /volumes/{id}; `name` wins over `display_name`, as in Cinder. */
function updateRequest(v: Record<string, unknown>): UpdateVolumeRequest {
  const r: UpdateVolumeRequest = {};
  for (const [field, legacy] of [
    ["name", "display_name"],
    ["description", "display_description"],
  ] as const) {
    const key = field in v ? field : legacy in v ? legacy : undefined;
    if (key !== undefined) {
      r[field] = cleanText(v[key]);
    }
  }
  if ("metadata" in v) {
    r.metadata = metadataOf(v["metadata"]);
  }
  return r;
}

export function volumesRouter(volumes: VolumeApi): Router {
  const r = Router();
  r.use(volumeMetadataRouter(volumes));

  r.get("/volumes", async (req: Request, res: Response) => {
    const c = ctx(req);
    const rows = await volumes.list(c, {
      allTenants: query(req, "all_tenants"),
      name: query(req, "name"),
      status: query(req, "status"),
    });
    res.json({ volumes: rows.map((v) => volumeSummary(v, c)) });
  });

  r.get("/volumes/detail", async (req: Request, res: Response) => {
    const c = ctx(req);
    const rows = await volumes.list(c, {
      allTenants: query(req, "all_tenants"),
      name: query(req, "name"),
      status: query(req, "status"),
    });
    const details = await volumes.details(rows);
    res.json({ volumes: details.map((d) => volumeDetail(d, c)) });
  });

  r.post("/volumes", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateCreateVolume(body, c.apiVersion);
    const created = await volumes.create(
      c,
      createRequest((body as { volume: Record<string, unknown> }).volume),
    );
    // The create response has no extension attributes (tempest rejects os-vol-* keys here).
    res.status(202).json({ volume: volumeCore(created, c) });
  });

  r.get("/volumes/:id", async (req: Request, res: Response) => {
    const c = ctx(req);
    res.json({ volume: volumeDetail(await volumes.show(c, param(req, "id")), c) });
  });

  // 200 with the volume, without the extension attributes (tempest's update_volume schema).
  r.put("/volumes/:id", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateUpdateVolume(body, c.apiVersion);
    const update = updateRequest((body as { volume: Record<string, unknown> }).volume);
    res.json({ volume: volumeCore(await volumes.update(c, param(req, "id"), update), c) });
  });

  r.delete("/volumes/:id", async (req: Request, res: Response) => {
    await volumes.delete(ctx(req), param(req, "id"));
    res.status(202).end();
  });

  return r;
}
