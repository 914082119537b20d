/**
 * The migrations carry their own copies of the status lists (a migration is history); this keeps
 * the migrated schema and common/states.ts in step: every CHECK list equals today's closed union.
 */
import {
  ATTACH_STATUSES,
  EVACUATION_ITEM_STATES,
  EVACUATION_ORDERS,
  EVACUATION_STATUSES,
  MESSAGE_LEVELS,
  MESSAGE_RESOURCE_TYPES,
  MIGRATION_FLOWS,
  MIGRATION_KINDS,
  MIGRATION_STATES,
  MIGRATION_STATUSES,
  QOS_CONSUMERS,
  SERVICE_BINARIES,
  SNAPSHOT_STATUSES,
  VOLUME_STATUSES,
} from "../../common/states";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t.drop());

/** The quoted words of a CHECK constraint's definition, as PostgreSQL prints it. */
async function checkValues(name: string): Promise<string[]> {
  const r = await t.db.raw<{ rows: { def: string }[] }>(
    "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = ?",
    [name],
  );
  const def = r.rows[0]?.def;
  if (def === undefined) {
    throw new Error(`no constraint ${name}`);
  }
  return [...def.matchAll(/'([^']*)'/g)].map((m) => m[1]!).sort();
}

test.each([
  ["volumes_status_check", VOLUME_STATUSES],
  ["volumes_previous_status_check", VOLUME_STATUSES],
  ["volumes_attach_status_check", ATTACH_STATUSES],
  ["volumes_migration_status_check", MIGRATION_STATUSES],
  ["attachments_status_check", ATTACH_STATUSES],
  ["snapshots_status_check", SNAPSHOT_STATUSES],
  ["migrations_state_check", MIGRATION_STATES],
  ["migrations_kind_check", MIGRATION_KINDS],
  ["migrations_flow_check", MIGRATION_FLOWS],
  ["services_binary_check", SERVICE_BINARIES],
  ["evacuations_status_check", EVACUATION_STATUSES],
  ["evacuations_order_check", EVACUATION_ORDERS],
  ["evacuation_items_state_check", EVACUATION_ITEM_STATES],
  ["qos_specs_consumer_check", QOS_CONSUMERS],
  ["messages_level_check", MESSAGE_LEVELS],
  ["messages_resource_type_check", MESSAGE_RESOURCE_TYPES],
])("%s lists exactly the statuses of common/states.ts", async (name, values) => {
  expect(await checkValues(name)).toEqual([...values].sort());
});
