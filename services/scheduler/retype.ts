import { coerceError, NoValidBackend, VolumeMigrationFailed } from "../../common/errors";
import { backendOf } from "../../common/hosts";
import {
  IDLE_MIGRATION_STATUSES,
  MigrationKind,
  MigrationState,
  MigrationStatus,
  VolumeStatus,
} from "../../common/states";
import { recordMigrationFailure } from "../../db/migrationOutcome";
import { getMigration, insertMigration, updateMigrationIf } from "../../db/migrationRecords";
import { snapshotsMayMove } from "../../db/snapshotMoves";
import { getVolume, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { getVolumeType } from "../../db/volumeTypes";
import type { SchedulerRetype } from "../rpc/methods";
import type { VolumeRpc } from "../rpc/stubs";
import { loadPools } from "./backends";
import type { SchedulerDeps } from "./deps";
import { capabilitiesPass, rankPools } from "./filters";

/**
 * Cinder's SchedulerManager.retype + FilterScheduler.find_retype_backend: if the volume's current
 * pool satisfies the new type (capacity exempt: the volume is already there) the worker retypes in
 * place and nothing moves; otherwise `never` fails and `on-demand` migrates to the best pool, the
 * type flipping in the same update as migration_status `success`.
 */
export async function scheduleRetype(
  deps: SchedulerDeps & { volumeRpc: VolumeRpc },
  req: SchedulerRetype,
): Promise<void> {
  const { db, logger } = deps;
  const volume = await getVolume(db, req.volume_id);
  if (!volume?.host || volume.status !== VolumeStatus.RETYPING) {
    logger.info({ volume_id: req.volume_id }, "retype: volume is no longer retyping; nothing to do");
    return;
  }
  try {
    const type = await getVolumeType(db, req.new_type_id);
    if (!type) {
      throw new VolumeMigrationFailed(`volume type ${req.new_type_id} no longer exists`);
    }
    const placement = { size: volume.size, extraSpecs: type.extra_specs };
    const pools = await loadPools(db, deps.config.serviceDownTime);
    const current = pools.find((p) => p.host === volume.host || p.serviceHost === volume.host);
    if (current && capabilitiesPass(current, placement)) {
      await deps.volumeRpc.retype(volume.host, { volume_id: volume.id, new_type_id: type.id });
      await finishUnneededMigration(deps, req.migration_id);
      return;
    }
    if (req.migration_policy === "never") {
      throw new NoValidBackend(
        `Current backend not valid for volume ${volume.id} with type ${type.name}, migration not allowed`,
      );
    }
    const [best] = rankPools(
      pools.filter((p) => backendOf(p.host) !== backendOf(volume.host!)),
      placement,
    );
    if (!best) {
      throw new NoValidBackend(`Cannot place volume ${volume.id} with type ${type.name} on any backend`);
    }
    const migrationId = await startMigration(deps, volume, req, best.host);
    await deps.volumeRpc.migrateVolume(volume.host, {
      volume_id: volume.id,
      migration_id: migrationId,
      dest: { host: best.host, capabilities: best.capabilities },
      force_host_copy: false,
    });
  } catch (e) {
    await failRetype(deps, volume, req.migration_id, coerceError(e));
  }
}

/** retyping → migrating needs an idle migration and no snapshots (Cinder's manager checks). */
async function startMigration(
  deps: SchedulerDeps,
  volume: VolumeRow,
  req: SchedulerRetype,
  destHost: string,
): Promise<string> {
  return deps.db.transaction(async (trx) => {
    const started = await updateVolumeIf(
      trx,
      volume.id,
      { migration_status: MigrationStatus.STARTING },
      { status: VolumeStatus.RETYPING, migration_status: IDLE_MIGRATION_STATUSES },
      snapshotsMayMove(deps.config.migrateVolumesWithSnapshots),
    );
    if (!started) {
      throw new VolumeMigrationFailed("Volume must not have snapshots and must not be migrating.");
    }
    const existing = req.migration_id ? await getMigration(trx, req.migration_id) : undefined;
    if (existing) {
      await updateMigrationIf(
        trx,
        existing.id,
        { dest_host: destHost, kind: MigrationKind.RETYPE, new_volume_type_id: req.new_type_id },
        { state: MigrationState.STARTING },
      );
      return existing.id;
    }
    const m = await insertMigration(trx, {
      volume_id: volume.id,
      source_host: volume.host!,
      requested_dest: destHost,
      dest_host: destHost,
      force_host_copy: false,
      lock_volume: false,
      user_id: volume.user_id,
      kind: MigrationKind.RETYPE,
      new_volume_type_id: req.new_type_id,
    });
    return m.id;
  });
}

/** A migrations row the API recorded for a retype that turned out not to need a move. */
async function finishUnneededMigration(deps: SchedulerDeps, migrationId: string | null): Promise<void> {
  if (migrationId) {
    await updateMigrationIf(
      deps.db,
      migrationId,
      { state: MigrationState.SUCCESS, finished_at: deps.db.fn.now(), error: null },
      { state: MigrationState.STARTING },
    );
  }
}

/** The volume gets its status back; a migration already begun is recorded as failed. */
async function failRetype(
  deps: SchedulerDeps,
  volume: VolumeRow,
  migrationId: string | null,
  err: Error,
): Promise<void> {
  deps.logger.warn({ err, volume_id: volume.id }, "retype failed in the scheduler");
  await updateVolumeIf(
    deps.db,
    volume.id,
    { status: deps.db.raw("coalesce(previous_status, 'available')") },
    { status: VolumeStatus.RETYPING, migration_status: IDLE_MIGRATION_STATUSES },
  );
  // Cinder only logs a refused retype; here it is a failed attempt an admin can find.
  const id =
    migrationId ??
    (
      await insertMigration(deps.db, {
        volume_id: volume.id,
        source_host: volume.host!,
        requested_dest: "",
        force_host_copy: false,
        lock_volume: false,
        user_id: volume.user_id,
        kind: MigrationKind.RETYPE,
      })
    ).id;
  await recordMigrationFailure(deps.db, {
    volumeId: volume.id,
    migrationId: id,
    from: MigrationStatus.STARTING,
    fromState: MigrationState.STARTING,
    error: err.message,
  });
}
