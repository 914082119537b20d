import fs from "node:fs";
import path from "node:path";

import { getMigration, listMigrations } from "../../db/migrationRecords";
import { getVolume } from "../../db/volumes";
import { waitFor } from "../helpers/stack";
import { type KillStack, sha256, startKillStack, writtenVolume } from "./killStack";

/**
 * Issue 5 item 3: a source worker killed with SIGKILL after the copy recorded a checkpoint goes
 * on from that checkpoint when it restarts (recovery "resume-copy"), and the migration ends
 * `success` with the destination holding the source's bytes. Real processes on the real
 * PostgreSQL and RabbitMQ; the copy is held to 256 MiB/s so the kill lands mid-copy.
 */
const MiB = 1024 * 1024;
const REPORT_INTERVAL = 4;
const SIZE = 2 * 1024 * MiB;
let s: KillStack;

beforeAll(async () => {
  s = await startKillStack({ host: "resumetest", reportInterval: REPORT_INTERVAL, copyBps: 256 * MiB });
}, 120_000);

afterAll(async () => {
  await s?.stop();
});

test("a source worker killed after a checkpoint resumes the copy from it when it restarts", async () => {
  const { id, srcBackend, dstBackend, srcFile, before } = await writtenVolume(
    s,
    "resume-me",
    [0, 300, 700, 1400, 2000],
  );

  const accepted = await s.http("POST", `/volumes/${id}/action`, {
    "os-migrate_volume": { host: `resumetest@${dstBackend}#${dstBackend}`, force_host_copy: true },
  });
  expect(accepted.status).toBe(202);
  const checkpointed = await waitFor(
    async () => {
      const [m] = await listMigrations(s.t.db, { volumeId: id });
      return m?.state === "migrating" && m.checkpoint ? m : undefined;
    },
    "first checkpoint",
    60_000,
    20,
  );
  await s.procs.get(srcBackend)!.kill();
  // What the restarted worker must resume from: the last checkpoint written before the kill.
  const killed = (await getMigration(s.t.db, checkpointed.id))!;
  const offset = killed.checkpoint!.offset;
  expect(offset).toBeGreaterThan(0);
  expect(offset).toBeLessThan(SIZE);
  expect((await getVolume(s.t.db, id))?.migration_status).toBe("migrating");

  const restartedAt = new Date();
  const restarted = await s.worker(srcBackend);
  s.procs.set(srcBackend, restarted);
  // Progress the restarted worker writes never drops below the checkpoint: the copy does not
  // start over. (The row may still show the killed worker's last progress, written before its
  // last checkpoint: only rows updated since the restart count.)
  let lowest = Infinity;
  const done = await waitFor(
    async () => {
      const m = await getMigration(s.t.db, killed.id);
      if (m?.state === "migrating" && m.updated_at && m.updated_at > restartedAt) {
        lowest = Math.min(lowest, m.bytes_done);
      }
      return m && ["success", "error"].includes(m.state) ? m : undefined;
    },
    "migration finished",
    120_000,
    50,
  );
  expect(done).toMatchObject({ state: "success", error: null, temp_volume_id: killed.temp_volume_id });
  expect(done.source_checksum).toMatch(/^[0-9a-f]{64}$/);
  expect(done.dest_checksum).toBe(done.source_checksum);
  expect(lowest).toBeGreaterThanOrEqual(offset);
  expect(lowest).toBeLessThan(SIZE);
  const out = restarted.output();
  expect(out).toContain(`resuming copy from offset ${offset}`);
  expect(out).toMatch(new RegExp(`"resumedBytes":${offset}\\b`));
  expect(out).toMatch(/"action":"resume-copy"/);

  const moved = (await getVolume(s.t.db, id))!;
  expect(moved).toMatchObject({ status: "available", migration_status: "success" });
  expect(moved.host).toBe(`resumetest@${dstBackend}#${dstBackend}`);
  expect(sha256(path.join(s.stateDir, dstBackend, `volume-${moved.name_id ?? id}`))).toBe(before);
  await waitFor(async () => !fs.existsSync(srcFile), "source data removed");
}, 240_000);
