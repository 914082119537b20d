/**
 * Who is calling and what they may do. The API builds a Caller per request; the volume API checks
 * policies itself (as cinder/volume/api.py does) so the order "look up, then authorise" stays in
 * one place.
 */
import { PolicyNotAuthorized } from "../../common/errors";

export interface Caller {
  userId: string;
  projectId: string;
  isAdmin: boolean;
}

/** Cinder's policy names for the admin-only (`rule:admin_api`) operations we implement. */
export const AdminPolicy = {
  MIGRATE_VOLUME: "volume_extension:volume_admin_actions:migrate_volume",
  MIGRATE_VOLUME_COMPLETION: "volume_extension:volume_admin_actions:migrate_volume_completion",
  RESET_STATUS: "volume_extension:volume_admin_actions:reset_status",
  FORCE_DELETE: "volume_extension:volume_admin_actions:force_delete",
  /** DELETE /volumes/{id}?force=true (3.23). */
  VOLUME_FORCE_DELETE: "volume:force_delete",
  FORCE_DETACH: "volume_extension:volume_admin_actions:force_detach",
  CLUSTERS_GET: "clusters:get",
  CLUSTERS_GET_ALL: "clusters:get_all",
  GET_POOLS: "scheduler_extension:scheduler_stats:get_pools",
  SERVICES_INDEX: "volume_extension:services:index",
  SERVICES_UPDATE: "volume_extension:services:update",
  HOSTS: "volume_extension:hosts",
  TYPE_CREATE: "volume_extension:type_create",
  TYPE_UPDATE: "volume_extension:type_update",
  TYPE_DELETE: "volume_extension:type_delete",
  TYPE_EXTRA_SPECS_CREATE: "volume_extension:types_extra_specs:create",
  TYPE_EXTRA_SPECS_UPDATE: "volume_extension:types_extra_specs:update",
  TYPE_EXTRA_SPECS_DELETE: "volume_extension:types_extra_specs:delete",
  TYPE_ENCRYPTION_CREATE: "volume_extension:volume_type_encryption:create",
  TYPE_ENCRYPTION_GET: "volume_extension:volume_type_encryption:get",
  TYPE_ENCRYPTION_UPDATE: "volume_extension:volume_type_encryption:update",
  TYPE_ENCRYPTION_DELETE: "volume_extension:volume_type_encryption:delete",
  TYPE_ACCESS_LIST: "volume_extension:volume_type_access:get_all_for_type",
  TYPE_ACCESS_ADD: "volume_extension:volume_type_access:addProjectAccess",
  TYPE_ACCESS_REMOVE: "volume_extension:volume_type_access:removeProjectAccess",
  QUOTAS_UPDATE: "volume_extension:quotas:update",
  QUOTAS_DELETE: "volume_extension:quotas:delete",
  QUOTA_CLASSES_GET: "volume_extension:quota_classes:get",
  QUOTA_CLASSES_UPDATE: "volume_extension:quota_classes:update",
  QOS_CREATE: "volume_extension:qos_specs_manage:create",
  QOS_GET: "volume_extension:qos_specs_manage:get",
  QOS_GET_ALL: "volume_extension:qos_specs_manage:get_all",
  QOS_UPDATE: "volume_extension:qos_specs_manage:update",
  QOS_DELETE: "volume_extension:qos_specs_manage:delete",
  VOLUME_MANAGE: "volume_extension:volume_manage",
  VOLUME_UNMANAGE: "volume_extension:volume_unmanage",
  LIST_MANAGEABLE: "volume_extension:list_manageable",
  CAPABILITIES: "volume_extension:capabilities",
  SNAPSHOT_RESET_STATUS: "volume_extension:snapshot_admin_actions:reset_status",
  SNAPSHOT_FORCE_DELETE: "volume_extension:snapshot_admin_actions:force_delete",
} as const;
export type AdminPolicy = (typeof AdminPolicy)[keyof typeof AdminPolicy];

/**
 * Only admin-only rules are checked explicitly. Cinder's owner-or-admin rules (volume:retype,
 * volume:extend, volume_extension:volume_actions:attach, volume metadata…) always hold here once
 * the volume was found: a member can only find volumes of its own project (another project's
 * volume is a 404, as in Cinder).
 */
export function authorize(caller: Caller, rule: AdminPolicy): void {
  if (!caller.isAdmin) {
    throw new PolicyNotAuthorized(rule);
  }
}
