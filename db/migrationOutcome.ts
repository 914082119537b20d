import type { Knex } from "knex";

import { MessageAction, MessageDetail, type MessageField } from "../common/messageFields";
import { MigrationKind, MigrationState, type MigrationStatus, VolumeStatus } from "../common/states";
import { recordUserMessage } from "./messages";
import { type MigrationRow, updateMigrationIf } from "./migrationRecords";
import { getVolume, updateVolumeIf } from "./volumes";

/** The detail a failure's reason maps to when the caller names none (Cinder's exception mapping). */
function detailOf(error: string): MessageField {
  if (/^No valid backend was found\./.test(error)) {
    return MessageDetail.NO_BACKEND_AVAILABLE;
  }
  if (/^Volume migration cancelled:/.test(error)) {
    return MessageDetail.MIGRATION_CANCELLED;
  }
  return MessageDetail.MIGRATION_FAILED;
}

/** What the owner was doing: an evacuation's move, a retype or a migration. */
function actionOf(m: MigrationRow & { evacuation_id?: string | null }): MessageField {
  if (m.evacuation_id) {
    return MessageAction.EVACUATE_VOLUME;
  }
  return m.kind === MigrationKind.RETYPE ? MessageAction.RETYPE_VOLUME : MessageAction.MIGRATE_VOLUME;
}

/**
 * A migration that ends before the row swap: the volume gets migration_status `error` and, if the
 * migration had locked it (`maintenance`) or a retype had (`retyping`), its previous status back;
 * the attempt's row records the reason, and the volume's owner gets a user message (GET
 * /messages) saying which action failed and why in Cinder's fixed words, never the internal
 * reason. One transaction, the rows by compare-and-swap, so a migration that moved on meanwhile
 * is left alone (and no message is written for it). Used by the API (cast failed), the scheduler
 * (no valid backend) and the volume worker (copy failed).
 */
export async function recordMigrationFailure(
  db: Knex,
  f: {
    volumeId: string;
    migrationId: string;
    /** The volume's migration_status the failing step expects (starting or migrating). */
    from: MigrationStatus;
    fromState: MigrationState;
    error: string;
    /** The user message's detail; by default derived from `error`. */
    detail?: MessageField;
  },
): Promise<void> {
  await db.transaction(async (trx) => {
    await updateVolumeIf(
      trx,
      f.volumeId,
      {
        migration_status: "error",
        status: trx.raw("CASE WHEN ?? IN (?, ?) THEN coalesce(??, ??) ELSE ?? END", [
          "status",
          VolumeStatus.MAINTENANCE,
          VolumeStatus.RETYPING,
          "previous_status",
          "status",
          "status",
        ]),
      },
      { migration_status: f.from },
    );
    const failed = await updateMigrationIf(
      trx,
      f.migrationId,
      { state: MigrationState.ERROR, error: f.error, finished_at: trx.fn.now() },
      { state: f.fromState },
    );
    const volume = failed ? await getVolume(trx, f.volumeId) : undefined;
    if (failed && volume) {
      await recordUserMessage(trx, {
        projectId: volume.project_id,
        action: actionOf(failed),
        detail: f.detail ?? detailOf(f.error),
        resourceUuid: volume.id,
      });
    }
  });
}
