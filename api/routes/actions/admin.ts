/**
 * The admin actions (cinder/api/contrib/admin_actions.py): os-migrate_volume,
 * os-migrate_volume_completion, os-reset_status, os-force_delete, os-force_detach.
 */
import { AdminPolicy } from "../../../services/volumeApi/caller";
import { completionError } from "../../../services/volumeApi/completionAction";
import {
  MIGRATE_CLUSTER_VERSION,
  validateForceDelete,
  validateForceDetach,
  validateMigrateVolume,
  validateMigrateVolumeCompletion,
  validateResetStatus,
} from "../../schemas/adminActions";
import { toBool } from "../../schemas/parameterTypes";
import { type ActionTable, optionalString, params } from "./types";

export const adminActions: ActionTable = (volumes) => ({
  "os-migrate_volume": async (c, id, body) => {
    validateMigrateVolume(body, c.apiVersion);
    const p = params(body, "os-migrate_volume");
    await volumes.migrate(c, id, {
      host: optionalString(p["host"]),
      cluster: optionalString(p["cluster"]),
      forceHostCopy: toBool(p["force_host_copy"]),
      lockVolume: toBool(p["lock_volume"]),
      clusterAllowed: c.apiVersion.matches(MIGRATE_CLUSTER_VERSION),
    });
  },

  // Cinder answers 200 with the id Nova must keep (the api-ref's 202 is wrong).
  "os-migrate_volume_completion": async (c, id, body) => {
    validateMigrateVolumeCompletion(body);
    const p = params(body, "os-migrate_volume_completion");
    const saved = await volumes.migrateCompletion(c, id, {
      newVolumeId: String(p["new_volume"]),
      error: completionError(p["error"]),
    });
    return { status: 200, body: { save_volume_id: saved } };
  },

  "os-reset_status": async (c, id, body) => {
    validateResetStatus(body);
    const p = params(body, "os-reset_status") as Record<string, string | null | undefined>;
    await volumes.resetStatus(c, id, {
      status: p["status"],
      attachStatus: p["attach_status"],
      migrationStatus: p["migration_status"],
    });
  },

  "os-force_delete": async (c, id, body) => {
    validateForceDelete(body);
    await volumes.delete(c, id, { force: AdminPolicy.FORCE_DELETE });
  },

  "os-force_detach": async (c, id, body) => {
    validateForceDetach(body);
    const p = params(body, "os-force_detach");
    await volumes.detach(c, id, optionalString(p["attachment_id"]), true);
  },
});
