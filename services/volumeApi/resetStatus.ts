/**
 * os-reset_status (cinder/api/contrib/admin_actions.py `_reset_status`): the admin's way to
 * unstick a volume, written without preconditions. The body was validated already (values and
 * "at least one of"); here: policy, the two refusals, the write, and attachment clean-up.
 */
import type { Knex } from "knex";

import { VolumeNotFound } from "../../common/errors";
import { AttachStatus, type MigrationStatus, VolumeStatus } from "../../common/states";
import { detachAttachment, listAttachments } from "../../db/attachments";
import { updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { afterDetach, withoutAttachedMode } from "./attach";
import { BadRequest } from "./badRequest";
import { AdminPolicy, authorize, type Caller } from "./caller";
import type { VolumeApiOptions } from "./lookup";

export interface ResetStatusRequest {
  status?: string | null;
  attachStatus?: string | null;
  /** `none` (any case) resets to NULL. */
  migrationStatus?: string | null;
}

function buildUpdate(r: ResetStatusRequest): Partial<VolumeRow> {
  const update: Partial<VolumeRow> = {};
  if (r.status) {
    update.status = r.status.toLowerCase() as VolumeStatus;
  }
  if (r.attachStatus) {
    update.attach_status = r.attachStatus.toLowerCase() as AttachStatus;
  }
  if (r.migrationStatus) {
    const m = r.migrationStatus.toLowerCase();
    update.migration_status = m === "none" ? null : (m as MigrationStatus);
    // In Cinder the value overwrites `target:<id>`, so the row stops being a migration temp volume.
    update.migration_target_of = null;
  }
  return update;
}

export async function resetStatus(
  o: VolumeApiOptions,
  caller: Caller,
  volume: VolumeRow,
  r: ResetStatusRequest,
): Promise<void> {
  authorize(caller, AdminPolicy.RESET_STATUS);
  const update = buildUpdate(r);
  // Cinder means to refuse error_deleting and detaching as well, but a missing comma in its tuple
  // leaves only `deleting` refused; clients may rely on that.
  if (update.status === VolumeStatus.DELETING) {
    throw new BadRequest(`Cannot reset-state to ${update.status}`);
  }
  if (update.status === VolumeStatus.IN_USE && (await listAttachments(o.db, [volume.id])).length === 0) {
    throw new BadRequest("Cannot reset-state to in-use because volume does not have any attachments.");
  }
  await o.db.transaction(async (trx) => {
    const row = await updateVolumeIf(trx, volume.id, update, {});
    if (!row) {
      throw new VolumeNotFound(volume.id);
    }
    if (update.attach_status === AttachStatus.DETACHED) {
      await detachAll(trx, row);
    }
  });
  o.logger.info({ volumeId: volume.id, update }, "volume status reset");
}

/**
 * Cinder's `_clean_volume_attachment`: every attachment goes (`db.volume_detached` each, so the
 * volume becomes available/detached unless a migration or upload in progress owns its status),
 * and the `attached_mode` admin metadata with them.
 */
async function detachAll(trx: Knex.Transaction, volume: VolumeRow): Promise<void> {
  const attachments = await listAttachments(trx, [volume.id]);
  for (const a of attachments) {
    await detachAttachment(trx, a.id);
  }
  const values: Partial<VolumeRow> = { metadata: withoutAttachedMode(volume.metadata) };
  if (attachments.length > 0) {
    Object.assign(values, afterDetach(volume, []));
  }
  await updateVolumeIf(trx, volume.id, values, {});
}
