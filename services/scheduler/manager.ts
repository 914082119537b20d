import { coerceError, NoValidBackend } from "../../common/errors";
import { backendOf, poolOf } from "../../common/hosts";
import { MessageAction, MessageDetail } from "../../common/messageFields";
import { MigrationState, MigrationStatus, VolumeStatus } from "../../common/states";
import { recordUserMessage } from "../../db/messages";
import { recordMigrationFailure } from "../../db/migrationOutcome";
import { getMigration, updateMigrationIf } from "../../db/migrationRecords";
import { getSnapshot } from "../../db/snapshots";
import { getVolume, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { getVolumeType } from "../../db/volumeTypes";
import type { SchedulerCreateVolume, SchedulerMethods, SchedulerMigrateVolume } from "../rpc/methods";
import { VolumeRpc } from "../rpc/stubs";
import { toRpcHandlers } from "../rpc/typed";
import type { RpcHandlers } from "../rpc/types";
import { loadPools, type PoolState } from "./backends";
import type { SchedulerDeps } from "./deps";
import { explainNoPlacement } from "./explain";
import { type PlacementRequest, rankPools } from "./filters";
import { scheduleRetype } from "./retype";

/** Places new volumes and validates migration destinations (cinder/scheduler/manager.py). */
export class SchedulerManager {
  private readonly volumeRpc: VolumeRpc;

  constructor(private readonly deps: SchedulerDeps) {
    this.volumeRpc = new VolumeRpc(deps.bus);
  }

  handlers(): RpcHandlers {
    return toRpcHandlers<SchedulerMethods>({
      create_volume: (a) => this.createVolume(a),
      migrate_volume: (a) => this.migrateVolume(a),
      retype: (a) => scheduleRetype({ ...this.deps, volumeRpc: this.volumeRpc }, a),
    });
  }

  async createVolume({ volume_id }: SchedulerCreateVolume): Promise<void> {
    const { db, logger } = this.deps;
    const volume = await getVolume(db, volume_id);
    if (!volume || volume.status !== VolumeStatus.CREATING || volume.host !== null) {
      logger.info({ volume_id }, "create_volume: volume no longer waiting for placement");
      return;
    }
    // Cinder's AvailabilityZoneFilter: a new volume goes to a backend of the zone it was asked in.
    let pools = (await loadPools(db, this.deps.config.serviceDownTime)).filter(
      (p) => volume.availability_zone === null || p.availabilityZone === volume.availability_zone,
    );
    if (volume.snapshot_id || volume.source_volid) {
      // The data is in the snapshot or the source volume, on its backend: place the new volume
      // there (Cinder's snapshot_same_host, default on, and its clone rule: a source volume's host).
      const snap = volume.snapshot_id ? await getSnapshot(db, volume.snapshot_id) : undefined;
      const origin = volume.source_volid
        ? await getVolume(db, volume.source_volid)
        : snap
          ? await getVolume(db, snap.volume_id)
          : undefined;
      pools = pools.filter((p) => origin?.host && p.serviceHost === backendOf(origin.host));
    }
    const [best] = rankPools(pools, await this.placement(volume));
    if (!best) {
      logger.warn({ volume_id }, "No valid backend was found for the new volume");
      await db.transaction(async (trx) => {
        const failed = await updateVolumeIf(
          trx,
          volume_id,
          { status: VolumeStatus.ERROR },
          { status: VolumeStatus.CREATING, host: null },
        );
        // The owner learns why from GET /messages (Cinder's "schedule allocate volume" message).
        if (failed) {
          await recordUserMessage(trx, {
            projectId: failed.project_id,
            action: MessageAction.SCHEDULE_ALLOCATE_VOLUME,
            detail: MessageDetail.NO_BACKEND_AVAILABLE,
            resourceUuid: volume_id,
          });
        }
      });
      return;
    }
    const placed = await updateVolumeIf(
      db,
      volume_id,
      { host: best.host, availability_zone: best.availabilityZone },
      { status: VolumeStatus.CREATING, host: null },
    );
    if (placed) {
      await this.volumeRpc.createVolume(best.host, { volume_id });
    }
  }

  /**
   * Cinder's backend_passes_filters: the destination must be among the pools that pass the filters
   * for this volume's size and current type; without a `#pool` the best pool of that backend wins.
   */
  async migrateVolume(req: SchedulerMigrateVolume): Promise<void> {
    const { db, logger } = this.deps;
    const [volume, migration] = await Promise.all([
      getVolume(db, req.volume_id),
      getMigration(db, req.migration_id),
    ]);
    if (!volume || !migration || migration.state !== MigrationState.STARTING || !volume.host) {
      logger.info({ ...req }, "migrate_volume: migration is no longer starting; nothing to do");
      return;
    }
    try {
      const dest = await this.pickDestination(volume, req.backend);
      const recorded = await updateMigrationIf(
        db,
        migration.id,
        { dest_host: dest.host },
        { state: MigrationState.STARTING },
      );
      if (!recorded) {
        return;
      }
      logger.info(
        { volume_id: volume.id, migration_id: migration.id, dest: dest.host },
        "migration destination chosen; asking the source's volume service to move it",
      );
      await this.volumeRpc.migrateVolume(volume.host, {
        volume_id: volume.id,
        migration_id: migration.id,
        dest: { host: dest.host, capabilities: dest.capabilities },
        force_host_copy: req.force_host_copy,
      });
    } catch (e) {
      await this.failMigration(volume, migration.id, coerceError(e));
    }
  }

  private async pickDestination(volume: VolumeRow, backend: string): Promise<PoolState> {
    const ranked = rankPools(
      await loadPools(this.deps.db, this.deps.config.serviceDownTime),
      await this.placement(volume),
    );
    // A destination names a backend (`host@backend`) or, for cluster migrations, a cluster
    // (`cluster@backend`); without `#pool` the best-weighed pool of it wins.
    const target = backendOf(backend);
    const pool = poolOf(backend);
    const wanted = ranked.filter(
      (p) =>
        (p.serviceHost === target || p.clusterName === target) &&
        (pool === null || p.capabilities.pool_name === pool),
    );
    if (!wanted[0]) {
      // Only for the log: whatever goes wrong explaining, the answer stays Cinder's refusal.
      const why = await explainNoPlacement(
        this.deps.db,
        this.deps.config.serviceDownTime,
        { backend: target, pool },
        await this.placement(volume),
      ).catch((e: unknown) => [`could not tell why: ${coerceError(e).message}`]);
      this.deps.logger.warn(
        { volume_id: volume.id, backend, why },
        "no pool of the named destination passes",
      );
      throw new NoValidBackend(`Cannot place volume ${volume.id} on ${backend}`);
    }
    return wanted[0];
  }

  private async placement(volume: VolumeRow): Promise<PlacementRequest> {
    const type = volume.volume_type_id ? await getVolumeType(this.deps.db, volume.volume_type_id) : undefined;
    return { size: volume.size, extraSpecs: type?.extra_specs ?? {} };
  }

  /** Scheduler failures set `error` and give a locked volume its status back (Cinder leaves nothing stuck). */
  private async failMigration(volume: VolumeRow, migrationId: string, err: Error): Promise<void> {
    const { db, logger } = this.deps;
    logger.warn(
      { err, volume_id: volume.id, migration_id: migrationId },
      "migration refused by the scheduler",
    );
    await recordMigrationFailure(db, {
      volumeId: volume.id,
      migrationId,
      from: MigrationStatus.STARTING,
      fromState: MigrationState.STARTING,
      error: err.message,
    });
  }
}
