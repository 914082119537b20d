/** /volumes: list, detail, create, show, update, delete (cinder/api/v3/volumes.py). */
import { type Request, type Response, Router } from "express";

import { NotFound, VolumeNotFound } from "../../common/errors";
import { BadRequest } from "../../services/volumeApi/badRequest";
import { AdminPolicy } from "../../services/volumeApi/caller";
import { boolParam } from "../../services/volumeApi/lookup";
import type { CreateVolumeRequest, UpdateVolumeRequest, VolumeApi } from "../../services/volumeApi/volumeApi";
import { ctx, jsonBody } from "../context";
import { validateCreateVolume, validateUpdateVolume } from "../schemas/volumes";
import { nextLink } from "../views/common";
import { volumeCore, volumeDetail, volumeSummary } from "../views/volume";
import { cleanText, metadataOf, param, queryParams } from "./params";
import { volumeMetadataRouter } from "./volumeMetadata";

/** Keys naming a source we cannot create volumes from yet, in the order Cinder looks them up. */
const UNSUPPORTED_SOURCES = ["consistencygroup_id", "group_id", "imageRef", "image_id", "backup_id"];

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
    sourceVolid: typeof v["source_volid"] === "string" && v["source_volid"] !== "" ? v["source_volid"] : null,
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

  /** Filters and paging from the query; the next-page link and, from 3.45, with_count's count. */
  const page = async (req: Request, detail: boolean): Promise<Record<string, unknown>> => {
    const c = ctx(req);
    const q = queryParams(req);
    const { rows, count, paging } = await volumes.listPage(c, {
      ...q,
      query: q,
      resourceFilters: c.apiVersion.matches("3.33"),
    });
    const body: Record<string, unknown> = {
      volumes: detail
        ? (await volumes.details(rows)).map((d) => volumeDetail(d, c))
        : rows.map((v) => volumeSummary(v, c)),
    };
    if (paging.limit !== undefined && rows.length === paging.limit && rows.length > 0) {
      const collection = detail ? "volumes/detail" : "volumes";
      body["volumes_links"] = [{ href: nextLink(c, collection, q, rows[rows.length - 1]!.id), rel: "next" }];
    }
    if (
      c.apiVersion.matches("3.45") &&
      q["with_count"] !== undefined &&
      boolParam("with_count", q["with_count"])
    ) {
      body["count"] = count;
    }
    return body;
  };

  r.get("/volumes", async (req: Request, res: Response) => {
    // `GET /volumes/` names a volume without an id: Cinder's router finds nothing (tempest checks).
    if (req.path.endsWith("/")) {
      throw new NotFound("The resource could not be found.");
    }
    res.json(await page(req, false));
  });

  r.get("/volumes/detail", async (req: Request, res: Response) => {
    res.json(await page(req, true));
  });

  // 3.12 (VOLUME_SUMMARY); metadata from 3.36. Below 3.12 Cinder routes "summary" as a volume id.
  r.get("/volumes/summary", async (req: Request, res: Response) => {
    const c = ctx(req);
    if (!c.apiVersion.matches("3.12")) {
      throw new VolumeNotFound("summary");
    }
    const s = await volumes.summary(c, queryParams(req)["all_tenants"]);
    res.json({
      "volume-summary": {
        total_size: s.totalSize,
        total_count: s.totalCount,
        ...(c.apiVersion.matches("3.36") ? { metadata: s.metadata } : {}),
      },
    });
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

  // `cascade` at any microversion, `force` from 3.23 (cinder/api/v3/volumes.py `delete`).
  r.delete("/volumes/:id", async (req: Request, res: Response) => {
    const c = ctx(req);
    const q = queryParams(req);
    const cascade = boolParam("cascade", q["cascade"]);
    const force = c.apiVersion.matches("3.23") && boolParam("force", q["force"]);
    await volumes.delete(c, param(req, "id"), {
      cascade,
      ...(force ? { force: AdminPolicy.VOLUME_FORCE_DELETE } : {}),
    });
    res.status(202).end();
  });

  return r;
}
