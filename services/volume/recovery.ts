import type { AppConfig, BackendConfig } from "../../common/config";
import { coerceError } from "../../common/errors";
import { backendOf, poolOf } from "../../common/hosts";
import type { Logger } from "../../common/logger";
import { requestIdsOf, runWithRequestIds } from "../../common/requestContext";
import {
  MigrationFlow,
  MigrationState,
  MigrationStatus,
  ServiceBinary,
  VolumeStatus,
} from "../../common/states";
import { listAttachments } from "../../db/attachments";
import type { Db } from "../../db/connection";
import { recordMigrationFailure } from "../../db/migrationOutcome";
import type { MigrationRow } from "../../db/migrationRecords";
import { listServices } from "../../db/services";
import { getVolume, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import type { MigrationDestination } from "../../drivers/types";
import type { VolumeRpc } from "../rpc/stubs";
import type { Bus } from "../rpc/types";
import { cancelledByAdmin } from "./cancel";
import { removeMovedSnapshots } from "./flows/snapshots";
import { removeTempVolume } from "./flows/temp";

export interface RecoveryDeps {
  db: Db;
  config: AppConfig;
  backend: BackendConfig;
  volumeRpc: VolumeRpc;
  logger: Logger;
  /** For the destination's snapshots of an interrupted move with snapshots. */
  bus?: Bus;
}

/** What recovery decided for one unfinished migration of this backend. */
export type RecoveryAction = "rolled-back" | "resume-driver" | "resume-copy" | "wait-for-nova";

/** A migration recovery hands back to the runner (MigrationRunner.resumeCopy / resumeDriverMigration). */
export interface Resumption {
  migration: MigrationRow;
  dest: MigrationDestination;
  action: "resume-driver" | "resume-copy";
}

/** What decide() needs to know of a migration's temp volume. */
export type TempVolumeState = Pick<VolumeRow, "status" | "migration_target_of">;

/**
 * Cinder leaves `starting`/`migrating`/`completing` forever when a volume service dies. When this
 * worker starts, every migration that left this backend and is unfinished is settled:
 * - generic copies with a checkpoint whose temp volume is still `available` are resumed from
 *   that checkpoint (every byte below it is synced on the temp volume and covered by its digests);
 * - other generic copies (and migrations not begun) roll back: the swap is one transaction, so
 *   the source row still names the source data, which is intact; the temp volume is removed;
 * - driver moves are resumed: drivers make migrateVolume idempotent, and a half-done move may
 *   already have removed the source;
 * - Nova swaps are left to Nova's callback until [nova] swap_timeout_secs, then rolled back;
 * - queued migrations are left queued: the worker starts them again, oldest first, once recovery
 *   is done (MigrationRunner.resumeQueued), and ends the ones cancelled meanwhile.
 * Returns the driver moves and copies to resume, with their destination.
 */
export async function recoverMigrations(deps: RecoveryDeps): Promise<Resumption[]> {
  const { db } = deps;
  const mine = (await unfinishedMigrations(db)).filter(
    (m) => backendOf(m.source_host) === deps.backend.serviceHost,
  );
  const resume: Resumption[] = [];
  for (const m of mine) {
    // Its lines carry the ids of the request that made it, as they did before the restart.
    const r = await runWithRequestIds(requestIdsOf(m), () => recoverOne(deps, m));
    if (r) {
      resume.push(r);
    }
  }
  return resume;
}

async function recoverOne(deps: RecoveryDeps, m: MigrationRow): Promise<Resumption | undefined> {
  const { db, logger } = deps;
  const temp = m.temp_volume_id ? await getVolume(db, m.temp_volume_id) : undefined;
  const action = decide(m, deps.config, Date.now(), temp);
  logger.warn({ migration_id: m.id, volume_id: m.volume_id, state: m.state, action }, "recovering migration");
  if (action === "resume-driver" || action === "resume-copy") {
    return { migration: m, dest: await destinationOf(deps, m.dest_host!), action };
  }
  if (action === "rolled-back") {
    // A cancel that had not been carried out yet is what the record should say.
    const reason = m.cancel_requested_at
      ? cancelledByAdmin(m.cancel_requested_at).message
      : "the volume service restarted during the migration; the source is unchanged";
    await rollBack(deps, m, reason);
  }
  return undefined;
}

export function decide(
  m: MigrationRow,
  config: AppConfig,
  now = Date.now(),
  temp?: TempVolumeState,
): RecoveryAction {
  if (m.state === MigrationState.MIGRATING && m.flow === MigrationFlow.DRIVER && m.dest_host) {
    return "resume-driver";
  }
  if (
    m.state === MigrationState.MIGRATING &&
    m.flow === MigrationFlow.GENERIC &&
    m.dest_host &&
    m.checkpoint &&
    // A cancel requested while the worker was down is carried out, not resumed.
    !m.cancel_requested_at &&
    temp?.status === VolumeStatus.AVAILABLE &&
    temp.migration_target_of === m.volume_id
  ) {
    return "resume-copy";
  }
  if (m.state === MigrationState.MIGRATING && m.flow === MigrationFlow.COMPUTE) {
    const started = (m.started_at ?? m.created_at).getTime();
    const limit = (config.nova?.swapTimeoutSecs ?? 0) * 1000;
    return now - started < limit ? "wait-for-nova" : "rolled-back";
  }
  return "rolled-back";
}

/** Compute migrations whose Nova callback never came: rolled back (run periodically). */
export async function expireComputeMigrations(deps: RecoveryDeps): Promise<void> {
  for (const m of await unfinishedMigrations(deps.db)) {
    if (backendOf(m.source_host) === deps.backend.serviceHost && m.flow === MigrationFlow.COMPUTE) {
      if (decide(m, deps.config) === "rolled-back") {
        const reason = "Nova did not complete the swap within [nova] swap_timeout_secs";
        await runWithRequestIds(requestIdsOf(m), () => rollBack(deps, m, reason));
      }
    }
  }
}

/**
 * Volumes on this backend left `deleting` (a retired source, a removed temp volume) and temp
 * volumes whose migration is over: returned so the worker deletes them now.
 */
export async function leftoverVolumes(deps: RecoveryDeps): Promise<string[]> {
  const { db } = deps;
  const host = deps.backend.serviceHost;
  const rows = (await db("volumes")
    .where({ deleted: false })
    .andWhere((w) => w.where("host", host).orWhere("host", "like", `${host}#%`))
    .andWhere((w) => w.where("status", VolumeStatus.DELETING).orWhereNotNull("migration_target_of"))) as {
    id: string;
    status: string;
    migration_target_of: string | null;
  }[];
  const ids: string[] = [];
  for (const v of rows) {
    if (v.status === VolumeStatus.DELETING) {
      ids.push(v.id);
      continue;
    }
    // A migration records its temp volume just after inserting the row: one of the source's that
    // is migrating and has none recorded yet (a queued one a restarted source worker just began)
    // may be about to.
    const running = await db("migrations")
      .where({ volume_id: v.migration_target_of, state: MigrationState.MIGRATING })
      .andWhere((w) => w.where("temp_volume_id", v.id).orWhereNull("temp_volume_id"))
      .first();
    if (!running) {
      const marked = await updateVolumeIf(
        db,
        v.id,
        { status: VolumeStatus.DELETING },
        { migration_target_of: v.migration_target_of },
      );
      if (marked) {
        ids.push(v.id);
      }
    }
  }
  return ids;
}

async function unfinishedMigrations(db: Db): Promise<MigrationRow[]> {
  return (await db("migrations").whereIn("state", [
    MigrationState.STARTING,
    MigrationState.MIGRATING,
    MigrationState.COMPLETING,
  ])) as MigrationRow[];
}

async function rollBack(deps: RecoveryDeps, m: MigrationRow, reason: string): Promise<void> {
  try {
    const from = m.state === MigrationState.STARTING ? MigrationStatus.STARTING : MigrationStatus.MIGRATING;
    await recordMigrationFailure(deps.db, {
      volumeId: m.volume_id,
      migrationId: m.id,
      from,
      fromState: m.state,
      error: reason,
    });
    const temp = m.temp_volume_id ? await getVolume(deps.db, m.temp_volume_id) : undefined;
    if (temp && m.flow === MigrationFlow.SNAPSHOTS && deps.bus) {
      await removeMovedSnapshots({ ...deps, bus: deps.bus }, m, temp.host!);
    }
    if (temp) {
      await removeTempVolume(deps, m.volume_id, temp);
    }
    if (m.flow === MigrationFlow.COMPUTE) {
      // Nothing of Nova's state can be undone from here; say so where an operator looks.
      const attached = await listAttachments(deps.db, [m.volume_id]);
      deps.logger.error(
        { migration_id: m.id, attachments: attached.length },
        "compute migration rolled back; check the server's volume",
      );
    }
  } catch (e) {
    deps.logger.error({ err: coerceError(e), migration_id: m.id }, "could not roll back the migration");
  }
}

/** The destination pool as its service last reported it (what the scheduler sends in migrate_volume). */
export async function destinationOf(
  deps: Pick<RecoveryDeps, "db" | "config">,
  destHost: string,
): Promise<MigrationDestination> {
  const [service] = await listServices(deps.db, deps.config.serviceDownTime, {
    binary: ServiceBinary.VOLUME,
    host: backendOf(destHost),
  });
  const pool = service?.capabilities?.pools.find((p) => p.pool_name === poolOf(destHost)) ?? null;
  return { host: destHost, capabilities: pool };
}
