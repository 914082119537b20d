/**
 * The two ways a migration leaves `starting`/`queued` on its source worker: it begins (its flow
 * chosen in the same transaction), or an administrator's cancel ends it before anything ran.
 */
import type { Knex } from "knex";

import type { Logger } from "../../common/logger";
import { AttachStatus, type MigrationFlow, MigrationState, MigrationStatus } from "../../common/states";
import { listAttachments } from "../../db/attachments";
import type { Db } from "../../db/connection";
import { recordMigrationFailure } from "../../db/migrationOutcome";
import { getMigration, type MigrationRow, updateMigrationIf } from "../../db/migrationRecords";
import { snapshotChain } from "../../db/snapshotMoves";
import { updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { getVolumeType } from "../../db/volumeTypes";
import type { VolumeDriver } from "../../drivers/types";
import { cancelledByAdmin } from "./cancel";
import { chooseFlow, typeDiffAllowsDriver } from "./flows/chooseFlow";

export interface MigrationStartDeps {
  db: Db;
  driver: VolumeDriver;
  logger: Logger;
  ownsHost(host: string | null): boolean;
}

/** Thrown inside the transaction to undo it: the volume is not starting a migration here. */
class NotBegun extends Error {}

/**
 * Migration `starting`/`queued` → `migrating` and volume `starting` → `migrating`, with the flow,
 * in one transaction. Returns the flow to run, or null when the migration does not begin: it
 * moved on (a redelivered message), its volume is not starting a migration here, or a cancel won
 * the race (then it is ended as cancelled). A queued migration whose volume left `starting`
 * meanwhile (an administrator's reset-state) ends in error instead of waiting forever.
 */
export async function beginMigration(
  deps: MigrationStartDeps,
  migration: MigrationRow,
  forceHostCopy: boolean,
): Promise<MigrationFlow | null> {
  const { db, logger } = deps;
  const flow = await db
    .transaction(async (trx) => {
      const moving = await updateMigrationIf(
        trx,
        migration.id,
        { state: MigrationState.MIGRATING, started_at: trx.fn.now() },
        { state: migration.state, cancel_requested_at: null },
      );
      if (!moving) {
        return null;
      }
      const volume = await updateVolumeIf(
        trx,
        migration.volume_id,
        { migration_status: MigrationStatus.MIGRATING },
        { migration_status: MigrationStatus.STARTING },
      );
      if (!volume || !deps.ownsHost(volume.host)) {
        throw new NotBegun();
      }
      const chosen = await pickFlow(deps, trx, volume, migration, forceHostCopy);
      await updateMigrationIf(trx, migration.id, { flow: chosen }, { state: MigrationState.MIGRATING });
      return chosen;
    })
    .catch((e: unknown) => {
      if (e instanceof NotBegun) {
        return null;
      }
      throw e;
    });
  if (flow) {
    return flow;
  }
  const now = await getMigration(db, migration.id);
  if (now?.state === migration.state && now.cancel_requested_at) {
    await endCancelledMigration(deps, now);
  } else if (now?.state === MigrationState.QUEUED) {
    logger.warn({ migration_id: migration.id }, "queued migration's volume is no longer starting");
    await updateMigrationIf(
      db,
      migration.id,
      {
        state: MigrationState.ERROR,
        error: "the volume's migration_status changed while the migration was queued",
        finished_at: db.fn.now(),
      },
      { state: MigrationState.QUEUED },
    );
  } else {
    logger.info(
      { migration_id: migration.id },
      "migrate_volume: volume not starting a migration here; ignored",
    );
  }
  return null;
}

/**
 * A cancel that landed before the flow began (`starting` or `queued`): nothing ran, so only the
 * volume goes back (migration_status `error`, a lock undone) and the row records who stopped it.
 */
export async function endCancelledMigration(
  deps: Pick<MigrationStartDeps, "db" | "logger">,
  m: MigrationRow,
): Promise<void> {
  await recordMigrationFailure(deps.db, {
    volumeId: m.volume_id,
    migrationId: m.id,
    from: MigrationStatus.STARTING,
    fromState: m.state,
    error: cancelledByAdmin(m.cancel_requested_at ?? new Date()).message,
  });
  deps.logger.info({ migration_id: m.id }, "migration cancelled before it started");
}

async function pickFlow(
  deps: MigrationStartDeps,
  trx: Knex.Transaction,
  volume: VolumeRow,
  migration: MigrationRow,
  forceHostCopy: boolean,
): Promise<MigrationFlow> {
  const attachments = await listAttachments(trx, [volume.id]);
  let typeOk = true;
  if (migration.new_volume_type_id && migration.new_volume_type_id !== volume.volume_type_id) {
    const [from, to] = await Promise.all([
      volume.volume_type_id ? getVolumeType(trx, volume.volume_type_id) : undefined,
      getVolumeType(trx, migration.new_volume_type_id),
    ]);
    typeOk = typeDiffAllowsDriver(from?.extra_specs ?? {}, to?.extra_specs ?? {});
  }
  return chooseFlow({
    hasSnapshots: (await snapshotChain(trx, volume.id)).length > 0,
    attached: attachments.some((a) => a.attach_status === AttachStatus.ATTACHED),
    forceHostCopy,
    driverCanMigrate: deps.driver.migrateVolume !== undefined,
    typeDiffAllowsDriver: typeOk,
  });
}
