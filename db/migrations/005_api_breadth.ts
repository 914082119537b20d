import type { Knex } from "knex";

/** The lists as this migration wrote them (a migration is history: its own copies). */
const QOS_CONSUMERS = ["front-end", "back-end", "both"] as const;
const MESSAGE_LEVELS = ["ERROR", "WARNING", "INFO"] as const;
const MESSAGE_RESOURCE_TYPES = ["VOLUME", "VOLUME_SNAPSHOT", "VOLUME_BACKUP"] as const;

function inList(col: string, values: readonly string[], nullable = false): string {
  const list = values.map((v) => `'${v}'`).join(", ");
  return nullable ? `${col} IS NULL OR ${col} IN (${list})` : `${col} IN (${list})`;
}

/**
 * Cinder's API breadth (issue 15): which projects may use a private volume type, QoS specs and
 * their association with types, per-project and per-class quota limits (usage is counted from the
 * volumes and snapshots that consume quota, never stored), user messages, and the connection a
 * new-style attachment (3.27) hands to its host with its mode as Cinder stores it (`null` too).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("volume_type_projects", (t) => {
    t.increments("id");
    t.uuid("volume_type_id").notNullable().references("volume_types.id").onDelete("CASCADE");
    t.string("project_id", 255).notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(["volume_type_id", "project_id"]);
  });

  await knex.schema.createTable("quality_of_service_specs", (t) => {
    t.uuid("id").primary();
    t.string("name", 255).notNullable();
    t.string("consumer", 16).notNullable().defaultTo("back-end");
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("updated_at", { useTz: true }).nullable();
    t.boolean("deleted").notNullable().defaultTo(false);
    t.timestamp("deleted_at", { useTz: true }).nullable();
  });
  await knex.raw(
    "CREATE UNIQUE INDEX quality_of_service_specs_name_live ON quality_of_service_specs (name) WHERE NOT deleted",
  );
  await knex.raw(
    `ALTER TABLE quality_of_service_specs ADD CONSTRAINT qos_specs_consumer_check CHECK (${inList("consumer", QOS_CONSUMERS)})`,
  );
  await knex.schema.createTable("qos_specs_keys", (t) => {
    t.increments("id");
    t.uuid("qos_specs_id").notNullable().references("quality_of_service_specs.id").onDelete("CASCADE");
    t.string("key", 255).notNullable();
    t.string("value", 255).notNullable();
    t.unique(["qos_specs_id", "key"]);
  });
  await knex.schema.alterTable("volume_types", (t) => {
    t.uuid("qos_specs_id").nullable().references("quality_of_service_specs.id");
  });

  for (const [table, owner] of [
    ["quotas", "project_id"],
    ["quota_classes", "class_name"],
  ] as const) {
    await knex.schema.createTable(table, (t) => {
      t.increments("id");
      t.string(owner, 255).notNullable();
      t.string("resource", 300).notNullable();
      t.integer("hard_limit").notNullable();
      t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp("updated_at", { useTz: true }).nullable();
      t.unique([owner, "resource"]);
    });
    await knex.raw(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_hard_limit_check CHECK (hard_limit >= -1)`);
  }

  // A message expires message_ttl seconds after created_at (the reader's configuration decides).
  await knex.schema.createTable("messages", (t) => {
    t.uuid("id").primary();
    t.string("project_id", 255).notNullable();
    t.string("request_id", 255).nullable();
    t.string("resource_type", 36).nullable();
    t.string("resource_uuid", 255).nullable();
    t.string("event_id", 255).notNullable();
    t.string("action_id", 10).nullable();
    t.string("detail_id", 10).nullable();
    t.string("message_level", 255).notNullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(["project_id", "created_at"]);
  });
  await knex.raw(
    `ALTER TABLE messages ADD CONSTRAINT messages_level_check CHECK (${inList("message_level", MESSAGE_LEVELS)})`,
  );
  await knex.raw(
    `ALTER TABLE messages ADD CONSTRAINT messages_resource_type_check CHECK (${inList("resource_type", MESSAGE_RESOURCE_TYPES, true)})`,
  );

  // attach_mode also holds `null` (a 3.54 attachment created without a mode: the connector decides).
  await knex.schema.alterTable("volume_attachments", (t) => {
    t.jsonb("connection_info").nullable();
    t.string("attach_mode", 36).notNullable().defaultTo("rw").alter();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable("volume_attachments", (t) => {
    t.dropColumn("connection_info");
    t.string("attach_mode", 2).notNullable().defaultTo("rw").alter();
  });
  await knex.schema.dropTable("messages");
  await knex.schema.dropTable("quota_classes");
  await knex.schema.dropTable("quotas");
  await knex.schema.alterTable("volume_types", (t) => {
    t.dropColumn("qos_specs_id");
  });
  await knex.schema.dropTable("qos_specs_keys");
  await knex.schema.dropTable("quality_of_service_specs");
  await knex.schema.dropTable("volume_type_projects");
}
