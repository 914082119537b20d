import type { Knex } from "knex";

/**
 * Expected column values for a compare-and-swap: a single value, or a list of acceptable values
 * (a list may hold null, meaning "or IS NULL").
 */
export type Expected<Row> = { [K in keyof Row]?: Row[K] | readonly Row[K][] };

/**
 * The SET values of a conditional update: each column takes a value of its own type or a SQL
 * expression (`db.raw(...)`, `db.fn.now()`) computed by the database from the row being updated,
 * such as `previous_status = status` or `coalesce(previous_status, 'available')`.
 */
export type Updates<Row> = { [K in keyof Row]?: Row[K] | Knex.Raw };

/**
 * A jsonb value as a SQL expression, for the repository functions that take a jsonb column's
 * value as an object: it goes over as JSON text (a JS array would otherwise be sent as a
 * PostgreSQL array) and is cast by the database, the same on pg and PGlite.
 */
export function jsonb(db: Knex | Knex.Transaction, value: unknown): Knex.Raw {
  return db.raw("?::jsonb", [JSON.stringify(value)]);
}

export function whereExpected<Row>(
  qb: Knex.QueryBuilder,
  table: string,
  expected: Expected<Row>,
): Knex.QueryBuilder {
  for (const [col, want] of Object.entries(expected) as [string, unknown][]) {
    const column = `${table}.${col}`;
    if (Array.isArray(want)) {
      const values = want.filter((v) => v !== null);
      const withNull = values.length !== want.length;
      qb.where((w) => {
        if (values.length > 0) {
          w.whereIn(column, values);
        }
        if (withNull) {
          w.orWhereNull(column);
        }
        if (values.length === 0 && !withNull) {
          w.whereRaw("false");
        }
      });
    } else if (want === null) {
      qb.whereNull(column);
    } else {
      qb.where(column, want as Knex.Value);
    }
  }
  return qb;
}

/**
 * `UPDATE table SET values WHERE id = ? AND <expected> [AND extra] RETURNING *`: the only way a
 * status changes. Returns the updated row, or undefined when the precondition did not hold.
 */
export async function conditionalUpdate<Row extends { id: string }>(
  db: Knex | Knex.Transaction,
  table: string,
  id: string,
  values: Updates<Row>,
  expected: Expected<Row>,
  extra?: (qb: Knex.QueryBuilder) => void,
): Promise<Row | undefined> {
  const qb = db(table).where(`${table}.id`, id);
  whereExpected(qb, table, expected);
  extra?.(qb);
  const rows = (await qb.update({ ...values, updated_at: db.fn.now() }).returning("*")) as Row[];
  return rows[0];
}
