/**
 * `/v3/{project_id}/…` and `/v3/…` are the same API (cinderclient with noauth omits the project,
 * Cinder accepts both since 3.67). Any first segment that is not one of our collections is taken
 * as the project id and removed, so the routes are written once without it.
 */
import type { NextFunction, Request, Response } from "express";

import { setUrlProject } from "./context";

/** Top-level collections of the v3 API (Cinder's and ours); anything else is a project id. */
export const COLLECTIONS: ReadonlySet<string> = new Set([
  "volumes",
  "snapshots",
  "types",
  "scheduler-stats",
  "os-services",
  "os-hosts",
  "clusters",
  "migrations",
  "evacuations",
  "events",
  "attachments",
  "backups",
  "messages",
  "limits",
  "extensions",
  "groups",
  "group_types",
  "group_snapshots",
  "qos-specs",
  "workers",
  "resource_filters",
  "default-types",
  "os-availability-zone",
  "os-quota-sets",
  "os-volume-transfer",
  "volume-transfers",
  "consistencygroups",
  "cgsnapshots",
  "manageable_volumes",
  "manageable_snapshots",
  "os-quota-class-sets",
  "os-volume-manage",
  "os-snapshot-manage",
  "capabilities",
]);

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // A malformed %-escape is not a project anyone has; keep it verbatim (the caller check fails).
    return s;
  }
}

export function stripProjectId(req: Request, _res: Response, next: NextFunction): void {
  const q = req.url.indexOf("?");
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? "" : req.url.slice(q);
  const segs = path.split("/");
  const first = segs[1];
  if (first && !COLLECTIONS.has(first)) {
    setUrlProject(req, decodeSegment(first));
    req.url = `/${segs.slice(2).join("/")}${query}`;
  } else {
    setUrlProject(req, null);
  }
  next();
}
