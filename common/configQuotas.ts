/**
 * Quota defaults and user-message lifetimes from [DEFAULT], with Cinder's option names
 * (cinder/quota.py, cinder/message/api.py).
 */
import type { Reader } from "./configReader";

/** The project-wide quota resources, in Cinder's order (volume-type resources follow them). */
export const QUOTA_RESOURCES = [
  "volumes",
  "per_volume_gigabytes",
  "snapshots",
  "gigabytes",
  "backups",
  "backup_gigabytes",
  "groups",
] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];

export interface QuotaConfig {
  /**
   * The limit of each resource for a project that has neither its own limit nor one in the
   * `default` quota class: quota_volumes 10, per_volume_size_limit -1, quota_snapshots 10,
   * quota_gigabytes 1000, quota_backups 10, quota_backup_gigabytes 1000, quota_groups 10
   * (-1 means unlimited). Volume-type resources (volumes_<type> …) default to -1.
   */
  defaults: Readonly<Record<QuotaResource, number>>;
  /** `use_default_quota_class`: the `default` quota class overrides these defaults. @defaultValue true */
  useDefaultQuotaClass: boolean;
}

export interface MessageConfig {
  /** `message_ttl`: seconds a user message is kept. @defaultValue 2592000 (30 days) */
  ttlSecs: number;
  /** `message_reap_interval`: seconds between sweeps of expired messages. @defaultValue 86400 */
  reapIntervalSecs: number;
}

export function readQuotas(d: Reader): QuotaConfig {
  const limit = (key: string, def: number): number => d.int(key, def, -1, 0x7fffffff);
  return {
    defaults: {
      volumes: limit("quota_volumes", 10),
      per_volume_gigabytes: limit("per_volume_size_limit", -1),
      snapshots: limit("quota_snapshots", 10),
      gigabytes: limit("quota_gigabytes", 1000),
      backups: limit("quota_backups", 10),
      backup_gigabytes: limit("quota_backup_gigabytes", 1000),
      groups: limit("quota_groups", 10),
    },
    useDefaultQuotaClass: d.bool("use_default_quota_class", true),
  };
}

export function readMessages(d: Reader): MessageConfig {
  return {
    ttlSecs: d.int("message_ttl", 2592000, 1),
    reapIntervalSecs: d.int("message_reap_interval", 86400, 1),
  };
}
