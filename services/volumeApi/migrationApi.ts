/**
 * The admin `migrations` resource (beyond Cinder): every migration attempt with its progress, and
 * two controls, cancel and set_bandwidth_limit. Both only record the request on the row by
 * compare-and-swap; the source worker acts on it within about a second (migrationRunner.ts polls
 * the row, copyProgress.ts re-reads the limit).
 */
import { ErrorCodes, InvalidInput, NotFound, PolicyNotAuthorized, ServiceError } from "../../common/errors";
import { backendOf } from "../../common/hosts";
import { MIGRATION_STATES, MigrationFlow, MigrationState } from "../../common/states";
import {
  FINISHED_STATES,
  getMigration,
  listMigrations,
  type MigrationRow,
  queuePositions,
  updateMigrationIf,
} from "../../db/migrationRecords";
import type { Caller } from "./caller";
import { boolParam, type VolumeApiOptions } from "./lookup";

/** Policy names of the migrations resource, all admin-only (`rule:admin_api`). */
export const MigrationPolicy = {
  GET_ALL: "volume_extension:migrations:get_all",
  GET: "volume_extension:migrations:get",
  CANCEL: "volume_extension:migrations:cancel",
  SET_BANDWIDTH_LIMIT: "volume_extension:migrations:set_bandwidth_limit",
} as const;
type MigrationPolicy = (typeof MigrationPolicy)[keyof typeof MigrationPolicy];

/** Same rule as caller.ts `authorize`: only admins. */
function authorize(caller: Caller, rule: MigrationPolicy): void {
  if (!caller.isAdmin) {
    throw new PolicyNotAuthorized(rule);
  }
}

export class MigrationNotFound extends NotFound {
  constructor(id: string) {
    super(`Migration ${id} could not be found.`);
  }
}

/** 409 conflictingRequest: the migration's state does not allow the action. (No conflict code exists; reuses InvalidInput's.) */
export class MigrationConflict extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_INVALID_INPUT;
  override readonly httpStatus = 409;
  override readonly safe = true;
}

/** States a cancel may interrupt; `completing` is past the point of no return. */
const CANCELLABLE: readonly MigrationState[] = [
  MigrationState.STARTING,
  MigrationState.QUEUED,
  MigrationState.MIGRATING,
];
const UNFINISHED = MIGRATION_STATES.filter((s) => !FINISHED_STATES.includes(s));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface MigrationListQuery {
  volume_id?: string;
  state?: string;
  active?: string;
}

/** A row with what the view needs beyond it. */
export interface MigrationInfo {
  row: MigrationRow;
  /** 1-based place in its backend's queue when `queued`, else null. */
  queuePosition: number | null;
  /** The limit its copy runs with: the row's, else the source backend's volume_copy_bps_limit when this process knows it. */
  effectiveBpsLimit: number | null;
}

export class MigrationApi {
  constructor(private readonly o: VolumeApiOptions) {}

  async list(caller: Caller, q: MigrationListQuery): Promise<MigrationInfo[]> {
    authorize(caller, MigrationPolicy.GET_ALL);
    if (q.state !== undefined && !(MIGRATION_STATES as readonly string[]).includes(q.state)) {
      throw new InvalidInput(`state '${q.state}' is not one of ${MIGRATION_STATES.join(", ")}.`);
    }
    const active = boolParam("active", q.active);
    if (q.volume_id !== undefined && !UUID.test(q.volume_id)) {
      return [];
    }
    const rows = await listMigrations(this.o.db, {
      volumeId: q.volume_id,
      state: q.state as MigrationState | undefined,
      active,
    });
    return this.describe(rows);
  }

  async get(caller: Caller, id: string): Promise<MigrationInfo> {
    authorize(caller, MigrationPolicy.GET);
    return (await this.describe([await this.find(id)]))[0]!;
  }

  /**
   * Records the cancel request (the first one's time is kept). Refused once the migration is
   * completing or finished, and for a Nova swap (attached volume), which only Nova can stop.
   */
  async cancel(caller: Caller, id: string): Promise<void> {
    authorize(caller, MigrationPolicy.CANCEL);
    await this.find(id);
    const { db } = this.o;
    const done = await updateMigrationIf(
      db,
      id,
      { cancel_requested_at: db.raw("coalesce(cancel_requested_at, now())") },
      { state: CANCELLABLE, flow: [null, MigrationFlow.GENERIC, MigrationFlow.DRIVER] },
    );
    if (!done) {
      const m = await this.find(id);
      throw new MigrationConflict(
        m.flow === MigrationFlow.COMPUTE && CANCELLABLE.includes(m.state)
          ? `Migration ${id} is moved by Nova's swap volume (attached volume) and cannot be cancelled.`
          : `Migration ${id} is ${m.state} and cannot be cancelled.`,
      );
    }
    this.o.logger.info({ migration_id: id, user_id: caller.userId }, "migration cancel requested");
  }

  /** Sets (or with null clears) the migration's own limit; the copy picks it up within a second or so. */
  async setBandwidthLimit(caller: Caller, id: string, bps: number | null): Promise<void> {
    authorize(caller, MigrationPolicy.SET_BANDWIDTH_LIMIT);
    await this.find(id);
    const done = await updateMigrationIf(this.o.db, id, { bps_limit: bps }, { state: UNFINISHED });
    if (!done) {
      const m = await this.find(id);
      throw new MigrationConflict(`Migration ${id} is ${m.state}; its bandwidth limit cannot be changed.`);
    }
    this.o.logger.info({ migration_id: id, bps_limit: bps }, "migration bandwidth limit set");
  }

  private async find(id: string): Promise<MigrationRow> {
    const m = UUID.test(id) ? await getMigration(this.o.db, id) : undefined;
    if (!m) {
      throw new MigrationNotFound(id);
    }
    return m;
  }

  /** What the view needs beyond the rows (the live events describe the rows they send with it). */
  async describe(rows: MigrationRow[]): Promise<MigrationInfo[]> {
    const positions = rows.some((r) => r.state === MigrationState.QUEUED)
      ? await queuePositions(this.o.db)
      : new Map<string, number>();
    return rows.map((row) => ({
      row,
      queuePosition: positions.get(row.id) ?? null,
      effectiveBpsLimit: row.bps_limit ?? this.backendDefault(row.source_host),
    }));
  }

  private backendDefault(sourceHost: string): number | null {
    const backend = this.o.config.backends.find((b) => b.serviceHost === backendOf(sourceHost));
    return backend && backend.volumeCopyBpsLimit > 0 ? backend.volumeCopyBpsLimit : null;
  }
}
