import type { Knex } from "knex";

/**
 * Delete and tell whether any row went, by the returned ids: knex-pglite answers a bare delete
 * with a result object where pg gives a count, so `(await qb.delete()) > 0` is always false on
 * PGlite. The table needs an `id` column.
 */
export async function deletedAny(qb: Knex.QueryBuilder): Promise<boolean> {
  return ((await qb.delete("id")) as unknown[]).length > 0;
}
