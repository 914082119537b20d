/**
 * What a volume type's extra specs mean to the volume API (cinder/volume/volume_types.py):
 * lookup by name or id, the multiattach flag, and the provisioning size limits.
 */
import { InvalidInput, NotFound, VolumeTypeNotFound } from "../../common/errors";
import type { Db } from "../../db/connection";
import { isUuid } from "../../db/volumes";
import { findVolumeType, type VolumeType } from "../../db/volumeTypes";

/**
 * Cinder's `get_by_name_or_id` with an elevated context (private types included): a uuid-like
 * identity that matches nothing is "Volume type <x> could not be found.", a name the by-name text.
 */
export async function typeByNameOrId(db: Db, identity: string): Promise<VolumeType> {
  const type = await findVolumeType(db, identity);
  if (type) {
    return type;
  }
  if (isUuid(identity)) {
    throw new VolumeTypeNotFound(identity);
  }
  throw new NotFound(`Volume type with name ${identity} could not be found.`);
}

/** The `multiattach` extra spec (`<is> True`), read as volume creation reads it. */
export function isMultiattachType(type: Pick<VolumeType, "extra_specs"> | undefined): boolean {
  return /^<is>\s*true$/i.test(type?.extra_specs["multiattach"] ?? "");
}

/** `provision_filter_on_size`: the type's provisioning:min_vol_size / max_vol_size. */
export function provisionFilterOnSize(type: VolumeType | undefined, size: number): void {
  if (!type) {
    return;
  }
  const min = type.extra_specs["provisioning:min_vol_size"];
  if (min && size < Number.parseInt(min, 10)) {
    throw new InvalidInput(
      `Specified volume size of '${size}' is less than the minimum required size of '${min}' for volume type '${type.name}'.`,
    );
  }
  const max = type.extra_specs["provisioning:max_vol_size"];
  if (max && size > Number.parseInt(max, 10)) {
    throw new InvalidInput(
      `Specified volume size of '${size}' is greater than the maximum allowable size of '${max}' for volume type '${type.name}'.`,
    );
  }
}
