/**
 * GET /volumes/summary (Cinder's get_volume_summary, 3.12): how many volumes the caller's project
 * has and their total size, and from 3.36 every metadata key with its distinct values. Admins
 * summarise every project with `all_tenants`.
 */
import { listVolumes } from "../../db/volumes";
import type { Caller } from "./caller";
import { boolParam, type VolumeApiOptions } from "./lookup";
import { userMetadata } from "./volumeState";

export interface VolumeSummary {
  totalCount: number;
  totalSize: number;
  /** Key → its distinct values, in the order first seen. */
  metadata: Record<string, string[]>;
}

export async function volumeSummary(
  o: VolumeApiOptions,
  caller: Caller,
  allTenants: string | undefined,
): Promise<VolumeSummary> {
  const all = caller.isAdmin && boolParam("all_tenants", allTenants);
  // Migration temp volumes are the service's, not the project's: they count nowhere (as in quotas).
  const rows = await listVolumes(o.db, {
    projectId: all ? undefined : caller.projectId,
    hideMigrationTargets: true,
  });
  const metadata: Record<string, string[]> = {};
  // User metadata only: readonly and attached_mode are admin metadata in Cinder.
  for (const v of rows) {
    for (const [k, value] of Object.entries(userMetadata(v.metadata))) {
      const seen = (metadata[k] ??= []);
      if (!seen.includes(value)) {
        seen.push(value);
      }
    }
  }
  return {
    totalCount: rows.length,
    totalSize: rows.reduce((sum, v) => sum + v.size, 0),
    metadata,
  };
}
