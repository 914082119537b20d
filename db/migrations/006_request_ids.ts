import type { Knex } from "knex";

/** oslo's request id form, as this migration wrote it (a migration is history: its own copy). */
const REQUEST_ID = "^req-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$";
const TABLES = ["migrations", "evacuations"] as const;
const COLUMNS = ["request_id", "global_request_id"] as const;

/**
 * The request that made a migration or an evacuation (issue 12, "follow one migration through the
 * logs"): the loops that continue the work later (a worker's queue, recovery after a restart, the
 * evacuation driver) run it under these ids, so its log lines carry them. Null for rows made
 * outside any request, and for rows older than this migration.
 */
export async function up(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.schema.alterTable(table, (t) => {
      for (const col of COLUMNS) {
        t.string(col, 255).nullable();
      }
    });
    for (const col of COLUMNS) {
      await knex.raw(
        `ALTER TABLE ${table} ADD CONSTRAINT ${table}_${col}_check CHECK (${col} IS NULL OR ${col} ~ '${REQUEST_ID}')`,
      );
    }
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    await knex.schema.alterTable(table, (t) => {
      for (const col of COLUMNS) {
        t.dropColumn(col);
      }
    });
  }
}
