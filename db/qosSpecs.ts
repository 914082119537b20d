import { randomUUID } from "node:crypto";

import type { Knex } from "knex";

import type { QosConsumer } from "../common/states";
import { deletedAny } from "./deleted";
import { isUuid } from "./volumes";

export interface QosSpecsRow {
  id: string;
  name: string;
  consumer: QosConsumer;
  created_at: Date;
  updated_at: Date | null;
  deleted: boolean;
  deleted_at: Date | null;
}

export interface QosSpecs extends QosSpecsRow {
  specs: Record<string, string>;
}

type Conn = Knex | Knex.Transaction;

async function withKeys(db: Conn, rows: QosSpecsRow[]): Promise<QosSpecs[]> {
  if (rows.length === 0) {
    return [];
  }
  const keys = (await db("qos_specs_keys")
    .whereIn(
      "qos_specs_id",
      rows.map((r) => r.id),
    )
    .orderBy("id")) as { qos_specs_id: string; key: string; value: string }[];
  return rows.map((r) => ({
    ...r,
    specs: Object.fromEntries(keys.filter((k) => k.qos_specs_id === r.id).map((k) => [k.key, k.value])),
  }));
}

export async function listQosSpecs(db: Conn): Promise<QosSpecs[]> {
  const rows = (await db("quality_of_service_specs")
    .where({ deleted: false })
    .orderBy([
      { column: "created_at", order: "desc" },
      { column: "id", order: "desc" },
    ])) as QosSpecsRow[];
  return withKeys(db, rows);
}

export async function getQosSpecs(db: Conn, id: string): Promise<QosSpecs | undefined> {
  if (!isUuid(id)) {
    return undefined;
  }
  const row = (await db("quality_of_service_specs").where({ id, deleted: false }).first()) as
    QosSpecsRow | undefined;
  return row ? (await withKeys(db, [row]))[0] : undefined;
}

/** A new QoS spec; a live one of the same name violates quality_of_service_specs_name_live. */
export async function insertQosSpecs(
  db: Knex,
  q: { name: string; consumer: QosConsumer; specs: Record<string, string> },
): Promise<QosSpecs> {
  return db.transaction(async (trx) => {
    const id = randomUUID();
    await trx("quality_of_service_specs").insert({ id, name: q.name, consumer: q.consumer });
    await setQosKeys(trx, id, q.specs);
    return (await getQosSpecs(trx, id))!;
  });
}

/** Create or update keys; `consumer` is a column, not a key. */
export async function setQosKeys(db: Conn, id: string, specs: Record<string, string>): Promise<void> {
  const rows = Object.entries(specs).map(([key, value]) => ({ qos_specs_id: id, key, value }));
  if (rows.length > 0) {
    await db("qos_specs_keys").insert(rows).onConflict(["qos_specs_id", "key"]).merge(["value"]);
  }
}

export async function updateQosSpecs(
  db: Knex,
  id: string,
  change: { consumer?: QosConsumer; specs: Record<string, string> },
): Promise<void> {
  await db.transaction(async (trx) => {
    await trx("quality_of_service_specs")
      .where({ id })
      .update({ ...(change.consumer ? { consumer: change.consumer } : {}), updated_at: trx.fn.now() });
    await setQosKeys(trx, id, change.specs);
  });
}

/** Remove one key; false when the spec has no such key. */
export function deleteQosKey(db: Conn, id: string, key: string): Promise<boolean> {
  return deletedAny(db("qos_specs_keys").where({ qos_specs_id: id, key }));
}

export async function touchQosSpecs(db: Conn, id: string): Promise<void> {
  await db("quality_of_service_specs").where({ id }).update({ updated_at: db.fn.now() });
}

/** Soft delete, detaching it from every type first. */
export async function softDeleteQosSpecs(db: Knex, id: string): Promise<void> {
  await db.transaction(async (trx) => {
    await trx("volume_types").where({ qos_specs_id: id }).update({ qos_specs_id: null });
    await trx("quality_of_service_specs")
      .where({ id, deleted: false })
      .update({ deleted: true, deleted_at: trx.fn.now(), updated_at: trx.fn.now() });
  });
}

/** The live volume types a QoS spec is associated with. */
export async function qosAssociations(db: Conn, id: string): Promise<{ id: string; name: string }[]> {
  return (await db("volume_types")
    .where({ qos_specs_id: id, deleted: false })
    .orderBy("name")
    .select("id", "name")) as { id: string; name: string }[];
}

/** Associate a type with a spec unless it already has one (then false). */
export async function associateQos(db: Conn, id: string, typeId: string): Promise<boolean> {
  const n = await db("volume_types")
    .where({ id: typeId, deleted: false })
    .andWhere((w) => w.whereNull("qos_specs_id").orWhere("qos_specs_id", id))
    .update({ qos_specs_id: id, updated_at: db.fn.now() });
  return n > 0;
}

export async function disassociateQos(db: Conn, id: string, typeId?: string): Promise<void> {
  const qb = db("volume_types").where({ qos_specs_id: id });
  if (typeId !== undefined) {
    qb.where({ id: typeId });
  }
  await qb.update({ qos_specs_id: null, updated_at: db.fn.now() });
}

/**
 * Cinder's volume_qos_allows_retype as a CAS condition on the volume row: an available volume, or
 * both types with the same QoS spec, or neither type's spec enforced at the front end.
 */
export function qosAllowsRetype(newTypeId: string): (qb: Knex.QueryBuilder) => void {
  const frontEnd = (typeRef: string): string =>
    "SELECT 1 FROM volume_types t JOIN quality_of_service_specs q ON q.id = t.qos_specs_id " +
    `WHERE NOT t.deleted AND t.id = ${typeRef} AND q.consumer <> 'back-end'`;
  return (qb) => {
    qb.where((w) =>
      w
        .where("volumes.status", "available")
        .orWhereRaw(
          "EXISTS (SELECT 1 FROM volume_types t WHERE NOT t.deleted AND t.id = volumes.volume_type_id " +
            "AND t.qos_specs_id = (SELECT n.qos_specs_id FROM volume_types n WHERE NOT n.deleted AND n.id = ?))",
          [newTypeId],
        )
        .orWhereRaw(
          `(NOT EXISTS (${frontEnd("volumes.volume_type_id")}) AND NOT EXISTS (${frontEnd("?")}))`,
          [newTypeId],
        ),
    );
  };
}
