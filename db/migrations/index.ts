import type { Knex } from "knex";

import * as m001 from "./001_initial";
import * as m002 from "./002_retype";
import * as m003 from "./003_data_path";
import * as m004 from "./004_evacuations";
import * as m005 from "./005_api_breadth";
import * as m006 from "./006_request_ids";
import * as m007 from "./007_snapshot_moves";
import * as m008 from "./008_disk_drains";
import * as m009 from "./009_type_encryption";
import * as m010 from "./010_volume_transfers";

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Migrations are imported statically (no directory scan) so they run the same under tsx, jest and tsc output. */
const MIGRATIONS: Record<string, Migration> = {
  "001_initial": m001,
  "002_retype": m002,
  "003_data_path": m003,
  "004_evacuations": m004,
  "005_api_breadth": m005,
  "006_request_ids": m006,
  "007_snapshot_moves": m007,
  "008_disk_drains": m008,
  "009_type_encryption": m009,
  "010_volume_transfers": m010,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name]!,
};
