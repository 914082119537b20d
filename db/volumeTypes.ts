import { randomUUID } from "node:crypto";

import type { Knex } from "knex";

import { isUuid } from "./volumes";

export interface VolumeTypeRow {
  id: string;
  name: string;
  description: string | null;
  is_public: boolean;
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

export async function listVolumeTypes(db: Conn, filter: { isPublic?: boolean } = {}): Promise<VolumeType[]> {
  const qb = db("volume_types").where({ deleted: false }).orderBy("name");
  if (filter.isPublic !== undefined) {
    qb.where("is_public", filter.isPublic);
  }
  return withSpecs(db, (await qb) as VolumeTypeRow[]);
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
