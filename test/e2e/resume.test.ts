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
 * Issue 5 item 3: a source worker killed with SIGKILL after the copy recorded a checkpoint goes
 * on from that checkpoint when it restarts (recovery "resume-copy"), and the migration ends
 * `success` with the destination holding the source's bytes. Real processes on the real
 * PostgreSQL and RabbitMQ; the copy is held to 256 MiB/s so the kill lands mid-copy.
 */
const MiB = 1024 * 1024;
const SIZE = 2 * 1024 * MiB;
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
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-e2e-resume-"));
  const port = await freePort();
  conf = path.join(stateDir, "cinder.conf");
  fs.writeFileSync(
    conf,
    `[DEFAULT]
host = resumetest
state_path = ${stateDir}
transport_url = ${vhost.url}
enabled_backends = file-1, file-2
report_interval = 4
osapi_volume_listen_port = ${port}
[database]
connection = ${t.url}
[file-1]
volume_driver = rawfile
rawfile_directory = $state_path/file-1
volume_copy_bps_limit = ${256 * MiB}
[file-2]
volume_driver = rawfile
rawfile_directory = $state_path/file-2
volume_copy_bps_limit = ${256 * MiB}
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

test("a source worker killed after a checkpoint resumes the copy from it when it restarts", async () => {
  const created = await http("POST", "/volumes", { volume: { size: 2, name: "resume-me" } });
  expect(created.status).toBe(202);
  const id = (created.json as { volume: { id: string } }).volume.id;
  const volume = await waitFor(async () => {
    const v = await getVolume(t.db, id);
    return v?.status === "available" ? v : undefined;
  }, "volume available");
  const srcBackend = volume.host!.split("@")[1]!.split("#")[0]!;
  const dstBackend = srcBackend === "file-1" ? "file-2" : "file-1";
  const srcFile = path.join(stateDir, srcBackend, `volume-${id}`);
  // Data in the segments before and after the kill, so both halves of the copy are checked.
  const fd = fs.openSync(srcFile, "r+");
  for (const offset of [0, 300, 700, 1400, 2000]) {
    fs.writeSync(fd, randomBytes(8 * MiB), 0, 8 * MiB, offset * MiB);
  }
  fs.closeSync(fd);
  const before = sha256(srcFile);

  const accepted = await http("POST", `/volumes/${id}/action`, {
    "os-migrate_volume": { host: `resumetest@${dstBackend}#${dstBackend}`, force_host_copy: true },
  });
  expect(accepted.status).toBe(202);
  const checkpointed = await waitFor(
    async () => {
      const [m] = await listMigrations(t.db, { volumeId: id });
      return m?.state === "migrating" && m.checkpoint ? m : undefined;
    },
    "first checkpoint",
    60_000,
    20,
  );
  await procs.get(srcBackend)!.kill();
  // What the restarted worker must resume from: the last checkpoint written before the kill.
  const killed = (await getMigration(t.db, checkpointed.id))!;
  const offset = killed.checkpoint!.offset;
  expect(offset).toBeGreaterThan(0);
  expect(offset).toBeLessThan(SIZE);
  expect((await getVolume(t.db, id))?.migration_status).toBe("migrating");

  const restartedAt = new Date();
  const restarted = await worker(srcBackend);
  procs.set(srcBackend, restarted);
  // Progress the restarted worker writes never drops below the checkpoint: the copy does not
  // start over. (The row may still show the killed worker's last progress, written before its
  // last checkpoint: only rows updated since the restart count.)
  let lowest = Infinity;
  const done = await waitFor(
    async () => {
      const m = await getMigration(t.db, killed.id);
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

  const moved = (await getVolume(t.db, id))!;
  expect(moved).toMatchObject({ status: "available", migration_status: "success" });
  expect(moved.host).toBe(`resumetest@${dstBackend}#${dstBackend}`);
  expect(sha256(path.join(stateDir, dstBackend, `volume-${moved.name_id ?? id}`))).toBe(before);
  await waitFor(async () => !fs.existsSync(srcFile), "source data removed");
}, 240_000);
