/**
 * A backend's migration limits. Each option may be set in the backend's section or, for all
 * backends at once, in [DEFAULT] (the backend's section wins), as oslo does for Cinder's
 * per-backend options.
 */
import type { Reader } from "./configReader";

export interface MigrationLimitsConfig {
  /**
   * `volume_copy_bps_limit` (Cinder's option name): bytes per second for one migration's copy
   * when its row sets no `bps_limit`; 0 means no limit.
   * @defaultValue 0
   */
  volumeCopyBpsLimit: number;
  /**
   * `max_concurrent_migrations`: migrations leaving this backend that run at once; the others
   * wait in state `queued`, first requested first served. 0 means no limit (Cinder's behaviour).
   * @defaultValue 2
   */
  maxConcurrentMigrations: number;
}

/**
 * Two by default: one copy already keeps a storage host's disks or link busy, a second one lets
 * the next copy stream while the first is creating its temp volume or checksumming, and more
 * mostly divide the bandwidth (each finishing later) while multiplying what a failure rolls back.
 */
export const DEFAULT_MAX_CONCURRENT_MIGRATIONS = 2;

export function readMigrationLimits(backend: Reader, defaults: Reader): MigrationLimitsConfig {
  return {
    volumeCopyBpsLimit: backend.int("volume_copy_bps_limit", defaults.int("volume_copy_bps_limit", 0, 0), 0),
    maxConcurrentMigrations: backend.int(
      "max_concurrent_migrations",
      defaults.int("max_concurrent_migrations", DEFAULT_MAX_CONCURRENT_MIGRATIONS, 0, 10_000),
      0,
      10_000,
    ),
  };
}
