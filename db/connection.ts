/**
 * One knex instance over either PostgreSQL (`postgresql://…`, driver pg) or embedded PGlite
 * (`pglite://<dir>` or `pglite://memory`). The schema and every query are the same on both.
 */
import fs from "node:fs";

import knex, { type Knex } from "knex";

import { migrationSource } from "./migrations";

export type Db = Knex;

export async function openDatabase(connection: string): Promise<Db> {
  const url = new URL(connection);
  if (url.protocol === "pglite:") {
    const dir = connection.slice("pglite://".length);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ClientPgLite = require("knex-pglite").default ?? require("knex-pglite");
    let filename: string | undefined;
    if (dir !== "memory" && dir !== "") {
      fs.mkdirSync(dir, { recursive: true });
      filename = dir;
    }
    return knex({ client: ClientPgLite, connection: filename ? { filename } : {}, useNullAsDefault: true });
  }
  return knex({ client: "pg", connection, pool: { min: 0, max: 10 } });
}

/**
 * Every process migrates at start. When several start at once, knex's lock makes all but one fail
 * with "already locked"; they wait and retry, and find the schema done.
 */
export async function migrateLatest(db: Db, attempts = 30): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await db.migrate.latest({ migrationSource });
      return;
    } catch (e) {
      if (i >= attempts || !/already locked/i.test((e as Error).message)) {
        throw e;
      }
      await new Promise((r) => setTimeout(r, 250 * i));
    }
  }
}
