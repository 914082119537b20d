import type { Knex } from "knex";

/** The lists as this migration wrote them (a migration is history: its own copies). */
const EVACUATION_STATUSES = [
  "running",
  "paused",
  "cancelling",
  "cancelled",
  "completed",
  "completed_with_errors",
  "failed",
] as const;
const EVACUATION_ITEM_STATES = ["pending", "running", "succeeded", "failed", "skipped", "cancelled"] as const;
const EVACUATION_ORDERS = ["smallest_first", "largest_first", "oldest_first"] as const;

function inList(col: string, values: readonly string[]): string {
  return `${col} IN (${values.map((v) => `'${v}'`).join(", ")})`;
}

/**
 * Evacuations (issue 7): one row per evacuation with its caps, one row per volume of its source
 * with the destination the plan chose (or why it is skipped) and the migration that moves it. The
 * driver holds a lease on the row (driver, lease_until) so one process drives it at a time.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("evacuations", (t) => {
    t.uuid("id").primary();
    t.string("status", 32).notNullable();
    t.string("source", 255).notNullable();
    t.jsonb("destination").nullable();
    t.integer("max_parallel").notNullable();
    t.integer("max_parallel_per_host").notNullable();
    t.integer("max_parallel_per_pool").notNullable();
    t.string("order", 32).notNullable();
    t.boolean("include_in_use").notNullable().defaultTo(false);
    t.boolean("disable_source").notNullable().defaultTo(true);
    t.integer("bandwidth_limit").nullable();
    t.integer("max_retries").notNullable().defaultTo(1);
    t.jsonb("disabled_services").nullable();
    t.string("project_id", 255).nullable();
    t.string("user_id", 255).nullable();
    t.string("driver", 255).nullable();
    t.timestamp("lease_until", { useTz: true }).nullable();
    t.text("error").nullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("updated_at", { useTz: true }).nullable();
    t.timestamp("finished_at", { useTz: true }).nullable();
  });
  await knex.raw(
    `ALTER TABLE evacuations ADD CONSTRAINT evacuations_status_check CHECK (${inList("status", EVACUATION_STATUSES)})`,
  );
  await knex.raw(
    `ALTER TABLE evacuations ADD CONSTRAINT evacuations_order_check CHECK (${inList('"order"', EVACUATION_ORDERS)})`,
  );
  await knex.raw(
    "ALTER TABLE evacuations ADD CONSTRAINT evacuations_caps_check CHECK " +
      "(max_parallel > 0 AND max_parallel_per_host > 0 AND max_parallel_per_pool > 0 AND max_retries >= 0 " +
      "AND (bandwidth_limit IS NULL OR bandwidth_limit > 0))",
  );

  await knex.schema.createTable("evacuation_items", (t) => {
    t.uuid("id").primary();
    t.uuid("evacuation_id").notNullable().references("evacuations.id").onDelete("CASCADE");
    t.integer("position").notNullable();
    t.uuid("volume_id").notNullable();
    t.integer("size").notNullable();
    t.string("from_host", 255).notNullable();
    t.string("to_host", 255).nullable();
    t.string("state", 16).notNullable();
    t.text("reason").nullable();
    t.uuid("migration_id").nullable();
    t.integer("attempts").notNullable().defaultTo(0);
    t.bigInteger("bytes").nullable();
    t.timestamp("started_at", { useTz: true }).nullable();
    t.timestamp("finished_at", { useTz: true }).nullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("updated_at", { useTz: true }).nullable();
    t.unique(["evacuation_id", "volume_id"]);
    t.index(["evacuation_id", "state"]);
  });
  await knex.raw(
    `ALTER TABLE evacuation_items ADD CONSTRAINT evacuation_items_state_check CHECK (${inList("state", EVACUATION_ITEM_STATES)})`,
  );

  await knex.schema.alterTable("migrations", (t) => {
    t.uuid("evacuation_id").nullable().references("evacuations.id").onDelete("SET NULL");
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("migrations", (t) => {
    t.dropColumn("evacuation_id");
  });
  await knex.schema.dropTable("evacuation_items");
  await knex.schema.dropTable("evacuations");
}
