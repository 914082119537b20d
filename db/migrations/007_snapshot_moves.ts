import type { Knex } from "knex";

/** The flows as this migration knows them (a migration is history: its own copy). */
const FLOWS = ["generic", "driver", "compute", "snapshots"];
const FLOWS_BEFORE = ["generic", "driver", "compute"];

const flowCheck = (flows: string[]): string =>
  `CHECK (flow IS NULL OR flow IN (${flows.map((f) => `'${f}'`).join(", ")}))`;

/**
 * Volumes that move with their snapshots (issue 16, migrate_volumes_with_snapshots):
 * - `snapshots.name_id`, the snapshot's `_name_id`: a moved snapshot's backend object is named
 *   after it (snapshot_name_template % (name_id ?? id)), as a moved volume's is after its name_id,
 *   so the destination's objects never share a name with the source's;
 * - the migration flow `snapshots`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable("snapshots", (t) => {
    t.uuid("name_id").nullable();
  });
  await knex.raw("ALTER TABLE migrations DROP CONSTRAINT IF EXISTS migrations_flow_check");
  await knex.raw(`ALTER TABLE migrations ADD CONSTRAINT migrations_flow_check ${flowCheck(FLOWS)}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("ALTER TABLE migrations DROP CONSTRAINT IF EXISTS migrations_flow_check");
  await knex.raw(`ALTER TABLE migrations ADD CONSTRAINT migrations_flow_check ${flowCheck(FLOWS_BEFORE)}`);
  await knex.schema.alterTable("snapshots", (t) => {
    t.dropColumn("name_id");
  });
}
