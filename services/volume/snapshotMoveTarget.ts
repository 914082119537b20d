/**
 * The destination worker's side of a volume moving with its snapshots (flows/snapshots.ts runs on
 * the source's worker): snapshot the temp volume, remove such a snapshot, tell where one's bytes
 * are. The objects are named after the name id the source chose (snapshot_name_template %
 * name_id), never after a snapshot row's own name, so nothing here can touch the source's objects.
 */
import { DriverError, VolumeNotFound } from "../../common/errors";
import { backendOf } from "../../common/hosts";
import { getSnapshot } from "../../db/snapshots";
import { getVolume } from "../../db/volumes";
import type { DriverSnapshot, VolumeDriver } from "../../drivers/types";
import type { MigrationSnapshotRef, VolumeSnapshotMoveMethods } from "../rpc/methods";
import { toRpcHandlers } from "../rpc/typed";
import type { RpcHandlers } from "../rpc/types";
import type { VolumeManagerDeps } from "./deps";
import { driverVolume } from "./driverViews";

type Deps = Pick<VolumeManagerDeps, "db" | "config" | "backend" | "driver">;

export function snapshotMoveHandlers(deps: Deps): RpcHandlers {
  return toRpcHandlers<VolumeSnapshotMoveMethods>({
    create_migration_snapshot: (a) => createMigrationSnapshot(deps, a.volume_id, a),
    delete_migration_snapshot: async (a) => deps.driver.deleteSnapshot(await target(deps, a)),
    get_snapshot_copy_endpoint: async (a) => endpointOf(deps.driver)(await target(deps, a)),
  });
}

async function createMigrationSnapshot(deps: Deps, tempId: string, ref: MigrationSnapshotRef): Promise<void> {
  const temp = await getVolume(deps.db, tempId);
  if (!temp?.host || backendOf(temp.host) !== deps.backend.serviceHost || !temp.migration_target_of) {
    throw new VolumeNotFound(tempId);
  }
  await deps.driver.createSnapshot(
    { ...(await target(deps, ref)), volumeId: temp.id },
    driverVolume(deps.config.volumeNameTemplate, temp),
  );
}

/** The destination object of a source snapshot: its size, the name the migration gave it. */
async function target(deps: Deps, ref: MigrationSnapshotRef): Promise<DriverSnapshot> {
  const snap = await getSnapshot(deps.db, ref.snapshot_id);
  if (!snap) {
    throw new DriverError(`snapshot ${ref.snapshot_id} is gone`);
  }
  return {
    id: snap.id,
    volumeId: snap.volume_id,
    name: deps.config.snapshotNameTemplate.replace("%s", ref.name_id),
    volumeSize: snap.volume_size,
  };
}

function endpointOf(driver: VolumeDriver): NonNullable<VolumeDriver["snapshotCopyEndpoint"]> {
  if (!driver.snapshotCopyEndpoint) {
    throw new DriverError("this backend's driver cannot move snapshots");
  }
  return (s) => driver.snapshotCopyEndpoint!(s);
}
