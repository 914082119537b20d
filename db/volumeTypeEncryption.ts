/**
 * Volume type encryption rows (Cinder's `encryption` table, cinder/db/api.py
 * `volume_type_encryption_*`): at most one live row per type, soft-deleted. Create and update are
 * conditional on no live volume having the type, in the same statement.
 */
import { randomUUID } from "node:crypto";

import type { Knex } from "knex";

import type { ControlLocation } from "../common/states";
import { isUuid } from "./volumes";

export interface EncryptionRow {
  encryption_id: string;
  volume_type_id: string;
  provider: string;
  control_location: ControlLocation;
  cipher: string | null;
  key_size: number | null;
  created_at: Date;
  updated_at: Date | null;
  deleted: boolean;
  deleted_at: Date | null;
}

export type EncryptionSpecs = Partial<
  Pick<EncryptionRow, "provider" | "control_location" | "cipher" | "key_size">
>;

type Conn = Knex | Knex.Transaction;

/** No live volume has the type (Cinder's `volume_type_encryption_volume_get` is empty). */
function typeUnused(db: Conn, typeId: string): (qb: Knex.QueryBuilder) => void {
  return (qb) => {
    qb.whereNotExists(db("volumes").select(1).where({ volume_type_id: typeId, deleted: false }));
  };
}

export async function getEncryption(db: Conn, typeId: string): Promise<EncryptionRow | undefined> {
  if (!isUuid(typeId)) {
    return undefined;
  }
  return (await db("volume_type_encryption").where({ volume_type_id: typeId, deleted: false }).first()) as
    EncryptionRow | undefined;
}

/**
 * Inserts the type's encryption unless a live volume has the type (undefined then). A second live
 * row for the type is refused by the partial unique index (Postgres 23505).
 */
export async function insertEncryptionIfUnused(
  db: Conn,
  typeId: string,
  specs: EncryptionSpecs & Pick<EncryptionRow, "provider" | "control_location">,
): Promise<EncryptionRow | undefined> {
  if (!isUuid(typeId)) {
    return undefined;
  }
  const rows = await db.raw<{ rows: EncryptionRow[] }>(
    `INSERT INTO volume_type_encryption
       (encryption_id, volume_type_id, provider, control_location, cipher, key_size)
     SELECT ?, ?, ?, ?, ?, ?::integer
     WHERE NOT EXISTS (SELECT 1 FROM volumes WHERE volume_type_id = ? AND NOT deleted)
     RETURNING *`,
    [
      randomUUID(),
      typeId,
      specs.provider,
      specs.control_location,
      specs.cipher ?? null,
      specs.key_size ?? null,
      typeId,
    ],
  );
  return rows.rows[0];
}

/** Updates the given specs if the type has live encryption and no live volume; the row, or undefined. */
export async function updateEncryptionIfUnused(
  db: Conn,
  typeId: string,
  specs: EncryptionSpecs,
): Promise<EncryptionRow | undefined> {
  if (!isUuid(typeId)) {
    return undefined;
  }
  const rows = (await db("volume_type_encryption")
    .where({ volume_type_id: typeId, deleted: false })
    .where(typeUnused(db, typeId))
    .update({ ...specs, updated_at: db.fn.now() })
    .returning("*")) as EncryptionRow[];
  return rows[0];
}

/** Soft-deletes the type's live encryption if no live volume has the type; whether a row went. */
export async function deleteEncryptionIfUnused(db: Conn, typeId: string): Promise<boolean> {
  // The ids are uuid columns: anything else names no row (and must not reach Postgres as one).
  if (!isUuid(typeId)) {
    return false;
  }
  const n = await db("volume_type_encryption")
    .where({ volume_type_id: typeId, deleted: false })
    .where(typeUnused(db, typeId))
    .update({ deleted: true, deleted_at: db.fn.now() });
  return n > 0;
}
