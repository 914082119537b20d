import type { Knex } from "knex";

type Conn = Knex | Knex.Transaction;

/** resource → hard_limit, for one project or one quota class. */
export type Limits = Record<string, number>;

/** What a project consumes now, per resource (volumes, gigabytes, snapshots and their per-type forms). */
export type Usage = Record<string, number>;

async function limitsOf(
  db: Conn,
  table: "quotas" | "quota_classes",
  owner: string,
  id: string,
): Promise<Limits> {
  const rows = (await db(table).where(owner, id).select("resource", "hard_limit")) as {
    resource: string;
    hard_limit: number;
  }[];
  return Object.fromEntries(rows.map((r) => [r.resource, r.hard_limit]));
}

export function projectLimits(db: Conn, projectId: string): Promise<Limits> {
  return limitsOf(db, "quotas", "project_id", projectId);
}

export function classLimits(db: Conn, className: string): Promise<Limits> {
  return limitsOf(db, "quota_classes", "class_name", className);
}

async function upsert(
  db: Conn,
  table: "quotas" | "quota_classes",
  owner: string,
  id: string,
  limits: Limits,
): Promise<void> {
  const rows = Object.entries(limits).map(([resource, hard_limit]) => ({
    [owner]: id,
    resource,
    hard_limit,
  }));
  if (rows.length > 0) {
    await db(table)
      .insert(rows)
      .onConflict([owner, "resource"])
      .merge({ hard_limit: db.raw("excluded.hard_limit"), updated_at: db.fn.now() });
  }
}

export function setProjectLimits(db: Conn, projectId: string, limits: Limits): Promise<void> {
  return upsert(db, "quotas", "project_id", projectId, limits);
}

export function setClassLimits(db: Conn, className: string, limits: Limits): Promise<void> {
  return upsert(db, "quota_classes", "class_name", className, limits);
}

/** DELETE /os-quota-sets/{project}: the project falls back to the defaults. */
export async function deleteProjectLimits(db: Conn, projectId: string): Promise<void> {
  await db("quotas").where({ project_id: projectId }).delete("id");
}

/** A renamed volume type keeps its limits: volumes_<old> becomes volumes_<new> (and gigabytes_, snapshots_). */
export async function renameTypeResources(db: Conn, oldName: string, newName: string): Promise<void> {
  for (const table of ["quotas", "quota_classes"]) {
    for (const prefix of ["volumes", "gigabytes", "snapshots"]) {
      await db(table)
        .where({ resource: `${prefix}_${oldName}` })
        .update({ resource: `${prefix}_${newName}`, updated_at: db.fn.now() });
    }
  }
}

/**
 * Serialise quota decisions of one project until the transaction ends (a PostgreSQL advisory
 * lock): the usage read and the row that consumes it are written as one step, so two creates
 * cannot both take the last unit of a limit.
 */
export async function lockProjectQuota(trx: Knex.Transaction, projectId: string): Promise<void> {
  await trx.raw("SELECT pg_advisory_xact_lock(hashtext(?))", [`quota:${projectId}`]);
}

/**
 * Live usage, counted from the rows (Cinder keeps it in quota_usages; counting cannot drift).
 * Volumes with use_quota false (a migration's temp volume, a retired source) count for nothing,
 * snapshots count in gigabytes too, and each volume type has its own volumes_/gigabytes_/
 * snapshots_ counters.
 */
export async function projectUsage(db: Conn, projectId: string): Promise<Usage> {
  const volumes = (await db("volumes as v")
    .leftJoin("volume_types as t", "t.id", "v.volume_type_id")
    .where({ "v.project_id": projectId, "v.deleted": false, "v.use_quota": true })
    .groupBy("t.name")
    .select(
      "t.name as type",
      db.raw("count(*)::int AS n"),
      db.raw("coalesce(sum(v.size), 0)::int AS gb"),
    )) as {
    type: string | null;
    n: number;
    gb: number;
  }[];
  const snapshots = (await db("snapshots as s")
    .join("volumes as v", "v.id", "s.volume_id")
    .leftJoin("volume_types as t", "t.id", "v.volume_type_id")
    .where({ "s.project_id": projectId, "s.deleted": false })
    .groupBy("t.name")
    .select(
      "t.name as type",
      db.raw("count(*)::int AS n"),
      db.raw("coalesce(sum(s.volume_size), 0)::int AS gb"),
    )) as { type: string | null; n: number; gb: number }[];
  const usage: Usage = { volumes: 0, gigabytes: 0, snapshots: 0 };
  const add = (key: string, n: number): void => {
    usage[key] = (usage[key] ?? 0) + Number(n);
  };
  for (const r of volumes) {
    add("volumes", r.n);
    add("gigabytes", r.gb);
    if (r.type !== null) {
      add(`volumes_${r.type}`, r.n);
      add(`gigabytes_${r.type}`, r.gb);
    }
  }
  for (const r of snapshots) {
    add("snapshots", r.n);
    add("gigabytes", r.gb);
    if (r.type !== null) {
      add(`snapshots_${r.type}`, r.n);
      add(`gigabytes_${r.type}`, r.gb);
    }
  }
  return usage;
}
