import { randomUUID } from "node:crypto";

import type { Knex } from "knex";

import { deletedAny } from "./deleted";
import { isUuid } from "./volumes";

export interface VolumeTypeRow {
  id: string;
  name: string;
  description: string | null;
  is_public: boolean;
  qos_specs_id: string | null;
  created_at: Date;
  updated_at: Date | null;
  deleted: boolean;
  deleted_at: Date | null;
}

export interface VolumeType extends VolumeTypeRow {
  extra_specs: Record<string, string>;
}

type Conn = Knex | Knex.Transaction;

async function withSpecs(db: Conn, rows: VolumeTypeRow[]): Promise<VolumeType[]> {
  if (rows.length === 0) {
    return [];
  }
  const specs = (await db("volume_type_extra_specs").whereIn(
    "volume_type_id",
    rows.map((r) => r.id),
  )) as { volume_type_id: string; key: string; value: string }[];
  return rows.map((r) => ({
    ...r,
    extra_specs: Object.fromEntries(
      specs.filter((s) => s.volume_type_id === r.id).map((s) => [s.key, s.value]),
    ),
  }));
}

export interface VolumeTypeFilter {
  isPublic?: boolean;
  /**
   * With `isPublic: true`, also the private types this project was given access to (Cinder's
   * `_process_volume_types_filters`: `is_public OR projects.any(project_id)`).
   */
  projectId?: string;
}

/** `is_public` or `project` is in the type's access list (a where-clause on volume_types). */
export function visibleTo(projectId: string): (qb: Knex.QueryBuilder) => void {
  return (qb) => {
    qb.where("volume_types.is_public", true).orWhereExists(function (this: Knex.QueryBuilder) {
      this.select(1)
        .from("volume_type_projects")
        .whereRaw("volume_type_projects.volume_type_id = volume_types.id")
        .andWhere("volume_type_projects.project_id", projectId);
    });
  };
}

export async function listVolumeTypes(db: Conn, filter: VolumeTypeFilter = {}): Promise<VolumeType[]> {
  const qb = db("volume_types").where({ deleted: false }).orderBy("name");
  if (filter.isPublic === true && filter.projectId !== undefined) {
    qb.where(visibleTo(filter.projectId));
  } else if (filter.isPublic !== undefined) {
    qb.where("is_public", filter.isPublic);
  }
  return withSpecs(db, (await qb) as VolumeTypeRow[]);
}

/** Id and name of the live types among IDS: all a volume's view needs of its type, in one query. */
export async function volumeTypeNames(
  db: Conn,
  ids: readonly string[],
): Promise<Pick<VolumeTypeRow, "id" | "name">[]> {
  const wanted = [...new Set(ids)].filter(isUuid);
  if (wanted.length === 0) {
    return [];
  }
  return (await db("volume_types")
    .select("id", "name")
    .whereIn("id", wanted)
    .andWhere({ deleted: false })) as Pick<VolumeTypeRow, "id" | "name">[];
}

export async function getVolumeType(db: Conn, id: string): Promise<VolumeType | undefined> {
  if (!isUuid(id)) {
    return undefined;
  }
  const row = (await db("volume_types").where({ id, deleted: false }).first()) as VolumeTypeRow | undefined;
  return row ? (await withSpecs(db, [row]))[0] : undefined;
}

/** Cinder resolves a type given by id first, then by name. */
export async function findVolumeType(db: Conn, idOrName: string): Promise<VolumeType | undefined> {
  const byId = await getVolumeType(db, idOrName);
  if (byId) {
    return byId;
  }
  const row = (await db("volume_types").where({ name: idOrName, deleted: false }).first()) as
    VolumeTypeRow | undefined;
  return row ? (await withSpecs(db, [row]))[0] : undefined;
}

export async function insertVolumeType(
  db: Knex,
  t: { name: string; description: string | null; is_public: boolean; extra_specs: Record<string, string> },
): Promise<VolumeType> {
  return db.transaction(async (trx) => {
    const id = randomUUID();
    await trx("volume_types").insert({
      id,
      name: t.name,
      description: t.description,
      is_public: t.is_public,
    });
    const specs = Object.entries(t.extra_specs).map(([key, value]) => ({ volume_type_id: id, key, value }));
    if (specs.length > 0) {
      await trx("volume_type_extra_specs").insert(specs);
    }
    return (await getVolumeType(trx, id))!;
  });
}

export async function softDeleteVolumeType(db: Conn, id: string): Promise<boolean> {
  const n = await db("volume_types")
    .where({ id, deleted: false })
    .update({ deleted: true, deleted_at: db.fn.now(), updated_at: db.fn.now() });
  return n > 0;
}

/** Another type already has this name. */
export async function typeNameTaken(db: Conn, name: string, exceptId: string): Promise<boolean> {
  const row = await db("volume_types").where({ name, deleted: false }).whereNot("id", exceptId).first("id");
  return row !== undefined;
}

/** PUT /types/{id}: only the fields given change. False when the type is gone. */
export async function updateVolumeType(
  db: Conn,
  id: string,
  change: { name?: string; description?: string | null; is_public?: boolean },
): Promise<boolean> {
  const n = await db("volume_types")
    .where({ id, deleted: false })
    .update({ ...change, updated_at: db.fn.now() });
  return n > 0;
}

/** Whether any live volume has the type (Cinder's "Volume Type is currently in use."). */
export async function volumeTypeInUse(db: Conn, id: string): Promise<boolean> {
  if (!isUuid(id)) {
    return false;
  }
  return (await db("volumes").where({ volume_type_id: id, deleted: false }).first("id")) !== undefined;
}

/** Create or update extra specs (Cinder's volume_type_extra_specs_update_or_create). */
export async function setExtraSpecs(db: Knex, id: string, specs: Record<string, string>): Promise<void> {
  const rows = Object.entries(specs).map(([key, value]) => ({ volume_type_id: id, key, value }));
  if (rows.length === 0) {
    return;
  }
  await db.transaction(async (trx) => {
    await trx("volume_type_extra_specs").insert(rows).onConflict(["volume_type_id", "key"]).merge(["value"]);
    await trx("volume_types").where({ id }).update({ updated_at: trx.fn.now() });
  });
}

/** Remove one extra spec; false when the type has no such key. */
export async function deleteExtraSpec(db: Conn, id: string, key: string): Promise<boolean> {
  return deletedAny(db("volume_type_extra_specs").where({ volume_type_id: id, key }));
}

/** The projects a private type is shared with, in the order access was given. */
export async function listTypeProjects(db: Conn, id: string): Promise<string[]> {
  const rows = (await db("volume_type_projects")
    .where({ volume_type_id: id })
    .orderBy("id")
    .select("project_id")) as { project_id: string }[];
  return rows.map((r) => r.project_id);
}

/** Give a project access; false when it already had it. */
export async function addTypeProject(db: Conn, id: string, projectId: string): Promise<boolean> {
  const rows = (await db("volume_type_projects")
    .insert({ volume_type_id: id, project_id: projectId })
    .onConflict(["volume_type_id", "project_id"])
    .ignore()
    .returning("id")) as unknown[];
  return rows.length > 0;
}

/** Take a project's access away; false when it had none. */
export async function removeTypeProject(db: Conn, id: string, projectId: string): Promise<boolean> {
  return deletedAny(db("volume_type_projects").where({ volume_type_id: id, project_id: projectId }));
}

/** Whether a project may use a type: public, or in its access list. */
export async function typeVisibleTo(db: Conn, type: VolumeTypeRow, projectId: string): Promise<boolean> {
  if (type.is_public) {
    return true;
  }
  const row = await db("volume_type_projects")
    .where({ volume_type_id: type.id, project_id: projectId })
    .first("id");
  return row !== undefined;
}
