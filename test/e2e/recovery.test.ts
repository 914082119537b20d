import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { getMigration, listMigrations } from "../../db/migrationRecords";
import { getVolume } from "../../db/volumes";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { createVhost, type TestVhost } from "../helpers/rabbit";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { waitFor } from "../helpers/stack";

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
let vhost: TestVhost;
let t: TestDatabase;
let stateDir: string;
let conf: string;
let api: string;
const procs = new Map<string, ServiceProcess>();

const worker = (backend: string): Promise<ServiceProcess> =>
  startProcess(["volume", "--config", conf, "--backend", backend], { readyLine: /volume service started/ });

async function http(method: string, url: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${api}${url}`, {
    signal: AbortSignal.timeout(30_000),
    method,
    headers: { "X-Auth-Token": "admin:demo", "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

function sha256(file: string): string {
  return execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0]!;
}

beforeAll(async () => {
  vhost = createVhost();
  t = await createTestDatabase();
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-e2e-kill-"));
  const port = await freePort();
  conf = path.join(stateDir, "cinder.conf");
  fs.writeFileSync(
    conf,
    `[DEFAULT]
host = killtest
state_path = ${stateDir}
transport_url = ${vhost.url}
enabled_backends = file-1, file-2
report_interval = ${REPORT_INTERVAL}
osapi_volume_listen_port = ${port}
[database]
connection = ${t.url}
[file-1]
volume_driver = rawfile
rawfile_directory = $state_path/file-1
volume_copy_bps_limit = ${COPY_BPS}
[file-2]
volume_driver = rawfile
rawfile_directory = $state_path/file-2
volume_copy_bps_limit = ${COPY_BPS}
`,
  );
  const [w1, w2, sched, apiProc] = await Promise.all([
    worker("file-1"),
    worker("file-2"),
    startProcess(["scheduler", "--config", conf], { readyLine: /scheduler started/ }),
    startProcess(["api", "--config", conf], { readyLine: /listening on http/ }),
  ]);
  procs.set("file-1", w1).set("file-2", w2).set("scheduler", sched).set("api", apiProc);
  api = `http://127.0.0.1:${port}/v3/demo`;
}, 120_000);

afterAll(async () => {
  await Promise.all([...procs.values()].map((p) => p.stop()));
  await t?.drop();
  vhost?.drop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

test("a source worker killed mid-copy rolls the migration back when it restarts", async () => {
  const created = await http("POST", "/volumes", { volume: { size: 2, name: "kill-me" } });
  expect(created.status).toBe(202);
  const id = (created.json as { volume: { id: string } }).volume.id;
  const volume = await waitFor(async () => {
    const v = await getVolume(t.db, id);
    return v?.status === "available" ? v : undefined;
  }, "volume available");
  const srcBackend = volume.host!.split("@")[1]!.split("#")[0]!;
  const dstBackend = srcBackend === "file-1" ? "file-2" : "file-1";
  const srcFile = path.join(stateDir, srcBackend, `volume-${id}`);
  const fd = fs.openSync(srcFile, "r+");
  for (const offset of [0, 700, 1400, 2000]) {
    fs.writeSync(fd, randomBytes(8 << 20), 0, 8 << 20, offset << 20);
  }
  fs.closeSync(fd);
  const before = sha256(srcFile);

  const accepted = await http("POST", `/volumes/${id}/action`, {
    "os-migrate_volume": { host: `killtest@${dstBackend}#${dstBackend}`, force_host_copy: true },
  });
  expect(accepted.status).toBe(202);
  // Kill the source worker once the copy has begun: temp volume ready, migration `migrating`.
  const migration = await waitFor(
    async () => {
      const [m] = await listMigrations(t.db, { volumeId: id });
      const temp = m?.temp_volume_id ? await getVolume(t.db, m.temp_volume_id) : undefined;
      return m?.state === "migrating" && temp?.status === "available" ? m : undefined;
    },
    "copy under way",
    60_000,
    20,
  );
  await procs.get(srcBackend)!.kill();
  const stuck = await getVolume(t.db, id);
  expect(stuck?.migration_status).toBe("migrating");
  expect((await getMigration(t.db, migration.id))?.checkpoint).toBeNull();

  const restartedAt = Date.now();
  procs.set(srcBackend, await worker(srcBackend));
  const settled = await waitFor(
    async () => {
      const v = await getVolume(t.db, id);
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
    host: volume.host,
    name_id: null,
  });
  expect(sha256(srcFile)).toBe(before);
  expect((await getMigration(t.db, migration.id))?.error).toMatch(/restarted during the migration/);
  const tempFile = path.join(stateDir, dstBackend, `volume-${migration.temp_volume_id}`);
  await waitFor(async () => {
    const temp = await t.db("volumes").where({ id: migration.temp_volume_id }).first();
    return temp?.deleted === true && !fs.existsSync(tempFile);
  }, "temp volume removed");
  const stale = await t.db("volumes").whereIn("migration_status", ["starting", "migrating", "completing"]);
  expect(stale).toEqual([]);
}, 240_000);
