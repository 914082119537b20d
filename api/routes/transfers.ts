/**
 * Volume transfers under both names: os-volume-transfer (cinder/api/contrib/volume_transfer.py,
 * create without `no_snapshots` at every version) and volume-transfers (cinder/api/v3/
 * volume_transfer.py, `no_snapshots` from 3.55). List, detail, create, show, accept, delete.
 */
import { type Request, type Response, Router } from "express";

import type { TransferApi } from "../../services/volumeApi/transferApi";
import { ctx, jsonBody } from "../context";
import { toBool } from "../schemas/parameterTypes";
import {
  validateAcceptTransfer,
  validateCreateTransfer,
  validateCreateTransfer355,
} from "../schemas/transfers";
import { transferCreated, transferDetail, transferSummary } from "../views/transfer";
import { param, queryParams } from "./params";

const COLLECTIONS = ["os-volume-transfer", "volume-transfers"] as const;

export function transfersRouter(transfers: TransferApi): Router {
  const r = Router();
  for (const collection of COLLECTIONS) {
    const base = `/${collection}`;

    r.get(base, async (req: Request, res: Response) => {
      const c = ctx(req);
      const list = await transfers.list(c, queryParams(req));
      res.json({ transfers: list.map((t) => transferSummary(t, c)) });
    });

    r.get(`${base}/detail`, async (req: Request, res: Response) => {
      const c = ctx(req);
      const list = await transfers.list(c, queryParams(req));
      res.json({ transfers: list.map((t) => transferDetail(t, c)) });
    });

    r.post(base, async (req: Request, res: Response) => {
      const c = ctx(req);
      const body = jsonBody(req) ?? {};
      const v355 = collection === "volume-transfers" && c.apiVersion.matches("3.55");
      (v355 ? validateCreateTransfer355 : validateCreateTransfer)(body);
      const t = (body as { transfer: Record<string, unknown> }).transfer;
      const created = await transfers.create(c, {
        volumeId: String(t["volume_id"]),
        name: typeof t["name"] === "string" ? t["name"].trim() : null,
        noSnapshots: toBool(t["no_snapshots"], false),
      });
      res.status(202).json({ transfer: transferCreated(created, c) });
    });

    r.get(`${base}/:id`, async (req: Request, res: Response) => {
      const c = ctx(req);
      res.json({ transfer: transferDetail(await transfers.get(c, param(req, "id")), c) });
    });

    r.post(`${base}/:id/accept`, async (req: Request, res: Response) => {
      const c = ctx(req);
      const body = jsonBody(req) ?? {};
      validateAcceptTransfer(body);
      const key = String((body as { accept: { auth_key: string | number } }).accept.auth_key);
      const accepted = await transfers.accept(c, param(req, "id"), key);
      res.status(202).json({ transfer: transferSummary(accepted, c) });
    });

    r.delete(`${base}/:id`, async (req: Request, res: Response) => {
      await transfers.delete(ctx(req), param(req, "id"));
      res.status(202).end();
    });
  }
  return r;
}
