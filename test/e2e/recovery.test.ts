import fs from "node:fs";
import path from "node:path";

import { getMigration, listMigrations } from "../../db/migrationRecords";
import { getVolume } from "../../db/volumes";
import { waitFor } from "../helpers/stack";
import { type KillStack, sha256, startKillStack, writtenVolume } from "./killStack";

/**
 * Issue 3, "no stuck states": a source worker killed with SIGKILL in the middle of a copy, before
 * its first checkpoint, is restarted; within 3 × report_interval the migration is rolled back, the
 * source data is intact and the temp volume is gone. Real processes on the real PostgreSQL and
 * RabbitMQ.
 */
const REPORT_INTERVAL = 4;
/**
 * 64 MiB/s: the first checkpoint (256 MiB) comes seconds after the copy starts, so the kill lands
 * before it and the restart rolls back (a checkpointed copy resumes instead: resume.test.ts).
 */
const COPY_BPS = 64 * 1024 * 1024;
let s: KillStack;

beforeAll(async () => {
  s = await startKillStack({ host: "killtest", reportInterval: REPORT_INTERVAL, copyBps: COPY_BPS });
}, 120_000);

afterAll(async () => {
  await s?.stop();
});

test("a source worker killed mid-copy rolls the migration back when it restarts", async () => {
  const { id, host, srcBackend, dstBackend, srcFile, before } = await writtenVolume(
    s,
    "kill-me",
    [0, 700, 1400, 2000],
  );

  const accepted = await s.http("POST", `/volumes/${id}/action`, {
    "os-migrate_volume": { host: `killtest@${dstBackend}#${dstBackend}`, force_host_copy: true },
  });
  expect(accepted.status).toBe(202);
  // Kill the source worker once the copy has begun: temp volume ready, migration `migrating`.
  const migration = await waitFor(
    async () => {
      const [m] = await listMigrations(s.t.db, { volumeId: id });
      const temp = m?.temp_volume_id ? await getVolume(s.t.db, m.temp_volume_id) : undefined;
      return m?.state === "migrating" && temp?.status === "available" ? m : undefined;
    },
    "copy under way",
    60_000,
    20,
  );
  await s.procs.get(srcBackend)!.kill();
  const stuck = await getVolume(s.t.db, id);
  expect(stuck?.migration_status).toBe("migrating");
  expect((await getMigration(s.t.db, migration.id))?.checkpoint).toBeNull();

  const restartedAt = Date.now();
  s.procs.set(srcBackend, await s.worker(srcBackend));
  const settled = await waitFor(
    async () => {
      const v = await getVolume(s.t.db, id);
      return v && !["starting", "migrating", "completing"].includes(v.migration_status ?? "") ? v : undefined;
    },
    "migration settled",
    3 * REPORT_INTERVAL * 1000,
  );
  const elapsed = Date.now() - restartedAt;
  expect(elapsed).toBeLessThanOrEqual(3 * REPORT_INTERVAL * 1000);
  expect(settled).toMatchObject({
    migration_status: "error",
    status: "available",
    host,
    name_id: null,
  });
  expect(sha256(srcFile)).toBe(before);
  expect((await getMigration(s.t.db, migration.id))?.error).toMatch(/restarted during the migration/);
  const tempFile = path.join(s.stateDir, dstBackend, `volume-${migration.temp_volume_id}`);
  await waitFor(async () => {
    const temp = await s.t.db("volumes").where({ id: migration.temp_volume_id }).first();
    return temp?.deleted === true && !fs.existsSync(tempFile);
  }, "temp volume removed");
  const stale = await s.t.db("volumes").whereIn("migration_status", ["starting", "migrating", "completing"]);
  expect(stale).toEqual([]);
}, 240_000);
