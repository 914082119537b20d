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
  FORCE_DETACH: "volume_extension:volume_admin_actions:force_detach",
  CLUSTERS_GET: "clusters:get",
  CLUSTERS_GET_ALL: "clusters:get_all",
  GET_POOLS: "scheduler_extension:scheduler_stats:get_pools",
  SERVICES_INDEX: "volume_extension:services:index",
  SERVICES_UPDATE: "volume_extension:services:update",
  HOSTS: "volume_extension:hosts",
  TYPES_MANAGE: "volume_extension:types_manage",
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
