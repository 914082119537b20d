import type { Knex } from "knex";

/** Cinder's control locations, as this migration wrote them (a migration is history: its own copy). */
const CONTROL_LOCATIONS = ["front-end", "back-end"] as const;

/**
 * Volume type encryption (issue 15, Cinder's `encryption` table): at most one live row per type,
 * soft-deleted like Cinder's, with `control_location` a closed list.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("volume_type_encryption", (t) => {
    t.uuid("encryption_id").primary();
    t.uuid("volume_type_id").notNullable().references("volume_types.id");
    t.string("provider", 255).notNullable();
    t.string("control_location", 16).notNullable();
    t.string("cipher", 255).nullable();
    t.integer("key_size").nullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("updated_at", { useTz: true }).nullable();
    t.boolean("deleted").notNullable().defaultTo(false);
    t.timestamp("deleted_at", { useTz: true }).nullable();
  });
  await knex.raw(
    "CREATE UNIQUE INDEX volume_type_encryption_type_live ON volume_type_encryption (volume_type_id) WHERE NOT deleted",
  );
  const list = CONTROL_LOCATIONS.map((v) => `'${v}'`).join(", ");
  await knex.raw(
    `ALTER TABLE volume_type_encryption ADD CONSTRAINT volume_type_encryption_control_location_check CHECK (control_location IN (${list}))`,
  );
  await knex.raw(
    "ALTER TABLE volume_type_encryption ADD CONSTRAINT volume_type_encryption_key_size_check CHECK (key_size IS NULL OR key_size >= 0)",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("volume_type_encryption");
}
