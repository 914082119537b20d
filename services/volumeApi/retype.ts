/**
 * os-retype, the API half (cinder/volume/api.py `retype`): the new type by name or id, its size
 * limits, the multiattach rule, one compare-and-swap to `retyping` remembering the previous status,
 * then a cast to the scheduler, which keeps the volume where it is or migrates it. The new type's
 * volumes_/gigabytes_ quota must hold the volume (413). A retype to an encrypted type is refused
 * (no key manager: typeEncryption.ts), so no volume has one and Cinder's encryption rules never
 * refuse.
 *
 * The migrations row is left to the scheduler (migration_id null): only it knows whether the
 * retype moves the volume at all, and a row recorded here for a retype that does not move would
 * stay `starting` forever.
 */
import { InvalidInput, InvalidVolume } from "../../common/errors";
import { IDLE_MIGRATION_STATUSES, VolumeStatus } from "../../common/states";
import { qosAllowsRetype } from "../../db/qosSpecs";
import { updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { SchedulerRpc } from "../rpc/stubs";
import type { VolumeApiOptions } from "./lookup";
import { QuotaEngine, typeOnlyDeltas } from "./quotas";
import { refuseEncryptedType } from "./typeEncryption";
import { isMultiattachType, provisionFilterOnSize, typeByNameOrId } from "./typeRules";

export interface RetypeRequest {
  /** Type name or id, as the client sent it. */
  newType: string;
  /** null (absent) means Cinder's default, `never`. */
  migrationPolicy: "never" | "on-demand" | null;
}

const RETYPE_REFUSED =
  "Retype needs volume to be in available or in-use state, not be part of an active migration or a " +
  "consistency group, requested type has to be different that the one from the volume, and for in-use " +
  "volumes front-end qos specs cannot change.";

export async function retypeVolume(o: VolumeApiOptions, volume: VolumeRow, r: RetypeRequest): Promise<void> {
  const type = await typeByNameOrId(o.db, r.newType);
  provisionFilterOnSize(type, volume.size);
  await refuseEncryptedType(o, type);
  const multiattach = isMultiattachType(type);
  if (volume.multiattach !== multiattach && volume.status !== VolumeStatus.AVAILABLE) {
    throw new InvalidInput(
      "Invalid volume_type passed, retypes affecting multiattach are only allowed on available volumes, " +
        `the specified volume however currently has a status of: ${volume.status}.`,
    );
  }
  // The new type's own counters (Cinder's reserve_vol_type_only), checked and held with the CAS.
  const row = await o.db.transaction(async (trx) => {
    await new QuotaEngine(o).reserve(
      trx,
      volume.project_id,
      "volumes",
      typeOnlyDeltas(type, volume.size),
      volume.size,
    );
    return updateVolumeIf(
      trx,
      volume.id,
      // As in Cinder, the multiattach flag follows the new type as soon as the retype is accepted.
      { status: VolumeStatus.RETYPING, previous_status: o.db.raw("??", ["status"]), multiattach },
      {
        status: [VolumeStatus.AVAILABLE, VolumeStatus.IN_USE],
        migration_status: IDLE_MIGRATION_STATUSES,
        migration_target_of: null,
        consistencygroup_id: null,
        group_id: null,
      },
      (qb) => {
        qb.whereRaw("volumes.volume_type_id IS DISTINCT FROM ?", [type.id]);
        // For in-use volumes the front-end QoS may not change (Nova would have to apply it).
        qosAllowsRetype(type.id)(qb);
        // The multiattach rule above read an earlier copy of the row; hold it to what it checked.
        if (volume.multiattach !== multiattach) {
          qb.where("volumes.status", VolumeStatus.AVAILABLE);
        }
      },
    );
  });
  if (!row) {
    throw new InvalidVolume(RETYPE_REFUSED);
  }
  try {
    await new SchedulerRpc(o.bus).retype({
      volume_id: volume.id,
      new_type_id: type.id,
      migration_policy: r.migrationPolicy ?? "never",
      migration_id: null,
    });
  } catch (err) {
    // No scheduler will act on it: the volume goes back to what it was.
    await updateVolumeIf(
      o.db,
      volume.id,
      {
        status: o.db.raw("coalesce(??, ?)", ["previous_status", VolumeStatus.AVAILABLE]),
        multiattach: volume.multiattach,
      },
      { status: VolumeStatus.RETYPING },
    );
    throw err;
  }
}
