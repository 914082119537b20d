import type { Knex } from "knex";

/** The lists as this migration wrote them (a migration is history: its own copies). */
const STATUSES = ["pending", "moving", "reducing", "cancelling", "completed", "cancelled", "failed"] as const;
const ACTIVE = ["pending", "moving", "reducing", "cancelling"] as const;
const REQUEST_ID = "^req-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$";

function inList(col: string, values: readonly string[]): string {
  return `${col} IN (${values.map((v) => `'${v}'`).join(", ")})`;
}

/**
 * Disk drains (issue 16): one row per drain of a physical volume of an LVM backend, with the
 * progress its worker samples. At most one drain is active per backend (a partial unique index),
 * so two API replicas cannot start two moves in one volume group.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("disk_drains", (t) => {
    t.uuid("id").primary();
    t.string("backend", 255).notNullable();
    t.string("pv", 255).notNullable();
    t.string("vg", 255).notNullable();
    t.boolean("remove_from_group").notNullable().defaultTo(false);
    t.integer("interval").notNullable();
    t.string("status", 16).notNullable();
    t.bigInteger("bytes_total").notNullable();
    t.bigInteger("bytes_moved").notNullable().defaultTo(0);
    t.double("percent").notNullable().defaultTo(0);
    t.bigInteger("rate_bps").nullable();
    t.integer("resumes").notNullable().defaultTo(0);
    t.text("error").nullable();
    t.string("project_id", 255).nullable();
    t.string("user_id", 255).nullable();
    t.string("request_id", 255).nullable();
    t.string("global_request_id", 255).nullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("updated_at", { useTz: true }).nullable();
    t.timestamp("started_at", { useTz: true }).nullable();
    t.timestamp("finished_at", { useTz: true }).nullable();
  });
  await knex.raw(
    `ALTER TABLE disk_drains ADD CONSTRAINT disk_drains_status_check CHECK (${inList("status", STATUSES)})`,
  );
  await knex.raw(
    "ALTER TABLE disk_drains ADD CONSTRAINT disk_drains_figures_check CHECK " +
      '(bytes_total >= 0 AND bytes_moved >= 0 AND percent >= 0 AND percent <= 100 AND "interval" > 0 ' +
      "AND (rate_bps IS NULL OR rate_bps >= 0) AND resumes >= 0)",
  );
  for (const col of ["request_id", "global_request_id"]) {
    await knex.raw(
      `ALTER TABLE disk_drains ADD CONSTRAINT disk_drains_${col}_check CHECK (${col} IS NULL OR ${col} ~ '${REQUEST_ID}')`,
    );
  }
  await knex.raw(
    `CREATE UNIQUE INDEX disk_drains_one_active ON disk_drains (backend) WHERE ${inList("status", ACTIVE)}`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("disk_drains");
}
