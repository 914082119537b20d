/**
 * os-extend (cinder/volume/api.py `_extend`): the size check, the type's size limits, a
 * compare-and-swap to `extending` remembering the previous status, then a cast to the volume's
 * service, which ends in available/in-use with the new size or in `error_extending`. The growth
 * must fit the project's gigabytes quota (413). Like Cinder, an unlocked migration does not block it (lock_volume exists for that).
 */
import { InvalidInput, InvalidVolume } from "../../common/errors";
import { VolumeStatus } from "../../common/states";
import { updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { getVolumeType } from "../../db/volumeTypes";
import { VolumeRpc } from "../rpc/stubs";
import type { VolumeApiOptions } from "./lookup";
import { gigabyteDeltas, QuotaEngine } from "./quotas";
import { provisionFilterOnSize } from "./typeRules";

export async function extendVolume(
  o: VolumeApiOptions,
  volume: VolumeRow,
  newSize: number,
  /** 3.42+ on an in-use volume: Cinder's extend_attached_volume. */
  attached: boolean,
): Promise<void> {
  if (newSize <= volume.size) {
    throw new InvalidInput(
      `New size for extend must be greater than current size. (current: ${volume.size}, extended: ${newSize}).`,
    );
  }
  const type = volume.volume_type_id ? await getVolumeType(o.db, volume.volume_type_id) : undefined;
  provisionFilterOnSize(type, newSize);
  const expected = attached ? VolumeStatus.IN_USE : VolumeStatus.AVAILABLE;
  const growth = newSize - volume.size;
  const row = await o.db.transaction(async (trx) => {
    // The size increase must fit the project's gigabytes (Cinder reserves it, resource "volumes").
    const quotas = new QuotaEngine(o);
    await quotas.checkVolumeSize(trx, volume.project_id, newSize);
    await quotas.reserve(trx, volume.project_id, "volumes", gigabyteDeltas(type, growth), growth);
    return updateVolumeIf(
      trx,
      volume.id,
      { status: VolumeStatus.EXTENDING, previous_status: trx.raw("??", ["status"]) },
      { status: expected },
      // Only a placed volume has a service to extend it.
      (qb) => qb.whereNotNull("volumes.host"),
    );
  });
  if (!row) {
    // Cinder formats its `expected` dict into the message.
    throw new InvalidVolume(
      `Volume ${volume.id} status must be '{'status': '${expected}'}' to extend, currently ${volume.status}.`,
    );
  }
  try {
    await new VolumeRpc(o.bus).extendVolume(row.host!, { volume_id: volume.id, new_size: newSize });
  } catch (err) {
    // Nobody will extend it: give the volume its status back.
    await updateVolumeIf(o.db, volume.id, { status: expected }, { status: VolumeStatus.EXTENDING });
    throw err;
  }
}
