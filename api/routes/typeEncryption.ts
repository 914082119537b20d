/**
 * /types/{id}/encryption (cinder/api/contrib/volume_type_encryption.py): show, create, one item,
 * update and delete (the last two name any id after /encryption/: Cinder ignores it). Bodies are
 * validated before the policy check, as in Cinder; create and update answer with the body.
 */
import { type Request, type Response, Router } from "express";

import { CONTROL_LOCATIONS } from "../../common/states";
import type { EncryptionSpecs } from "../../db/volumeTypeEncryption";
import { BadRequest } from "../../services/volumeApi/badRequest";
import type { TypeEncryptionApi } from "../../services/volumeApi/typeEncryption";
import { ctx, jsonBody } from "../context";
import { DB_MAX_INT, validateCreateEncryption, validateUpdateEncryption } from "../schemas/typeEncryption";
import { cinderTime } from "../views/common";
import { encryptionView } from "../views/typeEncryption";
import { param } from "./params";

type Body = { encryption: Record<string, unknown> };

/**
 * The stored fields of a validated body; `key_size` as an integer (Cinder's int()). A string out
 * of range passes Cinder's schema (minimum and maximum apply to numbers) and is refused here as a
 * number is, rather than reaching the integer column.
 */
function specsOf(e: Record<string, unknown>): EncryptionSpecs {
  const specs: EncryptionSpecs = {};
  if (typeof e["provider"] === "string") {
    specs.provider = e["provider"];
  }
  const location = CONTROL_LOCATIONS.find((l) => l === e["control_location"]);
  if (location) {
    specs.control_location = location;
  }
  if ("cipher" in e) {
    specs.cipher = typeof e["cipher"] === "string" ? e["cipher"] : null;
  }
  if ("key_size" in e) {
    const n = e["key_size"] === null ? null : Number(e["key_size"]);
    const value = `Invalid input for field/attribute key_size. Value: ${String(e["key_size"])}.`;
    if (n !== null && n < 0) {
      throw new BadRequest(`${value} ${n} is less than the minimum of 0`);
    }
    if (n !== null && n > DB_MAX_INT) {
      throw new BadRequest(`${value} ${n} is greater than the maximum of ${DB_MAX_INT}`);
    }
    specs.key_size = n;
  }
  return specs;
}

/** The request's `encryption` with key_size made an integer, as Cinder returns it. */
function echo(e: Record<string, unknown>, specs: EncryptionSpecs): Record<string, unknown> {
  return "key_size" in specs ? { ...e, key_size: specs.key_size } : { ...e };
}

export function typeEncryptionRouter(encryption: TypeEncryptionApi): Router {
  const r = Router();

  r.get("/types/:id/encryption", async (req: Request, res: Response) => {
    res.json(encryptionView(await encryption.show(ctx(req), param(req, "id"))));
  });

  r.post("/types/:id/encryption", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateCreateEncryption(body);
    const e = (body as Body).encryption;
    const specs = specsOf(e);
    const row = await encryption.create(c, param(req, "id"), {
      ...specs,
      provider: specs.provider!,
      control_location: specs.control_location!,
    });
    res.json({
      encryption: { ...echo(e, specs), volume_type_id: row.volume_type_id, encryption_id: row.encryption_id },
    });
  });

  r.get("/types/:id/encryption/:key", async (req: Request, res: Response) => {
    const key = param(req, "key");
    const row = await encryption.showItem(ctx(req), param(req, "id"), key);
    const value = (row as unknown as Record<string, unknown>)[key];
    res.json({ [key]: value instanceof Date ? cinderTime(value) : value });
  });

  r.put("/types/:id/encryption/:key", async (req: Request, res: Response) => {
    const c = ctx(req);
    const body = jsonBody(req) ?? {};
    validateUpdateEncryption(body);
    const e = (body as Body).encryption;
    const specs = specsOf(e);
    await encryption.update(c, param(req, "id"), specs);
    res.json({ encryption: echo(e, specs) });
  });

  r.delete("/types/:id/encryption/:key", async (req: Request, res: Response) => {
    await encryption.delete(ctx(req), param(req, "id"));
    res.status(202).end();
  });

  return r;
}
