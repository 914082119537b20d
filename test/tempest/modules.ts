/**
 * The tempest modules the harness runs, and the ones CI requires to pass. One list so that a
 * module joins `REQUIRED` the day the API features it needs land (see the reasons below).
 */
export const TEMPEST_MODULES = [
  "tempest.api.volume.admin.test_volume_pools",
  "tempest.api.volume.admin.test_volume_services",
  "tempest.api.volume.admin.test_volume_hosts",
  "tempest.api.volume.admin.test_volumes_actions",
  "tempest.api.volume.admin.test_volume_retype",
] as const;
export type TempestModule = (typeof TEMPEST_MODULES)[number];

/** Modules that must pass: all of them, now that volumes can be created from snapshots. */
export const REQUIRED_TEMPEST_MODULES: ReadonlySet<TempestModule> = new Set<TempestModule>(TEMPEST_MODULES);
