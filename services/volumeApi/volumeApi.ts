/**
 * What the API process does for volumes (Cinder's cinder/volume/api.py): visibility rules,
 * creation, deletion, updates and the volume actions, each in its own module under api/. Routes only
 * validate the body and render; every precondition lives here, and every status change is a
 * compare-and-swap on the row (db/volumes.ts updateVolumeIf).
 */
import { InternalError, InvalidInput, NotFound, VolumeTypeNotFound } from "../../common/errors";
import { ServiceBinary, VolumeStatus } from "../../common/states";
import { type AttachmentRow, listAttachments } from "../../db/attachments";
import type { MigrationRow } from "../../db/migrationRecords";
import { listServices } from "../../db/services";
import { insertVolume, listVolumes, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { findVolumeType, listVolumeTypes, typeVisibleTo, type VolumeType } from "../../db/volumeTypes";
import { SchedulerRpc } from "../rpc/stubs";
import { type AttachRequest, attachVolume, detachVolume } from "./attach";
import { BadRequest } from "./badRequest";
import type { Caller } from "./caller";
import { type CompletionRequest, migrateVolumeCompletion } from "./completionAction";
import { snapshotSource, volumeSource } from "./createSource";
import { type DeleteOptions, deleteVolume } from "./delete";
import { extendVolume } from "./extend";
import { boolParam, findVolume, type VolumeApiOptions } from "./lookup";
import { type MigrateRequest, migrateVolume } from "./migrate";
import { cutPage, type Paging, type PagingParams, parsePaging } from "./paging";
import { QuotaEngine, volumeDeltas } from "./quotas";
import { beginDetaching, reserveVolume, rollDetaching, unreserveVolume } from "./reservation";
import { resetStatus, type ResetStatusRequest } from "./resetStatus";
import { type RetypeRequest, retypeVolume } from "./retype";
import { type VolumeSummary, volumeSummary } from "./summary";
import { refuseEncryptedType } from "./typeEncryption";
import { isMultiattachType } from "./typeRules";
import {
  changeMetadata,
  type MetadataChange,
  metadataItem,
  updateReadonlyFlag,
  updateVolume,
  type UpdateVolumeRequest,
} from "./update";
import { userMetadata } from "./volumeState";

export type { AttachRequest } from "./attach";
export type { Caller } from "./caller";
export type { CompletionRequest } from "./completionAction";
export type { DeleteOptions } from "./delete";
export type { VolumeApiOptions } from "./lookup";
export type { MigrateRequest } from "./migrate";
export type { ResetStatusRequest } from "./resetStatus";
export type { RetypeRequest } from "./retype";
export type { VolumeSummary } from "./summary";
export type { MetadataChange, UpdateVolumeRequest } from "./update";

/** A volume with what its view needs: its type (for the name) and its attachments. */
export interface VolumeDetails {
  volume: VolumeRow;
  type: VolumeType | undefined;
  attachments: AttachmentRow[];
}

export interface ListVolumesRequest {
  /** The raw `all_tenants` query value; only admins may use it. */
  allTenants?: string;
  name?: string;
  status?: string;
}

/** GET /volumes[/detail] with Cinder's filters and paging: every query parameter, raw. */
export interface ListVolumesQuery extends PagingParams {
  query: Record<string, string>;
  /** The request's microversion allows the generalized filters (3.33+). */
  resourceFilters: boolean;
}

/** Sort keys of the volume list (Cinder's `name` is display_name). */
const VOLUME_SORT_COLUMNS: Readonly<Record<string, string>> = Object.fromEntries(
  [
    "id",
    "name",
    "status",
    "size",
    "created_at",
    "updated_at",
    "availability_zone",
    "bootable",
    "project_id",
    "host",
    "volume_type_id",
    "user_id",
  ].map((k) => [k, k]),
);

/** Filters members may use before 3.33 (Cinder's _get_volume_filter_options) and from 3.33 (resource_filters.json). */
const MEMBER_FILTERS = ["name", "status", "metadata", "bootable", "availability_zone"];
const MEMBER_FILTERS_3_33 = [
  ...MEMBER_FILTERS,
  "migration_status",
  "group_id",
  "size",
  "created_at",
  "updated_at",
];
const ADMIN_FILTERS = [...MEMBER_FILTERS_3_33, "host", "project_id"];
/** Query parameters that are not filters. */
const NOT_FILTERS = [
  "all_tenants",
  "limit",
  "marker",
  "offset",
  "sort",
  "sort_key",
  "sort_dir",
  "with_count",
];

/** Python's literal dict of strings, as Cinder reads `metadata={'k': 'v'}` (ast.literal_eval). */
function pyDict(text: string): Record<string, string> {
  const json = text.trim().replace(/'((?:[^'\\]|\\.)*)'/g, (_m, inner: string) => JSON.stringify(inner));
  try {
    const v = JSON.parse(json) as unknown;
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
    }
  } catch {
    // fall through
  }
  throw new InvalidInput(`Invalid metadata filter ${text}`);
}

export interface CreateVolumeRequest {
  size: number | null;
  name: string | null;
  description: string | null;
  volumeType: string | null;
  metadata: Record<string, string>;
  availabilityZone: string | null;
  /** Create from this snapshot: on its volume's backend, with its data. */
  snapshotId: string | null;
  /** Sources we cannot create from yet (imageRef, backup_id, groups). */
  unsupportedSource: string | null;
  /** Clone this volume: on its backend, with its data (Cinder's create_cloned_volume). */
  sourceVolid?: string | null;
}

export class VolumeApi {
  constructor(private readonly o: VolumeApiOptions) {}

  get(caller: Caller, id: string): Promise<VolumeRow> {
    return findVolume(this.o.db, caller, id);
  }

  async show(caller: Caller, id: string): Promise<VolumeDetails> {
    return (await this.details([await this.get(caller, id)]))[0]!;
  }

  /**
   * Non-admins see their project's volumes without migration temp volumes; admins see their own
   * project's, or every project's with `all_tenants`. Unknown filters are ignored, as Cinder
   * drops filters a caller may not use.
   */
  async list(caller: Caller, r: ListVolumesRequest): Promise<VolumeRow[]> {
    const allTenants = caller.isAdmin && boolParam("all_tenants", r.allTenants);
    return listVolumes(this.o.db, {
      projectId: allTenants ? undefined : caller.projectId,
      name: r.name,
      status: r.status,
      hideMigrationTargets: !caller.isAdmin,
    });
  }

  /**
   * Filters, sort, marker, offset and limit (cinder/api/v3/volumes.py `_get_volumes`): members may
   * only use the public filters (unknown ones are dropped before 3.33 and refused from it);
   * `count` is the number of matching volumes before paging (with_count, 3.45).
   */
  async listPage(
    caller: Caller,
    r: ListVolumesQuery,
  ): Promise<{ rows: VolumeRow[]; count: number; paging: Paging }> {
    const paging = parsePaging(r, VOLUME_SORT_COLUMNS);
    const allowed = caller.isAdmin ? ADMIN_FILTERS : r.resourceFilters ? MEMBER_FILTERS_3_33 : MEMBER_FILTERS;
    const given = Object.keys(r.query).filter((k) => !NOT_FILTERS.includes(k));
    const invalid = given.filter((k) => !allowed.includes(k));
    if (invalid.length > 0 && r.resourceFilters && !caller.isAdmin) {
      throw new BadRequest(`Invalid filters ${invalid.join(", ")} are found in query options.`);
    }
    const f: Record<string, string> = Object.fromEntries(
      given.filter((k) => allowed.includes(k)).map((k) => [k, r.query[k]!]),
    );
    const allTenants = caller.isAdmin && boolParam("all_tenants", r.query["all_tenants"]);
    const rows = await listVolumes(this.o.db, {
      projectId: allTenants ? f["project_id"] : caller.projectId,
      name: f["name"],
      status: f["status"],
      metadata: f["metadata"] === undefined ? undefined : pyDict(f["metadata"]),
      bootable: f["bootable"] === undefined ? undefined : boolParam("bootable", f["bootable"]),
      availabilityZone: f["availability_zone"],
      size: f["size"] === undefined ? undefined : Number(f["size"]),
      host: f["host"],
      migrationStatus: f["migration_status"],
      groupId: f["group_id"],
      hideMigrationTargets: !caller.isAdmin,
      sort: paging.sort,
    });
    if (paging.marker !== undefined) {
      await this.get(caller, paging.marker);
    }
    return { rows: cutPage(rows, paging), count: rows.length, paging };
  }

  async details(volumes: VolumeRow[]): Promise<VolumeDetails[]> {
    const [types, attachments] = await Promise.all([
      listVolumeTypes(this.o.db),
      listAttachments(
        this.o.db,
        volumes.map((v) => v.id),
      ),
    ]);
    return volumes.map((volume) => ({
      volume,
      type: types.find((t) => t.id === volume.volume_type_id),
      attachments: attachments.filter((a) => a.volume_id === volume.id),
    }));
  }

  async create(caller: Caller, r: CreateVolumeRequest): Promise<VolumeDetails> {
    // Cinder looks the source volume up first: an unknown one is a 404 whatever else is wrong.
    const origin = r.sourceVolid ? await volumeSource(this.o, caller, r.sourceVolid, r.size) : null;
    if (r.unsupportedSource) {
      throw new InvalidInput(`Creating a volume from ${r.unsupportedSource} is not supported.`);
    }
    const source =
      origin ?? (r.snapshotId ? await snapshotSource(this.o, caller, r.snapshotId, r.size) : null);
    const size = source?.size ?? r.size;
    const type = r.volumeType
      ? await this.findType(caller, r.volumeType)
      : source?.volumeTypeId
        ? ((await listVolumeTypes(this.o.db)).find((t) => t.id === source.volumeTypeId) ??
          (await this.defaultType()))
        : await this.defaultType();
    await refuseEncryptedType(this.o, type);
    if (size === null || !Number.isInteger(size) || size <= 0) {
      throw new InvalidInput(`Volume size '${size ?? "None"}' must be an integer and greater than 0`);
    }
    const zone = r.availabilityZone ?? this.o.config.storageAvailabilityZone;
    if (r.availabilityZone !== null && !(await this.knownZones()).has(zone)) {
      throw new BadRequest(`Availability zone '${zone}' is invalid.`);
    }
    // Quota is checked and consumed in one step: the insert runs under the project's quota lock.
    const quotas = new QuotaEngine(this.o);
    const volume = await this.o.db.transaction(async (trx) => {
      await quotas.checkVolumeSize(trx, caller.projectId, size);
      await quotas.reserve(trx, caller.projectId, "volumes", volumeDeltas(type, size), size);
      return insertVolume(trx, {
        size,
        snapshot_id: source && "snapshot" in source ? source.snapshot.id : null,
        source_volid: origin?.volume.id ?? null,
        // A clone of a bootable volume is bootable (Cinder's manager copies the flag).
        bootable: origin?.volume.bootable ?? false,
        status: VolumeStatus.CREATING,
        project_id: caller.projectId,
        user_id: caller.userId,
        name: r.name,
        description: r.description,
        volume_type_id: type.id,
        availability_zone: zone,
        // readonly/attached_mode are admin metadata: not the creator's to set.
        metadata: userMetadata(r.metadata),
        replication_status: "disabled",
        multiattach: isMultiattachType(type),
      });
    });
    try {
      await new SchedulerRpc(this.o.bus).createVolume({ volume_id: volume.id });
    } catch (err) {
      // Nobody will ever pick the volume up: show it as failed rather than creating forever.
      await updateVolumeIf(
        this.o.db,
        volume.id,
        { status: VolumeStatus.ERROR },
        { status: VolumeStatus.CREATING },
      );
      throw err;
    }
    return { volume, type, attachments: [] };
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

  /**
   * Cinder's VolumeType.get_by_name_or_id; a private type exists only for admins and the projects
   * in its access list.
   */
  private async findType(caller: Caller, idOrName: string): Promise<VolumeType> {
    const type = await findVolumeType(this.o.db, idOrName);
    if (type && (caller.isAdmin || (await typeVisibleTo(this.o.db, type, caller.projectId)))) {
      return type;
    }
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrName)) {
      throw new VolumeTypeNotFound(idOrName);
    }
    throw new NotFound(`Volume type with name ${idOrName} could not be found.`);
  }

  private async defaultType(): Promise<VolumeType> {
    const type = await findVolumeType(this.o.db, this.o.config.defaultVolumeType);
    if (!type) {
      throw new InternalError(
        `The request cannot be fulfilled as the default volume type ${this.o.config.defaultVolumeType} cannot be found.`,
      );
    }
    return type;
  }

  /** Zones Cinder offers: those of the volume services, plus the configured default. */
  private async knownZones(): Promise<Set<string>> {
    const services = await listServices(this.o.db, this.o.config.serviceDownTime, {
      binary: ServiceBinary.VOLUME,
    });
    return new Set([this.o.config.storageAvailabilityZone, ...services.map((s) => s.availability_zone)]);
  }
}
