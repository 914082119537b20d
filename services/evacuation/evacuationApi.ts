/**
 * The admin `evacuations` resource (beyond Cinder), the API process's half: plan and create an
 * evacuation (or only plan it: a dry run stores and changes nothing), list and show it with live
 * progress, and steer it. Every status change is a compare-and-swap on the row; the driver
 * (services/evacuation/driver.ts) acts on what it finds there: it starts, follows and cancels
 * the migrations, and ends the evacuation.
 */
import { ErrorCodes, NotFound, PolicyNotAuthorized, ServiceError } from "../../common/errors";
import {
  ENDED_EVACUATION_STATUSES,
  EvacuationItemState,
  type EvacuationOrder,
  EvacuationStatus,
  ServiceBinary,
} from "../../common/states";
import {
  deleteEvacuationIf,
  type EvacuationRow,
  type EvacuationUpdates,
  getEvacuation,
  insertEvacuation,
  listEvacuationItems,
  listEvacuations,
  listItemsOf,
  type NewEvacuation,
  updateEvacuationIf,
} from "../../db/evacuations";
import { FINISHED_STATES } from "../../db/migrationRecords";
import { isUuid } from "../../db/volumes";
import { listVolumeTypes } from "../../db/volumeTypes";
import { loadPools } from "../scheduler/backends";
import type { Caller } from "../volumeApi/caller";
import type { VolumeApiOptions } from "../volumeApi/lookup";
import { type Plan, planEvacuation, type PlanVolume } from "./plan";
import { type EvacuationSummary, type ItemLike, loadRunningMigrations, summarize } from "./progress";
import { covers, coversWholeService, type EvacuationHosts, resolveEvacuationHosts } from "./spec";

/** Policy names of the evacuations resource, all admin-only (`rule:admin_api`). */
export const EvacuationPolicy = {
  CREATE: "volume_extension:evacuations:create",
  GET_ALL: "volume_extension:evacuations:get_all",
  GET: "volume_extension:evacuations:get",
  PAUSE: "volume_extension:evacuations:pause",
  RESUME: "volume_extension:evacuations:resume",
  CANCEL: "volume_extension:evacuations:cancel",
  SET_LIMITS: "volume_extension:evacuations:set_limits",
  DELETE: "volume_extension:evacuations:delete",
} as const;
type EvacuationPolicy = (typeof EvacuationPolicy)[keyof typeof EvacuationPolicy];

/** Same rule as caller.ts `authorize`: only admins. */
function authorize(caller: Caller, rule: EvacuationPolicy): void {
  if (!caller.isAdmin) {
    throw new PolicyNotAuthorized(rule);
  }
}

export class EvacuationNotFound extends NotFound {
  constructor(id: string) {
    super(`Evacuation ${id} could not be found.`);
  }
}

/** 409 conflictingRequest: the evacuation's status does not allow the action (InvalidInput's code, as MigrationConflict). */
export class EvacuationConflict extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_INVALID_INPUT;
  override readonly httpStatus = 409;
  override readonly safe = true;
}

/** Defaults of a new evacuation (the example request; OpenStack Watcher's caps). */
export const EVACUATION_DEFAULTS = {
  max_parallel: 6,
  max_parallel_per_host: 2,
  max_parallel_per_pool: 2,
  order: "smallest_first" as EvacuationOrder,
  include_in_use: false,
  disable_source: true,
  bandwidth_limit: null as number | null,
  max_retries: 1,
};

/** A validated create request (api/schemas/evacuations.ts); absent keys take EVACUATION_DEFAULTS. */
export interface CreateEvacuationRequest {
  source: string;
  destination?: string | string[] | null;
  dry_run?: boolean;
  max_parallel?: number;
  max_parallel_per_host?: number;
  max_parallel_per_pool?: number;
  order?: EvacuationOrder;
  include_in_use?: boolean;
  disable_source?: boolean;
  bandwidth_limit?: number | null;
  max_retries?: number;
}

/** Caps os-set_limits may change (validated: at least one). */
export interface EvacuationLimits {
  max_parallel?: number;
  max_parallel_per_host?: number;
  max_parallel_per_pool?: number;
  bandwidth_limit?: number | null;
  max_retries?: number;
}

/** The evacuation's own fields; a dry run has no id, status or timestamps. */
export type EvacuationFields = Omit<
  EvacuationRow,
  "id" | "status" | "created_at" | "driver" | "lease_until" | "request_id" | "global_request_id"
> & {
  id: string | null;
  status: EvacuationStatus | null;
  created_at: Date | null;
};

/** What the view needs: the fields, and the items with progress, totals and report. */
export interface EvacuationInfo {
  evacuation: EvacuationFields;
  dryRun: boolean;
  summary: EvacuationSummary;
}

const ENDED: readonly EvacuationStatus[] = ENDED_EVACUATION_STATUSES;
const NOT_ENDED: readonly EvacuationStatus[] = [
  EvacuationStatus.RUNNING,
  EvacuationStatus.PAUSED,
  EvacuationStatus.CANCELLING,
];
const MiB = 1024 * 1024;

/** Rows as the volumes query returns them (one query for the whole source). */
interface SourceVolumeRow {
  id: string;
  size: number;
  host: string;
  status: string;
  attach_status: string;
  migration_status: string | null;
  replication_status: string | null;
  consistencygroup_id: string | null;
  group_id: string | null;
  volume_type_id: string | null;
  created_at: Date;
  has_snapshots: boolean;
  evacuation_id: string | null;
}

export class EvacuationApi {
  constructor(private readonly o: VolumeApiOptions) {}

  /**
   * Plans the evacuation; a dry run returns the plan (200), else the evacuation is stored with its
   * items (`running`, 202) and, with disable_source, the source's volume services are disabled in
   * the same transaction with the reason `evacuation <id>`.
   */
  async create(caller: Caller, r: CreateEvacuationRequest): Promise<EvacuationInfo> {
    authorize(caller, EvacuationPolicy.CREATE);
    const destination =
      r.destination === undefined || r.destination === null
        ? null
        : [...new Set(typeof r.destination === "string" ? [r.destination] : r.destination)];
    const fields: NewEvacuation = {
      status: EvacuationStatus.RUNNING,
      source: r.source,
      destination,
      max_parallel: r.max_parallel ?? EVACUATION_DEFAULTS.max_parallel,
      max_parallel_per_host: r.max_parallel_per_host ?? EVACUATION_DEFAULTS.max_parallel_per_host,
      max_parallel_per_pool: r.max_parallel_per_pool ?? EVACUATION_DEFAULTS.max_parallel_per_pool,
      order: r.order ?? EVACUATION_DEFAULTS.order,
      include_in_use: r.include_in_use ?? EVACUATION_DEFAULTS.include_in_use,
      disable_source: r.disable_source ?? EVACUATION_DEFAULTS.disable_source,
      bandwidth_limit: r.bandwidth_limit ?? EVACUATION_DEFAULTS.bandwidth_limit,
      max_retries: r.max_retries ?? EVACUATION_DEFAULTS.max_retries,
      disabled_services: null,
      project_id: caller.projectId,
      user_id: caller.userId,
    };
    const hosts = await resolveEvacuationHosts(
      this.o.db,
      this.o.config.serviceDownTime,
      fields.source,
      destination,
    );
    const plan = await this.plan(hosts, fields);
    const toDisable = fields.disable_source
      ? hosts.services.filter((s) => coversWholeService(hosts.source, s)).map((s) => s.host)
      : [];

    if (r.dry_run) {
      const items = plan.items.map(dryItem);
      return {
        dryRun: true,
        evacuation: {
          ...fields,
          id: null,
          status: null,
          // What it would disable (those not disabled already).
          disabled_services: fields.disable_source
            ? hosts.services
                .filter((s) => !s.disabled && toDisable.includes(s.host))
                .map((s) => s.host)
                .sort()
            : null,
          project_id: fields.project_id,
          error: null,
          created_at: null,
          updated_at: null,
          finished_at: null,
        },
        summary: summarize({ status: EvacuationStatus.RUNNING, finished_at: null }, items, new Map()),
      };
    }

    const row = await this.o.db.transaction(async (trx) => {
      const created = await insertEvacuation(trx, fields, plan.items);
      if (!fields.disable_source) {
        return created;
      }
      const disabled = toDisable.length
        ? ((await trx("services")
            .whereIn("host", toDisable)
            .where({ binary: ServiceBinary.VOLUME, disabled: false, deleted: false })
            .update({ disabled: true, disabled_reason: `evacuation ${created.id}` })
            .returning("host")) as { host: string }[])
        : [];
      const updated = await updateEvacuationIf(
        trx,
        created.id,
        { disabled_services: disabled.map((d) => d.host).sort() },
        { status: EvacuationStatus.RUNNING },
      );
      return updated ?? created;
    });
    this.o.logger.info(
      {
        evacuation_id: row.id,
        source: row.source,
        volumes: plan.items.length,
        skipped: plan.items.filter((i) => i.state === EvacuationItemState.SKIPPED).length,
        shortfall_gb: plan.shortfall_gb,
        disabled_services: row.disabled_services,
        user_id: caller.userId,
      },
      "evacuation created",
    );
    return this.describe(row);
  }

  async list(caller: Caller): Promise<EvacuationInfo[]> {
    authorize(caller, EvacuationPolicy.GET_ALL);
    const rows = await listEvacuations(this.o.db);
    const items = await listItemsOf(
      this.o.db,
      rows.map((r) => r.id),
    );
    const all = [...items.values()].flat();
    const migrations = await loadRunningMigrations(this.o.db, all);
    return rows.map((row) => ({
      dryRun: false,
      evacuation: row,
      summary: summarize(row, items.get(row.id) ?? [], migrations),
    }));
  }

  async get(caller: Caller, id: string): Promise<EvacuationInfo> {
    authorize(caller, EvacuationPolicy.GET);
    return this.describe(await this.find(id));
  }

  /** running → paused: no new migration starts; running ones go on. */
  async pause(caller: Caller, id: string): Promise<void> {
    authorize(caller, EvacuationPolicy.PAUSE);
    await this.transition(id, [EvacuationStatus.RUNNING], EvacuationStatus.PAUSED, "paused");
  }

  /** paused → running. */
  async resume(caller: Caller, id: string): Promise<void> {
    authorize(caller, EvacuationPolicy.RESUME);
    await this.transition(id, [EvacuationStatus.PAUSED], EvacuationStatus.RUNNING, "resumed");
  }

  /**
   * running | paused → cancelling: the driver starts nothing more, cancels the running migrations
   * and ends it `cancelled`, keeping what finished. Cancelling one already cancelling is accepted
   * and changes nothing, as a repeated cancel of a migration.
   */
  async cancel(caller: Caller, id: string): Promise<void> {
    authorize(caller, EvacuationPolicy.CANCEL);
    const row = await this.find(id);
    if (row.status === EvacuationStatus.CANCELLING) {
      return;
    }
    await this.transition(
      id,
      [EvacuationStatus.RUNNING, EvacuationStatus.PAUSED],
      EvacuationStatus.CANCELLING,
      "cancelled",
    );
  }

  /**
   * Changes the caps of an evacuation that has not ended. A new bandwidth limit also reaches its
   * unfinished migrations at once (their own `bps_limit`, which the copy re-reads every second).
   */
  async setLimits(caller: Caller, id: string, limits: EvacuationLimits): Promise<void> {
    authorize(caller, EvacuationPolicy.SET_LIMITS);
    await this.find(id);
    const { db } = this.o;
    const values: EvacuationUpdates = { ...limits };
    const done = await db.transaction(async (trx) => {
      const row = await updateEvacuationIf(trx, id, values, { status: NOT_ENDED });
      if (row && limits.bandwidth_limit !== undefined) {
        await trx("migrations")
          .where({ evacuation_id: id })
          .whereNotIn("state", FINISHED_STATES)
          .update({ bps_limit: limits.bandwidth_limit === null ? null : limits.bandwidth_limit * MiB });
      }
      return row;
    });
    if (!done) {
      const e = await this.find(id);
      throw new EvacuationConflict(`Evacuation ${id} is ${e.status}; its limits cannot be changed.`);
    }
    this.o.logger.info({ evacuation_id: id, ...limits, user_id: caller.userId }, "evacuation limits set");
  }

  /** Deletes an ended evacuation and its items (its migrations stay, their evacuation_id cleared). */
  async delete(caller: Caller, id: string): Promise<void> {
    authorize(caller, EvacuationPolicy.DELETE);
    await this.find(id);
    if (!(await deleteEvacuationIf(this.o.db, id, { status: ENDED }))) {
      const e = await this.find(id);
      throw new EvacuationConflict(
        `Evacuation ${id} is ${e.status}; only an ended evacuation can be deleted.`,
      );
    }
    this.o.logger.info({ evacuation_id: id, user_id: caller.userId }, "evacuation deleted");
  }

  /** The plan for resolved hosts: one query for the source's volumes, one for the volume types. */
  private async plan(hosts: EvacuationHosts, e: NewEvacuation): Promise<Plan> {
    const { db, config } = this.o;
    const [volumes, types, pools] = await Promise.all([
      this.sourceVolumes(hosts),
      listVolumeTypes(db),
      loadPools(db, config.serviceDownTime),
    ]);
    const specs = new Map(types.map((t) => [t.id, t.extra_specs]));
    return planEvacuation({
      volumes: volumes.map((v): PlanVolume => ({
        id: v.id,
        size: Number(v.size),
        host: v.host,
        status: v.status,
        attach_status: v.attach_status,
        migration_status: v.migration_status,
        replication_status: v.replication_status,
        in_group: v.consistencygroup_id !== null || v.group_id !== null,
        has_snapshots: v.has_snapshots,
        evacuation_id: v.evacuation_id,
        created_at: v.created_at,
        extra_specs: (v.volume_type_id === null ? undefined : specs.get(v.volume_type_id)) ?? {},
      })),
      pools,
      source: hosts.source,
      destination: hosts.destination,
      order: e.order,
      includeInUse: e.include_in_use,
      snapshotsMove: config.migrateVolumesWithSnapshots,
    });
  }

  /**
   * Live volumes of the source (migration temp volumes are not volumes of their own), with whether
   * each has snapshots and which other evacuation, if any, has it pending or running.
   */
  private async sourceVolumes(hosts: EvacuationHosts): Promise<SourceVolumeRow[]> {
    const { db } = this.o;
    const backends = [...hosts.source.backends];
    const qb = db("volumes as v")
      .select(
        "v.id",
        "v.size",
        "v.host",
        "v.status",
        "v.attach_status",
        "v.migration_status",
        "v.replication_status",
        "v.consistencygroup_id",
        "v.group_id",
        "v.volume_type_id",
        "v.created_at",
        db.raw(
          "EXISTS (SELECT 1 FROM snapshots s WHERE s.volume_id = v.id AND s.deleted = false) AS has_snapshots",
        ),
        db.raw(
          "(SELECT ei.evacuation_id FROM evacuation_items ei JOIN evacuations e ON e.id = ei.evacuation_id " +
            `WHERE ei.volume_id = v.id AND ei.state IN (?, ?) AND e.status NOT IN (${ENDED.map(() => "?").join(", ")}) ` +
            "LIMIT 1) AS evacuation_id",
          [EvacuationItemState.PENDING, EvacuationItemState.RUNNING, ...ENDED],
        ),
      )
      .where("v.deleted", false)
      .whereNull("v.migration_target_of")
      .whereNotNull("v.host")
      .whereRaw(`split_part(v.host, '#', 1) IN (${backends.map(() => "?").join(", ")})`, backends);
    if (hosts.source.pool !== null) {
      qb.whereRaw("split_part(v.host, '#', 2) = ?", [hosts.source.pool]);
    }
    const rows = (await qb) as SourceVolumeRow[];
    // The SQL split matches covers(); keep the one definition authoritative.
    return rows.filter((v) => covers(hosts.source, v.host));
  }

  private async transition(
    id: string,
    from: readonly EvacuationStatus[],
    to: EvacuationStatus,
    verb: string,
  ): Promise<void> {
    await this.find(id);
    const done = await updateEvacuationIf(this.o.db, id, { status: to }, { status: from });
    if (!done) {
      const e = await this.find(id);
      throw new EvacuationConflict(
        `Evacuation ${id} is ${e.status}; only a ${from.join(" or ")} evacuation can be ${verb}.`,
      );
    }
    this.o.logger.info({ evacuation_id: id, status: to }, `evacuation ${verb}`);
  }

  private async describe(row: EvacuationRow): Promise<EvacuationInfo> {
    const items = await listEvacuationItems(this.o.db, row.id);
    const migrations = await loadRunningMigrations(this.o.db, items);
    return { dryRun: false, evacuation: row, summary: summarize(row, items, migrations) };
  }

  private async find(id: string): Promise<EvacuationRow> {
    const e = isUuid(id) ? await getEvacuation(this.o.db, id) : undefined;
    if (!e) {
      throw new EvacuationNotFound(id);
    }
    return e;
  }
}

/** A planned item as a dry run shows it: nothing started. */
function dryItem(i: Plan["items"][number]): ItemLike {
  return {
    volume_id: i.volume_id,
    size: i.size,
    from_host: i.from_host,
    to_host: i.to_host,
    state: i.state,
    reason: i.reason,
    migration_id: null,
    attempts: 0,
    bytes: null,
    started_at: null,
    finished_at: null,
  };
}
