import type { Knex } from "knex";

/**
 * Volume transfers (issue 15, Cinder's `transfers` table): an offer of a volume to whoever holds
 * its auth key, kept as a salt and an HMAC-SHA1 of the key (never the key). Soft-deleted when
 * deleted or accepted; an accepted one records the project it went to. At most one live offer
 * per volume.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("transfers", (t) => {
    t.uuid("id").primary();
    t.uuid("volume_id").notNullable().references("volumes.id");
    t.string("display_name", 255).nullable();
    t.string("salt", 255).notNullable();
    t.string("crypt_hash", 255).notNullable();
    t.timestamp("expires_at", { useTz: true }).nullable();
    t.boolean("no_snapshots").notNullable().defaultTo(false);
    t.string("source_project_id", 255).notNullable();
    t.string("destination_project_id", 255).nullable();
    t.boolean("accepted").notNullable().defaultTo(false);
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("updated_at", { useTz: true }).nullable();
    t.boolean("deleted").notNullable().defaultTo(false);
    t.timestamp("deleted_at", { useTz: true }).nullable();
  });
  await knex.raw("CREATE UNIQUE INDEX transfers_volume_live ON transfers (volume_id) WHERE NOT deleted");
  await knex.raw(
    "ALTER TABLE transfers ADD CONSTRAINT transfers_accepted_check CHECK (NOT accepted OR (deleted AND destination_project_id IS NOT NULL))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable("transfers");
}
