/**
 * The admin `evacuations` resource (beyond Cinder), the API process's half: plan and create an
 * evacuation (or only plan it: a dry run stores and changes nothing), list and show it with live
 * progress, and steer it. Every status change is a compare-and-swap on the row; the driver
 * (services/evacuation/driver.ts) acts on what it finds there: it starts, follows and cancels
 * the migrations, and ends the evacuation.
 */
import {
  ENDED_EVACUATION_STATUSES,
  EvacuationItemState,
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
import type { Caller } from "../volumeApi/caller";
import type { VolumeApiOptions } from "../volumeApi/lookup";
import {
  authorize,
  type CreateEvacuationRequest,
  EVACUATION_DEFAULTS,
  EvacuationConflict,
  type EvacuationInfo,
  type EvacuationLimits,
  EvacuationNotFound,
  EvacuationPolicy,
} from "./apiTypes";
import { loadRunningMigrations, summarize } from "./progress";
import { dryItem, planFor } from "./sourcePlan";
import { coversWholeService, resolveEvacuationHosts } from "./spec";

const ENDED: readonly EvacuationStatus[] = ENDED_EVACUATION_STATUSES;
const NOT_ENDED: readonly EvacuationStatus[] = [
  EvacuationStatus.RUNNING,
  EvacuationStatus.PAUSED,
  EvacuationStatus.CANCELLING,
];
const MiB = 1024 * 1024;

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
    const plan = await planFor(this.o, hosts, fields);
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
