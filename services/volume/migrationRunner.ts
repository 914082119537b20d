import { listAttachments } from "../../db/attachments";
import type { Knex } from "knex";
import { getMigration, type MigrationRow, updateMigrationIf } from "../../db/migrationRecords";
import { updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { getVolumeType } from "../../db/volumeTypes";
import type { MigrationDestination } from "../../drivers/types";
import { coerceError } from "../common/errors";
import { AttachStatus, MigrationFlow, MigrationState, MigrationStatus } from "../common/states";
import type { VolumeMigrateVolume, VolumeRpc } from "../rpc/stubs";
import { finishComputeMigration } from "./completion";
import { chooseFlow, typeDiffAllowsDriver } from "./flows/chooseFlow";
import { runComputeMigration } from "./flows/compute";
import { runDriverMigration } from "./flows/driverNative";
import { runGenericMigration } from "./flows/generic";
import type { VolumeManagerDeps } from "./manager";

export interface MigrationRunnerDeps extends VolumeManagerDeps {
  volumeRpc: VolumeRpc;
  ownsHost(host: string | null): boolean;
}

/**
 * The source side of every migration leaving this backend. The bus message is acknowledged once
 * the volume and the migration row say `migrating`; the flow then runs in the background, tracked
 * so a stopping worker waits for it. A redelivered message finds the CAS already done.
 */
export class MigrationRunner {
  private readonly tasks = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly deps: MigrationRunnerDeps) {}

  async migrateVolume(req: VolumeMigrateVolume): Promise<void> {
    const { db, logger } = this.deps;
    const migration = await getMigration(db, req.migration_id);
    if (!migration || migration.dest_host !== req.dest.host) {
      logger.warn(
        { migration_id: req.migration_id },
        "migrate_volume: unknown migration or destination; ignored",
      );
      return;
    }
    const flow = await db.transaction(async (trx) => {
      const volume = await updateVolumeIf(
        trx,
        req.volume_id,
        { migration_status: MigrationStatus.MIGRATING },
        { migration_status: MigrationStatus.STARTING },
      );
      if (!volume || !this.deps.ownsHost(volume.host)) {
        return null;
      }
      const chosen = await this.chooseFlow(trx, volume, migration, req.force_host_copy);
      const m = await updateMigrationIf(
        trx,
        migration.id,
        { state: MigrationState.MIGRATING, flow: chosen, started_at: trx.fn.now() as never },
        { state: MigrationState.STARTING },
      );
      if (!m) {
        throw new Error(`migration ${migration.id} is not starting`);
      }
      return chosen;
    });
    if (!flow) {
      logger.info(
        { migration_id: migration.id },
        "migrate_volume: volume not starting a migration here; ignored",
      );
      return;
    }
    this.track(migration.id, this.runFlow(flow, migration.id, req.dest));
  }

  /** Nova finished (or failed) the swap of an attached volume; answers with the id Nova keeps. */
  async complete(volumeId: string, newVolumeId: string, error: boolean): Promise<{ save_volume_id: string }> {
    const done = await finishComputeMigration(this.deps, { volumeId, newVolumeId, error });
    this.track(volumeId, done.cleanup);
    return { save_volume_id: done.saveVolumeId };
  }

  /** Continues a driver move that a crash interrupted (recovery.ts decided it). */
  resumeDriverMigration(migrationId: string, dest: MigrationDestination): void {
    this.track(migrationId, this.runFlow(MigrationFlow.DRIVER, migrationId, dest));
  }

  track(what: string, work: Promise<void>): void {
    const task = work
      .catch((e) => this.deps.logger.error({ err: coerceError(e), what }, "background work failed"))
      .finally(() => this.tasks.delete(task));
    this.tasks.add(task);
  }

  /** Asks running flows to stop (a copy is aborted) and waits for them. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled([...this.tasks]);
  }

  private async chooseFlow(
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
      attached: attachments.some((a) => a.attach_status === AttachStatus.ATTACHED),
      forceHostCopy,
      driverCanMigrate: this.deps.driver.migrateVolume !== undefined,
      typeDiffAllowsDriver: typeOk,
    });
  }

  private async runFlow(flow: MigrationFlow, migrationId: string, dest: MigrationDestination): Promise<void> {
    const deps = { ...this.deps, signal: this.abort.signal };
    switch (flow) {
      case MigrationFlow.DRIVER:
        if (await runDriverMigration(deps, migrationId, dest)) {
          return;
        }
        return runGenericMigration(deps, migrationId);
      case MigrationFlow.GENERIC:
        return runGenericMigration(deps, migrationId);
      case MigrationFlow.COMPUTE:
        return runComputeMigration(deps, migrationId);
      default: {
        const never: never = flow;
        throw new Error(`unknown flow ${String(never)}`);
      }
    }
  }
}
