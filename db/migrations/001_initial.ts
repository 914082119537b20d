import type { Knex } from "knex";

/*
 * The lists this migration wrote into its CHECK constraints, copied here on purpose: a migration is
 * history, so it must not change when common/states.ts gains a status (a later migration does that).
 */
const VOLUME_STATUSES = [
  "creating",
  "available",
  "deleting",
  "error",
  "error_deleting",
  "error_managing",
  "managing",
  "attaching",
  "in-use",
  "detaching",
  "maintenance",
  "restoring-backup",
  "error_restoring",
  "reserved",
  "awaiting-transfer",
  "backing-up",
  "error_backing-up",
  "error_extending",
  "downloading",
  "uploading",
  "retyping",
  "extending",
  "deleted",
] as const;
const ATTACH_STATUSES = [
  "attached",
  "attaching",
  "detached",
  "reserved",
  "detaching",
  "error_attaching",
  "error_detaching",
  "deleted",
] as const;
const MIGRATION_STATUSES = ["starting", "migrating", "completing", "success", "error", "deleting"] as const;
const SNAPSHOT_STATUSES = [
  "creating",
  "available",
  "deleting",
  "error",
  "error_deleting",
  "deleted",
] as const;
const MIGRATION_STATES = ["starting", "migrating", "completing", "success", "error"] as const;
const MIGRATION_FLOWS = ["generic", "driver", "compute"] as const;
const SERVICE_BINARIES = ["cinder-volume", "cinder-scheduler"] as const;

/** `col IN (...)` for a CHECK constraint. */
function inList(col: string, values: readonly string[], nullable = false): string {
  const list = values.map((v) => `'${v.replace(/'/g, "''")}'`).join(", ");
  return nullable ? `${col} IS NULL OR ${col} IN (${list})` : `${col} IN (${list})`;
}

function timestamps(t: Knex.CreateTableBuilder, knex: Knex): void {
  t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
  t.timestamp("updated_at", { useTz: true }).nullable();
  t.boolean("deleted").notNullable().defaultTo(false);
  t.timestamp("deleted_at", { useTz: true }).nullable();
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable("volume_types", (t) => {
    t.uuid("id").primary();
    t.string("name", 255).notNullable();
    t.string("description", 255).nullable();
    t.boolean("is_public").notNullable().defaultTo(true);
    timestamps(t, knex);
  });
  await knex.raw("CREATE UNIQUE INDEX volume_types_name_live ON volume_types (name) WHERE NOT deleted");

  await knex.schema.createTable("volume_type_extra_specs", (t) => {
    t.increments("id");
    t.uuid("volume_type_id").notNullable().references("volume_types.id").onDelete("CASCADE");
    t.string("key", 255).notNullable();
    t.string("value", 255).notNullable();
    t.unique(["volume_type_id", "key"]);
  });

  await knex.schema.createTable("volumes", (t) => {
    t.uuid("id").primary();
    t.string("name", 255).nullable();
    t.string("description", 255).nullable();
    t.integer("size").notNullable();
    t.string("status", 32).notNullable();
    t.string("previous_status", 32).nullable();
    t.string("attach_status", 32).notNullable().defaultTo("detached");
    t.string("migration_status", 32).nullable();
    t.uuid("migration_target_of").nullable().references("volumes.id");
    t.uuid("name_id").nullable();
    t.string("host", 255).nullable();
    t.string("cluster_name", 255).nullable();
    t.string("availability_zone", 255).nullable();
    t.uuid("volume_type_id").nullable().references("volume_types.id");
    t.string("project_id", 255).notNullable();
    t.string("user_id", 255).notNullable();
    t.boolean("bootable").notNullable().defaultTo(false);
    t.boolean("multiattach").notNullable().defaultTo(false);
    t.boolean("encrypted").notNullable().defaultTo(false);
    t.string("provider_location", 255).nullable();
    t.string("provider_id", 255).nullable();
    t.uuid("snapshot_id").nullable();
    t.uuid("source_volid").nullable();
    t.string("replication_status", 32).nullable();
    t.uuid("consistencygroup_id").nullable();
    t.uuid("group_id").nullable();
    t.boolean("use_quota").notNullable().defaultTo(true);
    t.jsonb("metadata").notNullable().defaultTo("{}");
    timestamps(t, knex);
    t.index(["project_id"]);
    t.index(["host"]);
  });
  await knex.raw(
    `ALTER TABLE volumes ADD CONSTRAINT volumes_status_check CHECK (${inList("status", VOLUME_STATUSES)})`,
  );
  await knex.raw(
    `ALTER TABLE volumes ADD CONSTRAINT volumes_previous_status_check CHECK (${inList("previous_status", VOLUME_STATUSES, true)})`,
  );
  await knex.raw(
    `ALTER TABLE volumes ADD CONSTRAINT volumes_attach_status_check CHECK (${inList("attach_status", ATTACH_STATUSES)})`,
  );
  await knex.raw(
    `ALTER TABLE volumes ADD CONSTRAINT volumes_migration_status_check CHECK (${inList("migration_status", MIGRATION_STATUSES, true)})`,
  );
  await knex.raw("ALTER TABLE volumes ADD CONSTRAINT volumes_size_check CHECK (size > 0)");

  await knex.schema.createTable("volume_attachments", (t) => {
    t.uuid("id").primary();
    t.uuid("volume_id").notNullable().references("volumes.id");
    t.string("instance_uuid", 36).nullable();
    t.string("attached_host", 255).nullable();
    t.string("mountpoint", 255).nullable();
    t.string("attach_status", 32).notNullable();
    t.string("attach_mode", 2).notNullable().defaultTo("rw");
    t.jsonb("connector").nullable();
    t.timestamp("attach_time", { useTz: true }).nullable();
    timestamps(t, knex);
  });
  await knex.raw(
    `ALTER TABLE volume_attachments ADD CONSTRAINT attachments_status_check CHECK (${inList("attach_status", ATTACH_STATUSES)})`,
  );

  await knex.schema.createTable("snapshots", (t) => {
    t.uuid("id").primary();
    t.uuid("volume_id").notNullable().references("volumes.id");
    t.string("name", 255).nullable();
    t.string("description", 255).nullable();
    t.string("status", 32).notNullable();
    t.integer("volume_size").notNullable();
    t.string("project_id", 255).notNullable();
    t.string("user_id", 255).notNullable();
    t.string("progress", 16).nullable();
    t.string("provider_location", 255).nullable();
    t.jsonb("metadata").notNullable().defaultTo("{}");
    timestamps(t, knex);
  });
  await knex.raw(
    `ALTER TABLE snapshots ADD CONSTRAINT snapshots_status_check CHECK (${inList("status", SNAPSHOT_STATUSES)})`,
  );

  await knex.schema.createTable("services", (t) => {
    t.increments("id");
    t.string("host", 255).notNullable();
    t.string("binary", 64).notNullable();
    t.string("topic", 255).notNullable();
    t.string("availability_zone", 255).notNullable().defaultTo("nova");
    t.boolean("disabled").notNullable().defaultTo(false);
    t.string("disabled_reason", 255).nullable();
    t.boolean("frozen").notNullable().defaultTo(false);
    t.string("cluster_name", 255).nullable();
    t.integer("report_count").notNullable().defaultTo(0);
    t.jsonb("capabilities").nullable();
    t.timestamp("capabilities_updated_at", { useTz: true }).nullable();
    timestamps(t, knex);
    t.unique(["host", "binary"]);
  });
  await knex.raw(
    `ALTER TABLE services ADD CONSTRAINT services_binary_check CHECK (${inList('"binary"', SERVICE_BINARIES)})`,
  );

  await knex.schema.createTable("migrations", (t) => {
    t.uuid("id").primary();
    t.uuid("volume_id").notNullable().references("volumes.id");
    t.string("state", 32).notNullable();
    t.string("flow", 32).nullable();
    t.string("source_host", 255).notNullable();
    t.string("requested_dest", 255).notNullable();
    t.string("dest_host", 255).nullable();
    t.uuid("temp_volume_id").nullable();
    t.boolean("force_host_copy").notNullable().defaultTo(false);
    t.boolean("lock_volume").notNullable().defaultTo(false);
    t.bigInteger("bytes_total").nullable();
    t.bigInteger("bytes_done").notNullable().defaultTo(0);
    t.bigInteger("rate_bps").nullable();
    t.string("source_checksum", 128).nullable();
    t.string("dest_checksum", 128).nullable();
    t.text("error").nullable();
    t.string("user_id", 255).nullable();
    t.timestamp("created_at", { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp("updated_at", { useTz: true }).nullable();
    t.timestamp("started_at", { useTz: true }).nullable();
    t.timestamp("finished_at", { useTz: true }).nullable();
    t.index(["volume_id"]);
  });
  await knex.raw(
    `ALTER TABLE migrations ADD CONSTRAINT migrations_state_check CHECK (${inList("state", MIGRATION_STATES)})`,
  );
  await knex.raw(
    `ALTER TABLE migrations ADD CONSTRAINT migrations_flow_check CHECK (${inList("flow", MIGRATION_FLOWS, true)})`,
  );

  // Cinder creates this type at install time; volumes created without a type get it.
  await knex("volume_types").insert({
    id: "00000000-0000-4000-8000-000000000001",
    name: "__DEFAULT__",
    description: "Default Volume Type",
    is_public: true,
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    "migrations",
    "services",
    "snapshots",
    "volume_attachments",
    "volumes",
    "volume_type_extra_specs",
    "volume_types",
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
