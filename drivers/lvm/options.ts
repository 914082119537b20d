import os from "node:os";

import type { BackendConfig } from "../../common/config";
import { Reader } from "../../common/configReader";
import { checkLvName, checkVgName } from "./names";

export interface LvmOptions {
  volumeGroup: string;
  lvmType: "default" | "thin";
  mirrors: number;
  volumeClear: "none" | "zero";
  /** MiB to wipe on delete (0 = the whole volume), Cinder's volume_clear_size. */
  volumeClearSize: number;
  thinPool: string;
  /** The storage host's identity in location_info: two backends with the same one share a node. */
  hostId: string;
  /**
   * Bytes one API GiB occupies on the host. 1 GiB everywhere but in test labs, whose small disks
   * and slow links want 64 MiB volumes while Cinder's API counts whole GiB.
   */
  gibBytes: number;
}

/** The LVM driver's cinder.conf options, validated at start with the key in every message. */
export function lvmOptions(backend: BackendConfig): LvmOptions {
  const r = new Reader({ [backend.section]: { ...backend.options } }, backend.section);
  const volumeGroup = r.str("volume_group", "cinder-volumes");
  try {
    checkVgName(volumeGroup);
  } catch {
    r.fail("volume_group", volumeGroup, "must be a valid LVM volume group name");
  }
  const thinPool = r.str("lvm_thin_pool_name", `${volumeGroup}-pool`);
  try {
    checkLvName(thinPool);
  } catch {
    r.fail("lvm_thin_pool_name", thinPool, "must be a valid LVM logical volume name");
  }
  const sshHost = backend.options["ssh_host"];
  const hostId = r.match(
    "lvm_host_id",
    sshHost ? `${sshHost}_${backend.options["ssh_port"] ?? "22"}` : os.hostname(),
    /^[A-Za-z0-9._-]+$/,
    "a name without ':' (it is a field of location_info)",
  );
  return {
    volumeGroup,
    lvmType: r.oneOf("lvm_type", "default", ["default", "thin"] as const),
    mirrors: r.int("lvm_mirrors", 0, 0, 4),
    volumeClear: r.oneOf("volume_clear", "zero", ["none", "zero"] as const),
    volumeClearSize: r.int("volume_clear_size", 0, 0),
    thinPool,
    hostId,
    gibBytes: r.int("lvm_size_unit_mib", 1024, 4, 1024) * 1024 * 1024,
  };
}
