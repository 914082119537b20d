/**
 * What the API process does for volumes (Cinder's cinder/volume/api.py): visibility rules,
 * creation, deletion, updates and the volume actions, each in its own module under api/. Routes only
 * validate the body and render; every precondition lives here, and every status change is a
 * compare-and-swap on the row (db/volumes.ts updateVolumeIf).
 */
import { AttachStatus, VolumeStatus } from "../../common/states";
import { type AttachmentRow, listAttachments } from "../../db/attachments";
import type { MigrationRow } from "../../db/migrationRecords";
import { getVolumeAndTypeName, type VolumeRow } from "../../db/volumes";
import { volumeTypeNames, type VolumeTypeRow } from "../../db/volumeTypes";
import { type AttachRequest, attachVolume, detachVolume } from "./attach";
import type { Caller } from "./caller";
import { type CompletionRequest, migrateVolumeCompletion } from "./completionAction";
import { createVolume, type CreateVolumeRequest } from "./create";
import { type DeleteOptions, deleteVolume } from "./delete";
import { extendVolume } from "./extend";
import { findVolume, visibleVolume, type VolumeApiOptions } from "./lookup";
import { type MigrateRequest, migrateVolume } from "./migrate";
import type { Paging } from "./paging";
import { beginDetaching, reserveVolume, rollDetaching, unreserveVolume } from "./reservation";
import { resetStatus, type ResetStatusRequest } from "./resetStatus";
import { type RetypeRequest, retypeVolume } from "./retype";
import { type VolumeSummary, volumeSummary } from "./summary";
import {
  changeMetadata,
  type MetadataChange,
  metadataItem,
  updateReadonlyFlag,
  updateVolume,
  type UpdateVolumeRequest,
} from "./update";
import { listVolumesOf, listVolumesPage, type ListVolumesQuery, type ListVolumesRequest } from "./volumeList";
import { userMetadata } from "./volumeState";

export type { AttachRequest } from "./attach";
export type { Caller } from "./caller";
export type { CompletionRequest } from "./completionAction";
export type { CreateVolumeRequest } from "./create";
export type { DeleteOptions } from "./delete";
export type { VolumeApiOptions } from "./lookup";
export type { MigrateRequest } from "./migrate";
export type { ResetStatusRequest } from "./resetStatus";
export type { RetypeRequest } from "./retype";
export type { VolumeSummary } from "./summary";
export type { MetadataChange, UpdateVolumeRequest } from "./update";
export type { ListVolumesQuery, ListVolumesRequest } from "./volumeList";

/** A volume with what its view needs: its type (for the name) and its attachments. */
export interface VolumeDetails {
  volume: VolumeRow;
  type: Pick<VolumeTypeRow, "id" | "name"> | undefined;
  attachments: AttachmentRow[];
}

export class VolumeApi {
  constructor(private readonly o: VolumeApiOptions) {}

  get(caller: Caller, id: string): Promise<VolumeRow> {
    return findVolume(this.o.db, caller, id);
  }

  /** One query for a detached volume (the row with its type's name), two for an attached one. */
  async show(caller: Caller, id: string): Promise<VolumeDetails> {
    const found = await getVolumeAndTypeName(this.o.db, id);
    const volume = visibleVolume(caller, id, found?.volume);
    const typeName = found!.typeName;
    return {
      volume,
      type:
        volume.volume_type_id && typeName !== null
          ? { id: volume.volume_type_id, name: typeName }
          : undefined,
      attachments:
        volume.attach_status === AttachStatus.DETACHED ? [] : await listAttachments(this.o.db, [volume.id]),
    };
  }

  /**
   * Non-admins see their project's volumes without migration temp volumes; admins see their own
   * project's, or every project's with `all_tenants`.
   */
  list(caller: Caller, r: ListVolumesRequest): Promise<VolumeRow[]> {
    return listVolumesOf(this.o, caller, r);
  }

  /** Filters, sort, marker, offset and limit; `count` before paging (with_count, 3.45). */
  listPage(
    caller: Caller,
    r: ListVolumesQuery,
  ): Promise<{ rows: VolumeRow[]; count: number; paging: Paging }> {
    return listVolumesPage(this.o, caller, r);
  }

  /**
   * Two queries at most, whatever the number of volumes: the types' names, and the attachments of
   * the volumes that have any (a `detached` volume has none that its view shows). A volume show is
   * the API's most frequent request; issue 14 measured it.
   */
  async details(volumes: VolumeRow[]): Promise<VolumeDetails[]> {
    const typeIds = volumes.flatMap((v) => (v.volume_type_id ? [v.volume_type_id] : []));
    const attached = volumes.filter((v) => v.attach_status !== AttachStatus.DETACHED).map((v) => v.id);
    const [types, attachments] = await Promise.all([
      volumeTypeNames(this.o.db, typeIds),
      listAttachments(this.o.db, attached),
    ]);
    return volumes.map((volume) => ({
      volume,
      type: types.find((t) => t.id === volume.volume_type_id),
      attachments: attachments.filter((a) => a.volume_id === volume.id),
    }));
  }

  async create(caller: Caller, r: CreateVolumeRequest): Promise<VolumeDetails> {
    return { ...(await createVolume(this.o, caller, r)), attachments: [] };
  }

  /** GET /volumes/summary: count, size and distinct metadata of the visible volumes. */
  summary(caller: Caller, allTenants: string | undefined): Promise<VolumeSummary> {
    return volumeSummary(this.o, caller, allTenants);
  }

  /** DELETE /volumes/{id} (`cascade`, `force`) and os-force_delete. */
  async delete(caller: Caller, id: string, d: DeleteOptions = {}): Promise<void> {
    return deleteVolume(this.o, caller, await this.get(caller, id), d);
  }

  /** PUT /volumes/{id}: name, description, metadata (refused in maintenance). */
  async update(caller: Caller, id: string, r: UpdateVolumeRequest): Promise<VolumeDetails> {
    await this.get(caller, id);
    return (await this.details([await updateVolume(this.o, id, r)]))[0]!;
  }

  async setBootable(caller: Caller, id: string, bootable: boolean): Promise<void> {
    await this.get(caller, id);
    await updateVolume(this.o, id, { bootable });
  }

  async updateReadonlyFlag(caller: Caller, id: string, readonly: boolean): Promise<void> {
    await this.get(caller, id);
    await updateReadonlyFlag(this.o, id, readonly);
  }

  async metadata(caller: Caller, id: string): Promise<Record<string, string>> {
    return userMetadata((await this.get(caller, id)).metadata);
  }

  async metadataItem(caller: Caller, id: string, key: string): Promise<string> {
    return metadataItem(await this.get(caller, id), key);
  }

  async changeMetadata(caller: Caller, id: string, change: MetadataChange): Promise<Record<string, string>> {
    await this.get(caller, id);
    return changeMetadata(this.o, id, change);
  }

  /** os-extend; `inUseAllowed` from microversion 3.42 (Cinder's extend_attached_volume). */
  async extend(caller: Caller, id: string, newSize: number, inUseAllowed: boolean): Promise<void> {
    const volume = await this.get(caller, id);
    return extendVolume(this.o, volume, newSize, inUseAllowed && volume.status === VolumeStatus.IN_USE);
  }

  async retype(caller: Caller, id: string, r: RetypeRequest): Promise<void> {
    return retypeVolume(this.o, await this.get(caller, id), r);
  }

  async reserve(caller: Caller, id: string): Promise<void> {
    return reserveVolume(this.o, await this.get(caller, id));
  }

  async unreserve(caller: Caller, id: string): Promise<void> {
    return unreserveVolume(this.o, await this.get(caller, id));
  }

  async beginDetaching(caller: Caller, id: string): Promise<void> {
    return beginDetaching(this.o, await this.get(caller, id));
  }

  async rollDetaching(caller: Caller, id: string): Promise<void> {
    return rollDetaching(this.o, await this.get(caller, id));
  }

  async attach(caller: Caller, id: string, r: AttachRequest): Promise<void> {
    await attachVolume(this.o, await this.get(caller, id), r);
  }

  async detach(caller: Caller, id: string, attachmentId: string | null, force = false): Promise<void> {
    return detachVolume(this.o, caller, await this.get(caller, id), attachmentId, force);
  }

  /** os-migrate_volume_completion: the id Nova keeps (Cinder's save_volume_id). */
  async migrateCompletion(caller: Caller, id: string, r: CompletionRequest): Promise<string> {
    return migrateVolumeCompletion(this.o, caller, await this.get(caller, id), r);
  }

  async migrate(caller: Caller, id: string, r: MigrateRequest): Promise<MigrationRow> {
    return migrateVolume(this.o, caller, await this.get(caller, id), r);
  }

  async resetStatus(caller: Caller, id: string, r: ResetStatusRequest): Promise<void> {
    return resetStatus(this.o, caller, await this.get(caller, id), r);
  }
}
