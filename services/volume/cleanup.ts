import { VolumeStatus } from "../../common/states";
import type { Db } from "../../db/connection";
import { updateVolumeIf } from "../../db/volumes";

/**
 * The service's own volumes (a migration's temp volume, a retired source: use_quota false) whose
 * delete failed, typically because their storage host was down. Nobody asked for them, so nobody
 * would retry: the worker does, every report interval, until the host is back. Each is moved
 * `error_deleting` → `deleting` (compare-and-swap, so two sweeps never delete one volume twice)
 * and returned for the worker to delete. A user's own failed delete stays for the admin, as in
 * Cinder.
 */
export async function failedInternalDeletes(db: Db, serviceHost: string): Promise<string[]> {
  const rows = (await db("volumes")
    .select("id")
    .where({ deleted: false, status: VolumeStatus.ERROR_DELETING, use_quota: false })
    .andWhere((w) => w.where("host", serviceHost).orWhere("host", "like", `${serviceHost}#%`))) as {
    id: string;
  }[];
  const ids: string[] = [];
  for (const { id } of rows) {
    if (
      await updateVolumeIf(db, id, { status: VolumeStatus.DELETING }, { status: VolumeStatus.ERROR_DELETING })
    ) {
      ids.push(id);
    }
  }
  return ids;
}
