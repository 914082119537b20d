import type { Knex } from "knex";

import { MigrationState, type MigrationStatus, VolumeStatus } from "../common/states";
import { updateMigrationIf } from "./migrationRecords";
import { updateVolumeIf } from "./volumes";

/**
 * A migration that ends before the row swap: the volume gets migration_status `error` and, if the
 * migration had locked it (`maintenance`) or a retype had (`retyping`), its previous status back;
 * the attempt's row records the reason. One transaction, both rows by compare-and-swap, so a
 * migration that moved on meanwhile is left alone. Used by the API (cast failed), the scheduler
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
    await updateMigrationIf(
      trx,
      f.migrationId,
      { state: MigrationState.ERROR, error: f.error, finished_at: trx.fn.now() },
      { state: f.fromState },
    );
  });
}
