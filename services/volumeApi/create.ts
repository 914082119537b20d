/**
 * POST /volumes, the API half (cinder/volume/api.py `create`): the source (a volume to clone or a
 * snapshot), the type (named, the source's, or the default), size, zone and quota, then the row in
 * `creating` and a cast to the scheduler.
 */
import { InternalError, InvalidInput, NotFound, VolumeTypeNotFound } from "../../common/errors";
import { ServiceBinary, VolumeStatus } from "../../common/states";
import { listServices } from "../../db/services";
import { insertVolume, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { findVolumeType, listVolumeTypes, typeVisibleTo, type VolumeType } from "../../db/volumeTypes";
import { SchedulerRpc } from "../rpc/stubs";
import { BadRequest } from "./badRequest";
import type { Caller } from "./caller";
import { snapshotSource, volumeSource } from "./createSource";
import type { VolumeApiOptions } from "./lookup";
import { QuotaEngine, volumeDeltas } from "./quotas";
import { refuseEncryptedType } from "./typeEncryption";
import { isMultiattachType } from "./typeRules";
import { userMetadata } from "./volumeState";

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

export async function createVolume(
  o: VolumeApiOptions,
  caller: Caller,
  r: CreateVolumeRequest,
): Promise<{ volume: VolumeRow; type: VolumeType }> {
  // Cinder looks the source volume up first: an unknown one is a 404 whatever else is wrong.
  const origin = r.sourceVolid ? await volumeSource(o, caller, r.sourceVolid, r.size) : null;
  if (r.unsupportedSource) {
    throw new InvalidInput(`Creating a volume from ${r.unsupportedSource} is not supported.`);
  }
  const source = origin ?? (r.snapshotId ? await snapshotSource(o, caller, r.snapshotId, r.size) : null);
  const size = source?.size ?? r.size;
  const type = r.volumeType
    ? await findType(o, caller, r.volumeType)
    : source?.volumeTypeId
      ? ((await listVolumeTypes(o.db)).find((t) => t.id === source.volumeTypeId) ?? (await defaultType(o)))
      : await defaultType(o);
  await refuseEncryptedType(o, type);
  if (size === null || !Number.isInteger(size) || size <= 0) {
    throw new InvalidInput(`Volume size '${size ?? "None"}' must be an integer and greater than 0`);
  }
  const zone = r.availabilityZone ?? o.config.storageAvailabilityZone;
  if (r.availabilityZone !== null && !(await knownZones(o)).has(zone)) {
    throw new BadRequest(`Availability zone '${zone}' is invalid.`);
  }
  // Quota is checked and consumed in one step: the insert runs under the project's quota lock.
  const quotas = new QuotaEngine(o);
  const volume = await o.db.transaction(async (trx) => {
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
    await new SchedulerRpc(o.bus).createVolume({ volume_id: volume.id });
  } catch (err) {
    // Nobody will ever pick the volume up: show it as failed rather than creating forever.
    await updateVolumeIf(o.db, volume.id, { status: VolumeStatus.ERROR }, { status: VolumeStatus.CREATING });
    throw err;
  }
  return { volume, type };
}

/**
 * Cinder's VolumeType.get_by_name_or_id; a private type exists only for admins and the projects
 * in its access list.
 */
async function findType(o: VolumeApiOptions, caller: Caller, idOrName: string): Promise<VolumeType> {
  const type = await findVolumeType(o.db, idOrName);
  if (type && (caller.isAdmin || (await typeVisibleTo(o.db, type, caller.projectId)))) {
    return type;
  }
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrName)) {
    throw new VolumeTypeNotFound(idOrName);
  }
  throw new NotFound(`Volume type with name ${idOrName} could not be found.`);
}

async function defaultType(o: VolumeApiOptions): Promise<VolumeType> {
  const type = await findVolumeType(o.db, o.config.defaultVolumeType);
  if (!type) {
    throw new InternalError(
      `The request cannot be fulfilled as the default volume type ${o.config.defaultVolumeType} cannot be found.`,
    );
  }
  return type;
}

/** Zones Cinder offers: those of the volume services, plus the configured default. */
async function knownZones(o: VolumeApiOptions): Promise<Set<string>> {
  const services = await listServices(o.db, o.config.serviceDownTime, {
    binary: ServiceBinary.VOLUME,
  });
  return new Set([o.config.storageAvailabilityZone, ...services.map((s) => s.availability_zone)]);
}
