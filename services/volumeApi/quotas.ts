/**
 * The quota engine (cinder/quota.py DbQuotaDriver, cinder/quota_utils.py): which resources exist,
 * what limit applies to a project (its own, else the `default` class, else the configuration),
 * and the check before something consumes quota, refused with Cinder's 413 messages. Usage is
 * counted from the rows (db/quotas.ts projectUsage); a check and the insert it guards run in one
 * transaction holding the project's quota lock.
 */
import type { Knex } from "knex";

import type { AppConfig } from "../../common/config";
import { QUOTA_RESOURCES } from "../../common/configQuotas";
import { QuotaExceeded } from "../../common/errors";
import type { Db } from "../../db/connection";
import {
  classLimits,
  type Limits,
  lockProjectQuota,
  projectLimits,
  projectUsage,
  type Usage,
} from "../../db/quotas";
import { listVolumeTypes, type VolumeType } from "../../db/volumeTypes";

type Conn = Knex | Knex.Transaction;

export const DEFAULT_QUOTA_CLASS = "default";

/** One resource of `GET /os-quota-sets/{p}?usage=true`. */
export interface QuotaUsage {
  limit: number;
  in_use: number;
  reserved: number;
}

/** The per-type resources of a type, in Cinder's order. */
export function typeResources(typeName: string): string[] {
  return [`volumes_${typeName}`, `snapshots_${typeName}`, `gigabytes_${typeName}`];
}

/** Every quota resource: the project-wide ones, then three per live volume type. */
export async function quotaResources(db: Conn): Promise<string[]> {
  const types = await listVolumeTypes(db);
  const base = QUOTA_RESOURCES.filter((r) => r !== "groups");
  return [...base, ...types.flatMap((t) => typeResources(t.name)), "groups"];
}

/** Reads run one after the other: on a transaction (one connection) pg refuses concurrent queries. */
export class QuotaEngine {
  constructor(private readonly o: { db: Db; config: AppConfig }) {}

  /**
   * Limits without a project: the configuration, overridden by the `default` class when
   * use_default_quota_class is on; a type resource is unlimited (-1) unless the class says so.
   */
  async defaults(db: Conn = this.o.db): Promise<Limits> {
    const resources = await quotaResources(db);
    const fromClass = this.o.config.quotas.useDefaultQuotaClass
      ? await classLimits(db, DEFAULT_QUOTA_CLASS)
      : {};
    const base = this.o.config.quotas.defaults as Readonly<Record<string, number>>;
    return Object.fromEntries(resources.map((r) => [r, fromClass[r] ?? base[r] ?? -1]));
  }

  /** A class's limits, falling back to the defaults for what it does not set. */
  async classQuotas(className: string, db: Conn = this.o.db): Promise<Limits> {
    const defaults = await this.defaults(db);
    const own = await classLimits(db, className);
    return Object.fromEntries(Object.entries(defaults).map(([r, v]) => [r, own[r] ?? v]));
  }

  /** A project's limits: its own where set, else the defaults. */
  async projectQuotas(projectId: string, db: Conn = this.o.db): Promise<Limits> {
    const defaults = await this.defaults(db);
    const own = await projectLimits(db, projectId);
    return Object.fromEntries(Object.entries(defaults).map(([r, v]) => [r, own[r] ?? v]));
  }

  async projectUsage(projectId: string, db: Conn = this.o.db): Promise<Record<string, QuotaUsage>> {
    const limits = await this.projectQuotas(projectId, db);
    const usage = await projectUsage(db, projectId);
    return Object.fromEntries(
      Object.entries(limits).map(([r, limit]) => [r, { limit, in_use: usage[r] ?? 0, reserved: 0 }]),
    );
  }

  /**
   * Cinder's QUOTAS.limit_check(per_volume_gigabytes=size) for a new or extended volume:
   * "Requested volume size 5G is larger than maximum allowed limit 2G.".
   */
  async checkVolumeSize(trx: Knex.Transaction, projectId: string, size: number): Promise<void> {
    const limit = (await this.projectQuotas(projectId, trx))["per_volume_gigabytes"] ?? -1;
    if (limit >= 0 && size > limit) {
      throw new QuotaExceeded(
        `Requested volume size ${size}G is larger than maximum allowed limit ${limit}G.`,
      );
    }
  }

  /**
   * QUOTAS.reserve + process_reserve_over_quota: every positive delta must fit its limit; the first
   * that does not (in the order given) is refused with Cinder's message for its kind. Takes the
   * project's quota lock, so the caller's insert in the same transaction is the one that counts.
   */
  async reserve(
    trx: Knex.Transaction,
    projectId: string,
    kind: "volumes" | "snapshots",
    deltas: [string, number][],
    size: number,
  ): Promise<void> {
    await lockProjectQuota(trx, projectId);
    const limits = await this.projectQuotas(projectId, trx);
    const usage = await projectUsage(trx, projectId);
    for (const [resource, delta] of deltas) {
      const limit = limits[resource];
      if (limit === undefined || limit < 0 || delta <= 0 || (usage[resource] ?? 0) + delta <= limit) {
        continue;
      }
      throw overQuota(resource, kind, limit, usage, size);
    }
  }
}

function overQuota(
  resource: string,
  kind: "volumes" | "snapshots",
  limit: number,
  usage: Usage,
  size: number,
): QuotaExceeded {
  if (resource.includes("gigabytes")) {
    return new QuotaExceeded(
      `Requested volume or snapshot exceeds allowed ${resource} quota. Requested ${size}G, quota is ` +
        `${limit}G and ${usage[resource] ?? 0}G has been consumed.`,
    );
  }
  if (kind === "snapshots") {
    return new QuotaExceeded(`Maximum number of snapshots allowed (${limit}) exceeded`);
  }
  return new QuotaExceeded(`Maximum number of volumes allowed (${limit}) exceeded for quota '${resource}'.`);
}

/** What creating a volume (or adopting one) of this size and type consumes. */
export function volumeDeltas(type: Pick<VolumeType, "name"> | undefined, size: number): [string, number][] {
  const d: [string, number][] = [
    ["volumes", 1],
    ["gigabytes", size],
  ];
  return type ? [...d, [`volumes_${type.name}`, 1], [`gigabytes_${type.name}`, size]] : d;
}

/** What a snapshot of a volume of this size and type consumes. */
export function snapshotDeltas(type: Pick<VolumeType, "name"> | undefined, size: number): [string, number][] {
  const d: [string, number][] = [
    ["snapshots", 1],
    ["gigabytes", size],
  ];
  return type ? [...d, [`snapshots_${type.name}`, 1], [`gigabytes_${type.name}`, size]] : d;
}

/** What growing a volume of this type consumes. */
export function gigabyteDeltas(
  type: Pick<VolumeType, "name"> | undefined,
  growth: number,
): [string, number][] {
  const d: [string, number][] = [["gigabytes", growth]];
  return type ? [...d, [`gigabytes_${type.name}`, growth]] : d;
}

/** What a retype charges: only the new type's counters (the project totals do not change). */
export function typeOnlyDeltas(type: Pick<VolumeType, "name">, size: number): [string, number][] {
  return [
    [`volumes_${type.name}`, 1],
    [`gigabytes_${type.name}`, size],
  ];
}
