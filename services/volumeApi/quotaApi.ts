/**
 * os-quota-sets, os-quota-class-sets and /limits (cinder/api/contrib/quotas.py, quota_classes.py,
 * cinder/api/v3/limits.py with used_limits.py): members read their own project's quotas and
 * limits, admins read and change any project's and the classes'.
 */
import { InvalidInput, PolicyNotAuthorized } from "../../common/errors";
import { deleteProjectLimits, type Limits, setClassLimits, setProjectLimits } from "../../db/quotas";
import { BadRequest } from "./badRequest";
import { AdminPolicy, authorize, type Caller } from "./caller";
import type { VolumeApiOptions } from "./lookup";
import { QuotaEngine, quotaResources, type QuotaUsage } from "./quotas";

const SHOW_POLICY = "volume_extension:quotas:show";
/** Keys of a quota set that are not resources (cinder/quota.py NON_QUOTA_KEYS). */
const NON_QUOTA_KEYS = ["tenant_id", "id"];
const DB_MAX_INT = 0x7fffffff;

/** The absolute limits of GET /limits (cinder/api/views/limits.py, os-used-limits). */
export interface AbsoluteLimits {
  maxTotalVolumeGigabytes: number;
  maxTotalBackupGigabytes: number;
  maxTotalVolumes: number;
  maxTotalSnapshots: number;
  maxTotalBackups: number;
  totalVolumesUsed: number;
  totalGigabytesUsed: number;
  totalSnapshotsUsed: number;
  totalBackupsUsed: number;
  totalBackupGigabytesUsed: number;
}

/**
 * Cinder's validate_string_length(id, name, min_length=1, max_length=255) on the project or class a
 * PUT names (oslo strutils' wording): longer names do not fit the quota tables' columns.
 */
function checkNameLength(value: string, name: string): void {
  const length = [...value].length;
  if (length < 1) {
    throw new InvalidInput(`${name} has ${length} characters, less than 1.`);
  }
  if (length > 255) {
    throw new InvalidInput(`${name} has ${length} characters, more than 255.`);
  }
}

/** oslo strutils.validate_integer, as Cinder's quota_set format checker runs it. */
function validInteger(value: unknown, name: string): number {
  const text = typeof value === "number" || typeof value === "string" ? String(value).trim() : "";
  if (!/^[+-]?\d+$/.test(text)) {
    throw new BadRequest(`${name} must be an integer`);
  }
  const n = Number(text);
  if (n < -1) {
    throw new BadRequest(`${name} must be >= -1`);
  }
  if (n > DB_MAX_INT) {
    throw new BadRequest(`${name} must be <= ${DB_MAX_INT}`);
  }
  return n;
}

export class QuotaApi {
  private readonly engine: QuotaEngine;

  constructor(private readonly o: VolumeApiOptions) {
    this.engine = new QuotaEngine(o);
  }

  private authorizeShow(caller: Caller, projectId: string): void {
    if (!caller.isAdmin && caller.projectId !== projectId) {
      throw new PolicyNotAuthorized(SHOW_POLICY);
    }
  }

  show(caller: Caller, projectId: string): Promise<Limits> {
    this.authorizeShow(caller, projectId);
    return this.engine.projectQuotas(projectId);
  }

  showUsage(caller: Caller, projectId: string): Promise<Record<string, QuotaUsage>> {
    this.authorizeShow(caller, projectId);
    return this.engine.projectUsage(projectId);
  }

  defaults(caller: Caller, projectId: string): Promise<Limits> {
    this.authorizeShow(caller, projectId);
    return this.engine.defaults();
  }

  /**
   * PUT: unknown keys are refused (format check, before the policy), every value an integer
   * ≥ -1, and no limit below what the project already uses (per_volume_gigabytes and -1 exempt).
   */
  async update(caller: Caller, projectId: string, set: Record<string, unknown>): Promise<Limits> {
    const resources = await quotaResources(this.o.db);
    const bad = Object.keys(set).filter((k) => !resources.includes(k) && !NON_QUOTA_KEYS.includes(k));
    if (bad.length > 0) {
      throw new InvalidInput(`Bad key(s) in quota set: ${bad.join(", ")}`);
    }
    const limits: Limits = {};
    for (const [k, v] of Object.entries(set)) {
      if (!NON_QUOTA_KEYS.includes(k)) {
        limits[k] = validInteger(v, k);
      }
    }
    authorize(caller, AdminPolicy.QUOTAS_UPDATE);
    checkNameLength(projectId, "quota_set_name");
    const usage = await this.engine.projectUsage(projectId);
    for (const [k, limit] of Object.entries(limits)) {
      const used = (usage[k]?.in_use ?? 0) + (usage[k]?.reserved ?? 0);
      if (k !== "per_volume_gigabytes" && limit !== -1 && limit < used) {
        throw new BadRequest(
          `Quota ${k} limit must be equal or greater than existing resources. Current usage is ${used} ` +
            `and the requested limit is ${limit}.`,
        );
      }
    }
    await setProjectLimits(this.o.db, projectId, limits);
    return this.engine.projectQuotas(projectId);
  }

  async delete(caller: Caller, projectId: string): Promise<void> {
    authorize(caller, AdminPolicy.QUOTAS_DELETE);
    await deleteProjectLimits(this.o.db, projectId);
  }

  showClass(caller: Caller, className: string): Promise<Limits> {
    authorize(caller, AdminPolicy.QUOTA_CLASSES_GET);
    return this.engine.classQuotas(className);
  }

  /** PUT os-quota-class-sets/{class}: the body passed parameter_types.quota_class_set. */
  async updateClass(
    caller: Caller,
    className: string,
    set: Record<string, number | string>,
  ): Promise<Limits> {
    const resources = await quotaResources(this.o.db);
    const bad = Object.keys(set).filter((k) => !resources.includes(k));
    if (bad.length > 0) {
      throw new InvalidInput(`Bad key(s) in quota class set: ${bad.join(", ")}`);
    }
    authorize(caller, AdminPolicy.QUOTA_CLASSES_UPDATE);
    checkNameLength(className, "quota_class_name");
    await setClassLimits(
      this.o.db,
      className,
      Object.fromEntries(Object.entries(set).map(([k, v]) => [k, Number(v)])),
    );
    return this.engine.classQuotas(className);
  }

  /**
   * GET /limits: the caller's project, or (admins, 3.39+) the project named by `project_id`
   * (or the older `tenant_id`).
   */
  async absolute(caller: Caller, projectParam: string | undefined): Promise<AbsoluteLimits> {
    const projectId = caller.isAdmin && projectParam ? projectParam : caller.projectId;
    const usage = await this.engine.projectUsage(projectId);
    const limit = (r: string): number => usage[r]?.limit ?? -1;
    const used = (r: string): number => usage[r]?.in_use ?? 0;
    return {
      maxTotalVolumeGigabytes: limit("gigabytes"),
      maxTotalBackupGigabytes: limit("backup_gigabytes"),
      maxTotalVolumes: limit("volumes"),
      maxTotalSnapshots: limit("snapshots"),
      maxTotalBackups: limit("backups"),
      totalVolumesUsed: used("volumes"),
      totalGigabytesUsed: used("gigabytes"),
      totalSnapshotsUsed: used("snapshots"),
      totalBackupsUsed: used("backups"),
      totalBackupGigabytesUsed: used("backup_gigabytes"),
    };
  }
}
