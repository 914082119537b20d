/**
 * Reading a volume row the way cinder/volume/api.py reads a Volume object: the packed
 * `migration_status` (with `target:<id>` for a migration's temp volume), the migration test, and
 * the metadata keys Cinder keeps as admin metadata.
 */
import { IDLE_MIGRATION_STATUSES } from "../../common/states";
import type { VolumeRow } from "../../db/volumes";

/** migration_status as Cinder stores it: a temp volume's is `target:<source id>`. */
export function cinderMigrationStatus(
  v: Pick<VolumeRow, "migration_status" | "migration_target_of">,
): string | null {
  return v.migration_target_of ? `target:${v.migration_target_of}` : v.migration_status;
}

/** Cinder's `_is_volume_migrating`: anything but an idle migration_status (a temp volume counts). */
export function isMigrating(v: Pick<VolumeRow, "migration_status" | "migration_target_of">): boolean {
  return v.migration_target_of !== null || !IDLE_MIGRATION_STATUSES.includes(v.migration_status);
}

/**
 * Cinder keeps these in the volume's admin metadata and shows them merged into `metadata`
 * (api_utils.add_visible_admin_metadata); we keep them in the one metadata column. The user
 * metadata API neither shows nor changes them, so `readonly` stays an admin-metadata flag.
 */
export const ADMIN_METADATA_KEYS: readonly string[] = ["readonly", "attached_mode"];

export function userMetadata(all: Record<string, string> | null): Record<string, string> {
  return Object.fromEntries(Object.entries(all ?? {}).filter(([k]) => !ADMIN_METADATA_KEYS.includes(k)));
}

export function adminMetadata(all: Record<string, string> | null): Record<string, string> {
  return Object.fromEntries(Object.entries(all ?? {}).filter(([k]) => ADMIN_METADATA_KEYS.includes(k)));
}
