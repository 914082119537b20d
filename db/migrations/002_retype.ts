import type { Knex } from "knex";

/** The kinds as this migration wrote them (a migration is history: its own copy of the list). */
const MIGRATION_KINDS = ["migrate", "retype"] as const;

/** A migration attempt can come from os-migrate_volume or from a retype that needs a move. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("migrations", (t) => {
    t.string("kind", 16).notNullable().defaultTo("migrate");
    t.uuid("new_volume_type_id").nullable().references("volume_types.id");
  });
  const list = MIGRATION_KINDS.map((k) => `'${k}'`).join(", ");
  await knex.raw(`ALTER TABLE migrations ADD CONSTRAINT migrations_kind_check CHECK (kind IN (${list}))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE migrations DROP CONSTRAINT IF EXISTS migrations_kind_check");
  await knex.schema.alterTable("migrations", (t) => {
    t.dropColumn("new_volume_type_id");
    t.dropColumn("kind");
  });
}
