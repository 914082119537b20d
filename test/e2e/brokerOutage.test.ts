import fs from "node:fs";
import path from "node:path";

import { getMigration, listMigrations } from "../../db/migrationRecords";
import { getVolume } from "../../db/volumes";
import { waitFor } from "../helpers/stack";
import { type KillStack, sha256, startKillStack, writtenVolume } from "./killStack";

/**
 * Issue 14 item 6: RabbitMQ closing every client connection (what a broker restart or a failover
 * does) in the middle of a migration is routine. The distributed stack (api, scheduler and two
 * raw-file workers as real processes on the real PostgreSQL and RabbitMQ) has all its broker
 * connections closed by `rabbitmqctl close_all_connections` on its own vhost at a quarter of a
 * 2 GiB copy: every process reconnects by itself, the migration ends `success` with the data
 * intact, the services stay up, and the API takes new volumes.
 */
const MiB = 1024 * 1024;
const REPORT_INTERVAL = 2;
/**
 * 64 MiB/s: the copy lasts about 32 s, so the cut (rabbitmqctl takes seconds to start on a busy
 * machine) lands well before its end; the test checks that it did.
 */
const COPY_BPS = 64 * MiB;
let s: KillStack;

beforeAll(async () => {
  s = await startKillStack({ host: "brokercut", reportInterval: REPORT_INTERVAL, copyBps: COPY_BPS });
}, 120_000);

afterAll(async () => {
  await s?.stop();
});

test("all broker connections closed at 25 % of a migration: the processes reconnect, the migration succeeds with the data intact, new volumes are accepted", async () => {
  const { id, dstBackend, srcFile, before } = await writtenVolume(s, "cut-mid-copy", [0, 500, 1000, 2000]);
  const accepted = await s.http("POST", `/volumes/${id}/action`, {
    "os-migrate_volume": { host: `brokercut@${dstBackend}#${dstBackend}`, force_host_copy: true },
  });
  expect(accepted.status).toBe(202);
  const quarter = await waitFor(
    async () => {
      const [m] = await listMigrations(s.t.db, { volumeId: id });
      const total = m?.bytes_total ?? 0;
      return m?.state === "migrating" && total > 0 && m.bytes_done >= total / 4 ? m : undefined;
    },
    "a quarter of the copy",
    120_000,
    50,
  );

  const closed = await s.vhost.closeConnections("test: broker restart mid-migration");
  // One connection per process: api, scheduler, the two workers.
  expect(closed).toBe(4);
  const afterCut = (await getMigration(s.t.db, quarter.id))!;
  expect(afterCut.state).toBe("migrating");
  expect(afterCut.bytes_done).toBeLessThan(afterCut.bytes_total!);

  const done = await waitFor(
    async () => {
      const m = await getMigration(s.t.db, quarter.id);
      return m && ["success", "error"].includes(m.state) ? m : undefined;
    },
    "migration finished",
    180_000,
    100,
  );
  expect(done).toMatchObject({ state: "success", error: null });
  expect(done.dest_checksum).toBe(done.source_checksum);
  const moved = (await getVolume(s.t.db, id))!;
  expect(moved).toMatchObject({ status: "available", migration_status: "success" });
  expect(moved.host).toBe(`brokercut@${dstBackend}#${dstBackend}`);
  expect(sha256(path.join(s.stateDir, dstBackend, `volume-${moved.name_id ?? id}`))).toBe(before);
  await waitFor(async () => !fs.existsSync(srcFile), "source data removed");

  for (const [name, proc] of s.procs) {
    const out = proc.output();
    expect({ name, lost: /lost the message broker \(connection closed\)/.test(out) }).toEqual({
      name,
      lost: true,
    });
    expect({ name, back: /reconnected to the message broker/.test(out) }).toEqual({ name, back: true });
  }
  // The heartbeats went on: every service is up.
  const services = await s.http("GET", "/os-services");
  const rows = (services.json as { services: { binary: string; host: string; state: string }[] }).services;
  expect(rows.map((r) => `${r.binary} ${r.host} ${r.state}`).sort()).toEqual([
    "cinder-scheduler brokercut up",
    "cinder-volume brokercut@file-1 up",
    "cinder-volume brokercut@file-2 up",
  ]);

  const created = await s.http("POST", "/volumes", { volume: { size: 1, name: "after-the-cut" } });
  expect(created.status).toBe(202);
  const newId = (created.json as { volume: { id: string } }).volume.id;
  await waitFor(async () => (await getVolume(s.t.db, newId))?.status === "available", "new volume available");
}, 300_000);
