/**
 * What the API process does for volumes (Cinder's cinder/volume/api.py): visibility rules,
 * creation, deletion, and the admin actions os-migrate_volume and os-reset_status. Routes only
 * validate the body and render; every precondition lives here, and every status change is a
 * compare-and-swap on the row (db/volumes.ts updateVolumeIf).
 */
import { type AttachmentRow, listAttachments } from "../../db/attachments";
import type { MigrationRow } from "../../db/migrationRecords";
import { listServices } from "../../db/services";
import { insertVolume, listVolumes, noSnapshots, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { findVolumeType, listVolumeTypes, type VolumeType } from "../../db/volumeTypes";
import { InternalError, InvalidInput, InvalidVolume, NotFound, VolumeTypeNotFound } from "../common/errors";
import { IDLE_MIGRATION_STATUSES, ServiceBinary, VolumeStatus } from "../common/states";
import { SchedulerRpc, VolumeRpc } from "../rpc/stubs";
import { BadRequest } from "./api/badRequest";
import type { Caller } from "./api/caller";
import { boolParam, findVolume, type VolumeApiOptions } from "./api/lookup";
import { type MigrateRequest, migrateVolume } from "./api/migrate";
import { resetStatus, type ResetStatusRequest } from "./api/resetStatus";

export type { Caller } from "./api/caller";
export type { VolumeApiOptions } from "./api/lookup";
export type { MigrateRequest } from "./api/migrate";
export type { ResetStatusRequest } from "./api/resetStatus";

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

export interface CreateVolumeRequest {
  size: number | null;
  name: string | null;
  description: string | null;
  volumeType: string | null;
  metadata: Record<string, string>;
  availabilityZone: string | null;
  /** Sources we cannot create from yet (snapshot_id, source_volid, imageRef, backup_id, groups). */
  unsupportedSource: string | null;
}

/** Cinder's message when the delete compare-and-swap fails, whatever the cause. */
const DELETE_REFUSED =
  "Volume status must be available or error or error_restoring or error_extending or error_managing " +
  "and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be " +
  "disassociated from snapshots after volume transfer.";

const DELETABLE_STATUSES: VolumeStatus[] = [
  VolumeStatus.AVAILABLE,
  VolumeStatus.ERROR,
  VolumeStatus.ERROR_RESTORING,
  VolumeStatus.ERROR_EXTENDING,
  VolumeStatus.ERROR_MANAGING,
];

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
    const type = r.volumeType ? await this.findType(caller, r.volumeType) : await this.defaultType();
    if (r.unsupportedSource) {
      throw new InvalidInput(`Creating a volume from ${r.unsupportedSource} is not supported.`);
    }
    if (r.size === null || !Number.isInteger(r.size) || r.size <= 0) {
      throw new InvalidInput(`Volume size '${r.size ?? "None"}' must be an integer and greater than 0`);
    }
    const zone = r.availabilityZone ?? this.o.config.storageAvailabilityZone;
    if (r.availabilityZone !== null && !(await this.knownZones()).has(zone)) {
      throw new BadRequest(`Availability zone '${zone}' is invalid.`);
    }
    const volume = await insertVolume(this.o.db, {
      size: r.size,
      status: VolumeStatus.CREATING,
      project_id: caller.projectId,
      user_id: caller.userId,
      name: r.name,
      description: r.description,
      volume_type_id: type.id,
      availability_zone: zone,
      metadata: r.metadata,
      replication_status: "disabled",
      multiattach: /^<is>\s*true$/i.test(type.extra_specs["multiattach"] ?? ""),
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

  /**
   * A volume no scheduler placed (no host) is removed at once whatever its status, as in Cinder;
   * otherwise one compare-and-swap to `deleting` and a cast to its volume service.
   */
  async delete(caller: Caller, id: string): Promise<void> {
    const volume = await this.get(caller, id);
    if (!volume.host) {
      const gone = await updateVolumeIf(
        this.o.db,
        id,
        { status: VolumeStatus.DELETED, deleted: true, deleted_at: new Date() },
        { host: null },
      );
      if (gone) {
        return;
      }
    }
    const row = await updateVolumeIf(
      this.o.db,
      id,
      { status: VolumeStatus.DELETING },
      {
        status: DELETABLE_STATUSES,
        migration_status: IDLE_MIGRATION_STATUSES,
        migration_target_of: null,
        consistencygroup_id: null,
        group_id: null,
      },
      (qb) => {
        noSnapshots(qb);
        qb.whereNot("volumes.attach_status", "attached");
      },
    );
    if (!row) {
      throw new InvalidVolume(DELETE_REFUSED);
    }
    try {
      await new VolumeRpc(this.o.bus).deleteVolume(row.host!, { volume_id: id });
    } catch (err) {
      await updateVolumeIf(
        this.o.db,
        id,
        { status: VolumeStatus.ERROR_DELETING },
        { status: VolumeStatus.DELETING },
      );
      throw err;
    }
  }

  async migrate(caller: Caller, id: string, r: MigrateRequest): Promise<MigrationRow> {
    return migrateVolume(this.o, caller, await this.get(caller, id), r);
  }

  async resetStatus(caller: Caller, id: string, r: ResetStatusRequest): Promise<void> {
    return resetStatus(this.o, caller, await this.get(caller, id), r);
  }

  /** Cinder's VolumeType.get_by_name_or_id; private types exist only for admins. */
  private async findType(caller: Caller, idOrName: string): Promise<VolumeType> {
    const type = await findVolumeType(this.o.db, idOrName);
    if (type && (type.is_public || caller.isAdmin)) {
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
