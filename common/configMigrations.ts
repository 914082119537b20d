/**
 * A backend's migration limits and how its copies run. Each option may be set in the backend's
 * section or, for all backends at once, in [DEFAULT] (the backend's section wins), as oslo does
 * for Cinder's per-backend options.
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
  /**
   * `volume_copy_streams`: segments of one copy in flight at once, each its own reader and writer
   * (and, between two storage hosts, its own SSH connection): one keeps a disk busy while the
   * other's segment is verified, and spreads hashing and ciphering over the hosts' cores.
   * @defaultValue 2
   */
  volumeCopyStreams: number;
  /**
   * `volume_copy_ssh_ciphers`: the ciphers a host-to-host (direct) copy's ssh offers, in
   * OpenSSH's `Ciphers` syntax; the first one both ends have wins.
   * @defaultValue DEFAULT_COPY_SSH_CIPHERS
   */
  volumeCopySshCiphers: string;
}

/**
 * AES-GCM first: with AES-NI it ciphers at several GB/s a core, ahead of chacha20-poly1305
 * (for hosts without AES-NI) and of aes128-ctr with its separate MAC.
 */
export const DEFAULT_COPY_SSH_CIPHERS = "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr";

/** Two: measured with `npm run bench -- --only xhost --streams N` (README's benchmark section). */
export const DEFAULT_COPY_STREAMS = 2;

const CIPHERS = /^[+^-]?[A-Za-z0-9@.-]+(,[A-Za-z0-9@.-]+)*$/;

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
    volumeCopyStreams: backend.int(
      "volume_copy_streams",
      defaults.int("volume_copy_streams", DEFAULT_COPY_STREAMS, 1, 16),
      1,
      16,
    ),
    volumeCopySshCiphers: backend.match(
      "volume_copy_ssh_ciphers",
      defaults.match("volume_copy_ssh_ciphers", DEFAULT_COPY_SSH_CIPHERS, CIPHERS, "an OpenSSH cipher list"),
      CIPHERS,
      "an OpenSSH cipher list",
    ),
  };
}
