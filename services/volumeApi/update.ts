/**
 * Changes to a volume's own fields (cinder/volume/api.py `update`, `update_readonly_flag`, the
 * volume metadata calls): PUT /volumes/{id}, os-set_bootable, os-update_readonly_flag and
 * /volumes/{id}/metadata. Each runs on the locked row and writes by compare-and-swap against the
 * status it checked, so a concurrent lock_volume migration cannot slip in between.
 */
import type { Knex } from "knex";

import { InvalidVolume, NotFound, VolumeNotFound } from "../../common/errors";
import { VolumeStatus } from "../../common/states";
import { lockVolume, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import type { VolumeApiOptions } from "./lookup";
import { adminMetadata, userMetadata } from "./volumeState";

export interface UpdateVolumeRequest {
  /** undefined: unchanged. */
  name?: string | null;
  description?: string | null;
  /** Replaces the user metadata. */
  metadata?: Record<string, string>;
  bootable?: boolean;
}

/** Statuses in which Cinder refuses user metadata changes. */
const METADATA_FROZEN: VolumeStatus[] = [VolumeStatus.MAINTENANCE, VolumeStatus.UPLOADING];

async function onLockedRow<T>(
  o: VolumeApiOptions,
  id: string,
  fn: (trx: Knex.Transaction, v: VolumeRow) => Promise<T>,
): Promise<T> {
  return o.db.transaction(async (trx) => {
    const v = await lockVolume(trx, id);
    if (!v) {
      throw new VolumeNotFound(id);
    }
    return fn(trx, v);
  });
}

async function save(trx: Knex.Transaction, v: VolumeRow, values: Partial<VolumeRow>): Promise<VolumeRow> {
  const row = await updateVolumeIf(trx, v.id, values, { status: v.status });
  if (!row) {
    throw new VolumeNotFound(v.id);
  }
  return row;
}

/** PUT /volumes/{id} and os-set_bootable (Cinder's `update`): refused in maintenance. */
export function updateVolume(o: VolumeApiOptions, id: string, r: UpdateVolumeRequest): Promise<VolumeRow> {
  return onLockedRow(o, id, (trx, v) => {
    if (v.status === VolumeStatus.MAINTENANCE) {
      throw new InvalidVolume("The volume cannot be updated during maintenance.");
    }
    const values: Partial<VolumeRow> = {};
    if (r.name !== undefined) {
      values.name = r.name;
    }
    if (r.description !== undefined) {
      values.description = r.description;
    }
    if (r.bootable !== undefined) {
      values.bootable = r.bootable;
    }
    if (r.metadata !== undefined) {
      values.metadata = { ...userMetadata(r.metadata), ...adminMetadata(v.metadata) };
    }
    return save(trx, v, values);
  });
}

/** os-update_readonly_flag: the flag is admin metadata `readonly`, "True" or "False" as Cinder writes it. */
export async function updateReadonlyFlag(o: VolumeApiOptions, id: string, readonly: boolean): Promise<void> {
  await onLockedRow(o, id, (trx, v) => {
    if (v.status !== VolumeStatus.AVAILABLE) {
      throw new InvalidVolume(
        `Volume ${v.id} status must be available to update readonly flag, but current status is: ${v.status}.`,
      );
    }
    return save(trx, v, { metadata: { ...v.metadata, readonly: readonly ? "True" : "False" } });
  });
}

export type MetadataChange =
  | { kind: "merge"; metadata: Record<string, string> }
  | { kind: "replace"; metadata: Record<string, string> }
  | { kind: "delete"; key: string };

function metadataNotFound(volumeId: string, key: string): NotFound {
  return new NotFound(`Volume ${volumeId} has no metadata with key ${key}.`);
}

/**
 * The user metadata calls: create/update merge, update_all replaces, delete removes one key (404
 * when absent, checked before the status as Cinder does). Returns the user metadata afterwards.
 */
export function changeMetadata(
  o: VolumeApiOptions,
  id: string,
  change: MetadataChange,
): Promise<Record<string, string>> {
  return onLockedRow(o, id, async (trx, v) => {
    const current = userMetadata(v.metadata);
    if (change.kind === "delete" && !Object.hasOwn(current, change.key)) {
      throw metadataNotFound(v.id, change.key);
    }
    if (METADATA_FROZEN.includes(v.status)) {
      const verb = change.kind === "delete" ? "Deleting" : "Updating";
      throw new InvalidVolume(`${verb} volume metadata is not allowed for volumes in ${v.status} status.`);
    }
    let next: Record<string, string>;
    if (change.kind === "delete") {
      next = { ...current };
      delete next[change.key];
    } else {
      next =
        change.kind === "merge"
          ? { ...current, ...userMetadata(change.metadata) }
          : userMetadata(change.metadata);
    }
    const row = await save(trx, v, { metadata: { ...next, ...adminMetadata(v.metadata) } });
    return userMetadata(row.metadata);
  });
}

/** One user metadata item, or Cinder's 404. */
export function metadataItem(volume: VolumeRow, key: string): string {
  const meta = userMetadata(volume.metadata);
  if (!Object.hasOwn(meta, key)) {
    throw metadataNotFound(volume.id, key);
  }
  return meta[key]!;
}
