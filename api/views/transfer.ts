/**
 * Volume transfers as Cinder shows them (cinder/api/views/transfers.py): links always name the
 * os-volume-transfer collection; `no_snapshots` from 3.55, the history fields from 3.57.
 */
import type { TransferRow } from "../../db/transfers";
import type { CreatedTransfer } from "../../services/volumeApi/transferApi";
import type { RequestContext } from "../context";
import { cinderTime, resourceLinks } from "./common";

const COLLECTION = "os-volume-transfer";

export function transferSummary(t: TransferRow, c: RequestContext): Record<string, unknown> {
  return {
    id: t.id,
    volume_id: t.volume_id,
    name: t.display_name,
    links: resourceLinks(c, COLLECTION, t.id),
  };
}

function byVersion(t: TransferRow, c: RequestContext): Record<string, unknown> {
  return {
    ...(c.apiVersion.matches("3.55") ? { no_snapshots: t.no_snapshots } : {}),
    ...(c.apiVersion.matches("3.57")
      ? {
          destination_project_id: t.destination_project_id,
          source_project_id: t.source_project_id,
          accepted: t.accepted,
        }
      : {}),
  };
}

export function transferDetail(t: TransferRow, c: RequestContext): Record<string, unknown> {
  return {
    id: t.id,
    created_at: cinderTime(t.created_at),
    name: t.display_name,
    volume_id: t.volume_id,
    links: resourceLinks(c, COLLECTION, t.id),
    ...byVersion(t, c),
  };
}

export function transferCreated(t: CreatedTransfer, c: RequestContext): Record<string, unknown> {
  return {
    id: t.id,
    created_at: cinderTime(t.created_at),
    name: t.display_name,
    volume_id: t.volume_id,
    auth_key: t.auth_key,
    links: resourceLinks(c, COLLECTION, t.id),
    ...byVersion(t, c),
  };
}
