/**
 * Snapshots as the API process handles them (cinder/volume/api.py `create_snapshot`,
 * `delete_snapshot`). Snapshots matter to migration: a volume with one cannot be migrated, and a
 * migrating or locked volume cannot get one.
 */
import { InvalidSnapshot, InvalidVolume, NotFound, SnapshotNotFound } from "../../common/errors";
import { IDLE_MIGRATION_STATUSES, SnapshotStatus, VolumeStatus } from "../../common/states";
import {
  insertSnapshot,
  listSnapshots,
  setSnapshotMetadata,
  type SnapshotRow,
  softDeleteSnapshot,
  updateSnapshotIf,
} from "../../db/snapshots";
import { getVolume, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { getVolumeType } from "../../db/volumeTypes";
import { VolumeRpc } from "../rpc/stubs";
import type { Caller } from "./caller";
import { boolParam, findSnapshot, findVolume, type VolumeApiOptions } from "./lookup";
import { cutPage, type Paging, type PagingParams, parsePaging } from "./paging";
import { QuotaEngine, snapshotDeltas } from "./quotas";
import { isMigrating } from "./volumeState";

export interface CreateSnapshotRequest {
  volumeId: string;
  name: string | null;
  description: string | null;
  metadata: Record<string, string>;
  /** `force` (or microversion ≥ 3.66): an in-use volume may be snapshotted. */
  allowInUse: boolean;
}

export interface ListSnapshotsRequest extends PagingParams {
  allTenants?: string;
  volumeId?: string;
  name?: string;
  status?: string;
}

/** Sort keys of the snapshot list (`display_name` and `name` are the name). */
const SNAPSHOT_SORT_COLUMNS: Readonly<Record<string, string>> = {
  id: "id",
  name: "name",
  display_name: "name",
  status: "status",
  created_at: "created_at",
  updated_at: "updated_at",
  volume_id: "volume_id",
  volume_size: "volume_size",
  project_id: "project_id",
};

/** Cinder's `_create_snapshot_in_db_validate` and status check, with its exact messages. */
function checkSnapshottable(v: VolumeRow, valid: VolumeStatus[]): void {
  if (!v.host) {
    throw new InvalidVolume(
      "The snapshot cannot be created because volume has not been scheduled to any host.",
    );
  }
  if (v.status === VolumeStatus.MAINTENANCE) {
    throw new InvalidVolume("The snapshot cannot be created when the volume is in maintenance mode.");
  }
  if (isMigrating(v)) {
    throw new InvalidVolume("Snapshot cannot be created while volume is migrating.");
  }
  if (v.status === VolumeStatus.ERROR) {
    throw new InvalidVolume("The snapshot cannot be created when the volume is in error status.");
  }
  if (!valid.includes(v.status)) {
    throw new InvalidVolume(
      `Volume ${v.id} status must be ${valid.join(", ")}, but current status is: ${v.status}.`,
    );
  }
}

function snapshotMetadataNotFound(id: string, key: string): NotFound {
  return new NotFound(`Snapshot ${id} has no metadata with key ${key}.`);
}

export class SnapshotApi {
  constructor(private readonly o: VolumeApiOptions) {}

  get(caller: Caller, id: string): Promise<SnapshotRow> {
    return findSnapshot(this.o.db, caller, id);
  }

  /**
   * /snapshots/{id}/metadata (cinder/api/v3/snapshot_metadata.py): merge (create, update one
   * item), replace (update_all) or delete one key; no status restricts it. The metadata after.
   */
  async changeMetadata(
    caller: Caller,
    id: string,
    change: { kind: "merge" | "replace"; metadata: Record<string, string> } | { kind: "delete"; key: string },
  ): Promise<Record<string, string>> {
    const snapshot = await this.get(caller, id);
    let next: Record<string, string>;
    if (change.kind === "delete") {
      if (!Object.hasOwn(snapshot.metadata ?? {}, change.key)) {
        throw snapshotMetadataNotFound(id, change.key);
      }
      next = { ...snapshot.metadata };
      delete next[change.key];
    } else {
      next = change.kind === "replace" ? change.metadata : { ...snapshot.metadata, ...change.metadata };
    }
    const row = await setSnapshotMetadata(this.o.db, id, next);
    if (!row) {
      throw new SnapshotNotFound(id);
    }
    return row.metadata;
  }

  async metadataItem(caller: Caller, id: string, key: string): Promise<string> {
    const metadata = (await this.get(caller, id)).metadata ?? {};
    if (!Object.hasOwn(metadata, key)) {
      throw snapshotMetadataNotFound(id, key);
    }
    return metadata[key]!;
  }

  /** Filters (name, status, volume_id), sort, marker, offset and limit. */
  async listPage(caller: Caller, r: ListSnapshotsRequest): Promise<{ rows: SnapshotRow[]; paging: Paging }> {
    const paging = parsePaging(r, SNAPSHOT_SORT_COLUMNS);
    const allTenants = caller.isAdmin && boolParam("all_tenants", r.allTenants);
    const rows = await listSnapshots(this.o.db, {
      projectId: allTenants ? undefined : caller.projectId,
      volumeId: r.volumeId,
      name: r.name,
      status: r.status,
      sort: paging.sort,
    });
    if (paging.marker !== undefined) {
      await this.get(caller, paging.marker);
    }
    return { rows: cutPage(rows, paging), paging };
  }

  list(caller: Caller, r: ListSnapshotsRequest): Promise<SnapshotRow[]> {
    const allTenants = caller.isAdmin && boolParam("all_tenants", r.allTenants);
    return listSnapshots(this.o.db, {
      projectId: allTenants ? undefined : caller.projectId,
      volumeId: r.volumeId,
    });
  }

  async create(caller: Caller, r: CreateSnapshotRequest): Promise<SnapshotRow> {
    const volume = await findVolume(this.o.db, caller, r.volumeId);
    const valid = r.allowInUse ? [VolumeStatus.AVAILABLE, VolumeStatus.IN_USE] : [VolumeStatus.AVAILABLE];
    checkSnapshottable(volume, valid);
    const type = volume.volume_type_id ? await getVolumeType(this.o.db, volume.volume_type_id) : undefined;
    const snapshot = await this.o.db.transaction(async (trx) => {
      // The quota lock first (every quota-checked change takes it before any row lock).
      await new QuotaEngine(this.o).reserve(
        trx,
        caller.projectId,
        "snapshots",
        snapshotDeltas(type, volume.size),
        volume.size,
      );
      // Re-assert the preconditions on the row itself: this CAS (it only touches updated_at) locks
      // the volume row, so a concurrent os-migrate_volume either sees our snapshot or makes us fail.
      const locked = await updateVolumeIf(
        trx,
        volume.id,
        {},
        { status: valid, migration_status: IDLE_MIGRATION_STATUSES, migration_target_of: null },
      );
      if (!locked) {
        const now = await getVolume(trx, volume.id);
        checkSnapshottable(now ?? volume, valid);
        throw new InvalidVolume(`Volume ${volume.id} status must be ${valid.join(", ")}.`);
      }
      return insertSnapshot(trx, {
        volume_id: volume.id,
        name: r.name,
        description: r.description,
        status: SnapshotStatus.CREATING,
        volume_size: volume.size,
        project_id: caller.projectId,
        user_id: caller.userId,
        metadata: r.metadata,
      });
    });
    await new VolumeRpc(this.o.bus).createSnapshot(volume.host!, { snapshot_id: snapshot.id });
    return snapshot;
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const snapshot = await this.get(caller, id);
    const owner = await getVolume(this.o.db, snapshot.volume_id);
    if (owner && isMigrating(owner)) {
      // Only a volume moving with its snapshots (migrate_volumes_with_snapshots) can have any.
      throw new InvalidSnapshot("Snapshot cannot be deleted while its volume is migrating.");
    }
    const row = await updateSnapshotIf(
      this.o.db,
      id,
      { status: SnapshotStatus.DELETING },
      { status: [SnapshotStatus.AVAILABLE, SnapshotStatus.ERROR] },
    );
    if (!row) {
      throw new InvalidSnapshot(
        "Snapshot status must be available or error and must not be part of a group.",
      );
    }
    const volume = await getVolume(this.o.db, snapshot.volume_id);
    if (!volume?.host) {
      // No volume service holds its data (cannot normally happen: creation needs a host).
      await softDeleteSnapshot(this.o.db, id);
      return;
    }
    await new VolumeRpc(this.o.bus).deleteSnapshot(volume.host, { snapshot_id: id });
  }
}
