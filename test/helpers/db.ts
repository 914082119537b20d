/**
 * One real PostgreSQL database per test file (graphile-worker's pattern): created from the
 * server in VMS_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test), migrated, and
 * dropped when the file is done.
 */
import { randomBytes } from "node:crypto";

import knex from "knex";

import { type Db, migrateLatest, openDatabase } from "../../db/connection";

export const ADMIN_PG_URL = process.env["VMS_TEST_PG_URL"] ?? "postgresql://postgres@127.0.0.1:5432/test";

export interface TestDatabase {
  db: Db;
  url: string;
  name: string;
  drop(): Promise<void>;
}

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `vms_test_${randomBytes(6).toString("hex")}`;
  const admin = knex({ client: "pg", connection: ADMIN_PG_URL, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`CREATE DATABASE ${name}`);
  } finally {
    await admin.destroy();
  }
  const url = databaseUrl(name);
  const db = await openDatabase(url);
  await migrateLatest(db);
  return {
    db,
    url,
    name,
    async drop() {
      await db.destroy();
      const a = knex({ client: "pg", connection: ADMIN_PG_URL, pool: { min: 0, max: 1 } });
      try {
        await a.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.destroy();
      }
    },
  };
}
