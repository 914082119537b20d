import { DriverError } from "../../common/errors";

/**
 * LVM's own rules for VG and LV names (lvm(8) "VALID NAMES"): letters, digits and `+_.-`, not
 * starting with `-`, not `.`/`..`, no reserved prefixes or parts. Checked before any command runs,
 * whatever the name came from (config, the database, another service's capabilities).
 */
const VALID = /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$/;
const RESERVED_PREFIX = /^(snapshot|pvmove)/;
const RESERVED_PART = /_(cdata|cmeta|corig|mlog|mimage|pmspare|rimage|rmeta|tdata|tmeta|vorigin|vdata)/;

export function checkVgName(name: string): string {
  if (!VALID.test(name) || name === "." || name === "..") {
    throw new DriverError(`Invalid volume group name ${JSON.stringify(name)}`);
  }
  return name;
}

export function checkLvName(name: string): string {
  if (
    !VALID.test(name) ||
    name === "." ||
    name === ".." ||
    RESERVED_PREFIX.test(name) ||
    RESERVED_PART.test(name)
  ) {
    throw new DriverError(`Invalid logical volume name ${JSON.stringify(name)}`);
  }
  return name;
}

/**
 * The LV of a snapshot (Cinder's `_escape_snapshot`): LVM reserves names starting with `snapshot`,
 * so `snapshot-<id>` (snapshot_name_template's default) becomes `_snapshot-<id>`. Checked.
 */
export function snapshotLvName(name: string): string {
  return checkLvName(name.startsWith("snapshot") ? `_${name}` : name);
}

/** `/dev/<vg>/<lv>`, both parts checked. */
export function devicePath(vg: string, lv: string): string {
  return `/dev/${checkVgName(vg)}/${checkLvName(lv)}`;
}
