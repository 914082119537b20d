/**
 * os-volume-manage, manageable_volumes and os-unmanage (cinder/api/contrib/volume_manage.py,
 * resource_common_manage.py, volume_unmanage.py; admin only). Managing adopts an object that
 * already exists on a backend (a raw-file backend's file, an LVM logical volume) as a new volume;
 * unmanaging forgets a volume and leaves its data where it is — the ground work for moving
 * volumes between deployments.
 *
 * Unlike Cinder, the object's size is asked of the volume service before the volume row exists,
 * so a bad reference or a quota that cannot hold it is refused at once (400/413) instead of
 * leaving a volume in `error_managing`.
 */
import { ErrorCodes, InvalidInput, InvalidVolumeType, NotFound, ServiceError } from "../../common/errors";
import { backendOf, poolOf } from "../../common/hosts";
import { IDLE_MIGRATION_STATUSES, ServiceBinary, VolumeStatus } from "../../common/states";
import { listServices, type ServiceWithState } from "../../db/services";
import { insertVolume, noSnapshots, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { findVolumeType, type VolumeType } from "../../db/volumeTypes";
import type { ManageableVolume } from "../rpc/methods";
import { VolumeRpc } from "../rpc/stubs";
import { BadRequest } from "./badRequest";
import { AdminPolicy, authorize, type Caller } from "./caller";
import { deleteRefused } from "./delete";
import type { VolumeApiOptions } from "./lookup";
import { QuotaEngine, volumeDeltas } from "./quotas";
import { userMetadata } from "./volumeState";

/** Cinder's ServiceUnavailable (an Invalid: 400). */
class ServiceUnavailable extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_INVALID_INPUT;
  override readonly httpStatus = 400;
  override readonly safe = true;
  constructor(message = "Service is unavailable at this time.") {
    super(message);
  }
}

export interface ManageRequest {
  host: string;
  /** Cinder's ref: `{"source-name": "<object name>"}`. */
  ref: unknown;
  name: string | null;
  description: string | null;
  volumeType: string | null;
  availabilityZone: string | null;
  metadata: Record<string, string>;
  bootable: boolean;
}

export interface ManageableListRequest {
  host: string | undefined;
  limit?: string;
  offset?: string;
  marker?: string;
  sort?: string;
}

/** Python's repr of a reference dict, as Cinder prints it in its messages. */
function pyRef(ref: unknown): string {
  if (typeof ref !== "object" || ref === null) {
    return `'${String(ref)}'`;
  }
  const items = Object.entries(ref).map(
    ([k, v]) => `'${k}': ${typeof v === "string" ? `'${v}'` : String(v)}`,
  );
  return `{${items.join(", ")}}`;
}

export class ManageApi {
  constructor(private readonly o: VolumeApiOptions) {}

  /** Cinder's _get_service_by_host_cluster: the backend's volume service, enabled and up. */
  private async service(host: string): Promise<ServiceWithState | undefined> {
    const backend = backendOf(host);
    const services = await listServices(this.o.db, this.o.config.serviceDownTime, {
      binary: ServiceBinary.VOLUME,
    });
    return services.find((s) => s.host === backend);
  }

  private usable(s: ServiceWithState): void {
    if (s.disabled || !s.is_up) {
      throw new ServiceUnavailable();
    }
  }

  async manageable(caller: Caller, r: ManageableListRequest): Promise<ManageableVolume[]> {
    authorize(caller, AdminPolicy.LIST_MANAGEABLE);
    if (!r.host) {
      throw new InvalidInput("Host field is missing.");
    }
    const svc = await this.service(r.host);
    if (!svc) {
      throw new NotFound(`Service None could not be found on host ${backendOf(r.host)}.`);
    }
    this.usable(svc);
    let list = await new VolumeRpc(this.o.bus).getManageableVolumes(svc.host);
    const [key, dir] = (r.sort ?? "reference:asc").split(",")[0]!.split(":");
    if (key !== "reference" && key !== "size") {
      throw new BadRequest(`Invalid sort keys passed: ${key}`);
    }
    if (dir !== undefined && dir !== "asc" && dir !== "desc") {
      throw new BadRequest(`Invalid sort dirs passed: ${dir}`);
    }
    const cmp = (a: ManageableVolume, b: ManageableVolume): number =>
      key === "size" ? a.size - b.size : a.reference["source-name"].localeCompare(b.reference["source-name"]);
    list = [...list].sort((a, b) => (dir === "desc" ? -cmp(a, b) : cmp(a, b)));
    if (r.marker !== undefined) {
      const i = list.findIndex((m) => m.reference["source-name"] === r.marker);
      list = i < 0 ? [] : list.slice(i + 1);
    }
    const offset = r.offset === undefined ? 0 : Number(r.offset);
    const limit = r.limit === undefined ? undefined : Number(r.limit);
    return list.slice(offset, limit === undefined ? undefined : offset + limit);
  }

  /** POST /os-volume-manage: a `managing` volume the backend's service then adopts. */
  async manage(
    caller: Caller,
    r: ManageRequest,
  ): Promise<{ volume: VolumeRow; type: VolumeType | undefined }> {
    authorize(caller, AdminPolicy.VOLUME_MANAGE);
    let type: VolumeType | undefined;
    if (r.volumeType) {
      type = await findVolumeType(this.o.db, r.volumeType);
      if (!type) {
        throw new InvalidVolumeType(`Cannot find requested '${r.volumeType}' volume type`);
      }
    } else {
      type = await findVolumeType(this.o.db, this.o.config.defaultVolumeType);
    }
    const svc = await this.service(r.host);
    if (!svc) {
      throw new ServiceUnavailable(`Host '${r.host}' not found`);
    }
    this.usable(svc);
    const source =
      typeof r.ref === "object" && r.ref !== null
        ? (r.ref as Record<string, unknown>)["source-name"]
        : undefined;
    if (typeof source !== "string" || source === "") {
      throw new BadRequest(
        `Manage existing volume failed due to invalid backend reference ${pyRef(r.ref)}: ` +
          "Reference must contain source-name element.",
      );
    }
    const sized = await new VolumeRpc(this.o.bus).manageExistingGetSize(svc.host, { source_name: source });
    if ("error" in sized) {
      throw new BadRequest(
        `Manage existing volume failed due to invalid backend reference ${pyRef(r.ref)}: ${sized.error}`,
      );
    }
    const pool = poolOf(r.host) ?? svc.capabilities?.pools[0]?.pool_name ?? null;
    const quotas = new QuotaEngine(this.o);
    const volume = await this.o.db.transaction(async (trx) => {
      await quotas.checkVolumeSize(trx, caller.projectId, sized.size);
      await quotas.reserve(trx, caller.projectId, "volumes", volumeDeltas(type, sized.size), sized.size);
      return insertVolume(trx, {
        size: sized.size,
        status: VolumeStatus.MANAGING,
        project_id: caller.projectId,
        user_id: caller.userId,
        name: r.name,
        description: r.description,
        volume_type_id: type?.id ?? null,
        host: pool ? `${svc.host}#${pool}` : svc.host,
        cluster_name: svc.cluster_name,
        availability_zone: r.availabilityZone ?? svc.availability_zone,
        bootable: r.bootable,
        metadata: userMetadata(r.metadata),
        replication_status: "disabled",
      });
    });
    await new VolumeRpc(this.o.bus).manageExisting(svc.host, { volume_id: volume.id, source_name: source });
    return { volume, type };
  }

  /**
   * os-unmanage: the checks of a delete (Cinder's delete with unmanage_only), then the row goes
   * and the data stays: neither driver keeps anything about a volume beyond its object.
   */
  async unmanage(caller: Caller, volume: VolumeRow): Promise<void> {
    authorize(caller, AdminPolicy.VOLUME_UNMANAGE);
    const row = await updateVolumeIf(
      this.o.db,
      volume.id,
      { status: VolumeStatus.DELETED, deleted: true, deleted_at: new Date() },
      {
        status: [
          VolumeStatus.AVAILABLE,
          VolumeStatus.ERROR,
          VolumeStatus.ERROR_RESTORING,
          VolumeStatus.ERROR_EXTENDING,
          VolumeStatus.ERROR_MANAGING,
        ],
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
      throw deleteRefused(false);
    }
  }
}
