import type { Knex } from "knex";

/** The states as this migration wrote them (a migration is history: its own copy of the list). */
const MIGRATION_STATES = ["starting", "queued", "migrating", "completing", "success", "error"] as const;

/**
 * The data path (issue 5): a queued state, a per-migration bandwidth limit, the ETA, a cancel
 * request, the copy's resumable checkpoint and what the engine chose (compression, transport).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("migrations", (t) => {
    t.bigInteger("bps_limit").nullable();
    t.integer("eta_seconds").nullable();
    t.timestamp("cancel_requested_at", { useTz: true }).nullable();
    t.jsonb("checkpoint").nullable();
    t.string("compression", 16).nullable();
    t.string("transport", 16).nullable();
  });
  await knex.raw("ALTER TABLE migrations DROP CONSTRAINT IF EXISTS migrations_state_check");
  const list = MIGRATION_STATES.map((s) => `'${s}'`).join(", ");
  await knex.raw(`ALTER TABLE migrations ADD CONSTRAINT migrations_state_check CHECK (state IN (${list}))`);
  await knex.raw("ALTER TABLE migrations ADD CONSTRAINT migrations_bps_limit_check CHECK (bps_limit > 0)");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE migrations DROP CONSTRAINT IF EXISTS migrations_bps_limit_check");
  await knex.raw("ALTER TABLE migrations DROP CONSTRAINT IF EXISTS migrations_state_check");
  const list = MIGRATION_STATES.filter((s) => s !== "queued")
    .map((s) => `'${s}'`)
    .join(", ");
  await knex.raw(`ALTER TABLE migrations ADD CONSTRAINT migrations_state_check CHECK (state IN (${list}))`);
  await knex.schema.alterTable("migrations", (t) => {
    for (const c of [
      "bps_limit",
      "eta_seconds",
      "cancel_requested_at",
      "checkpoint",
      "compression",
      "transport",
    ]) {
      t.dropColumn(c);
    }
  });
}
