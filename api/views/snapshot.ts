/**
 * The snapshot view (cinder/api/views/snapshots.py, cinder/api/v3/views/snapshots.py, and the
 * os-extended-snapshot-attributes extension on show/detail).
 */
import type { SnapshotRow } from "../../db/snapshots";
import type { RequestContext } from "../context";
import { cinderTime } from "./common";

/** GET /snapshots items (Cinder's summary, also the base of every other form). */
export function snapshotSummary(s: SnapshotRow): Record<string, unknown> {
  return {
    id: s.id,
    created_at: cinderTime(s.created_at),
    updated_at: cinderTime(s.updated_at),
    name: s.name,
    description: s.description,
    volume_id: s.volume_id,
    status: s.status,
    size: s.volume_size,
    metadata: s.metadata ?? {},
  };
}

/** POST /snapshots: the v3 detail fields, without the extension attributes. */
export function snapshotCore(s: SnapshotRow, c: RequestContext): Record<string, unknown> {
  const out = snapshotSummary(s);
  if (c.apiVersion.matches("3.14")) {
    out["group_snapshot_id"] = null;
  }
  if (c.apiVersion.matches("3.41")) {
    out["user_id"] = s.user_id;
  }
  if (c.apiVersion.matches("3.65")) {
    out["consumes_quota"] = true;
  }
  return out;
}

/** GET /snapshots/{id} and /snapshots/detail. */
export function snapshotDetail(s: SnapshotRow, c: RequestContext): Record<string, unknown> {
  return {
    ...snapshotCore(s, c),
    // Cinder writes '0%' at creation; tempest requires a string.
    "os-extended-snapshot-attributes:progress": s.progress ?? "0%",
    "os-extended-snapshot-attributes:project_id": s.project_id,
  };
}
