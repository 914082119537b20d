import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { createVhost, type TestVhost } from "../helpers/rabbit";
import { migrateWithCinder } from "./scenario";

/**
 * Distributed mode: api, scheduler and one worker per backend as separate processes, on the real
 * PostgreSQL (a database of its own) and the real RabbitMQ (a vhost of its own, so durable queues
 * of other runs never mix in).
 */
let vhost: TestVhost;
const host = `node-${randomBytes(3).toString("hex")}`;
let t: TestDatabase;
let stateDir: string;
let endpoint: string;
const procs: ServiceProcess[] = [];

beforeAll(async () => {
  vhost = createVhost();
  t = await createTestDatabase();
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-e2e-dist-"));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  fs.writeFileSync(
    conf,
    `[DEFAULT]
host = ${host}
state_path = ${stateDir}
transport_url = ${vhost.url}
auth_strategy = noauth
enabled_backends = file-1, file-2
report_interval = 2
osapi_volume_listen_port = ${port}
[database]
connection = ${t.url}
[file-1]
volume_driver = rawfile
rawfile_directory = $state_path/file-1
# Same host for both: without this the driver would move natively (a hard link, no name_id).
rawfile_native_migration = false
[file-2]
volume_driver = rawfile
rawfile_directory = $state_path/file-2
rawfile_native_migration = false
`,
  );
  // Workers first: they create the schema race-free through knex's migration lock, like the others.
  const started = await Promise.all([
    startProcess(["volume", "--config", conf, "--backend", "file-1"], {
      readyLine: /volume service started/,
    }),
    startProcess(["volume", "--config", conf, "--backend", "file-2"], {
      readyLine: /volume service started/,
    }),
    startProcess(["scheduler", "--config", conf], { readyLine: /scheduler started/ }),
    startProcess(["api", "--config", conf], { readyLine: /listening on http/ }),
  ]);
  procs.push(...started);
  endpoint = `http://127.0.0.1:${port}/v3`;
}, 120_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await t?.drop();
  vhost?.drop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

test("cinder migrate works with api, scheduler and two workers as separate processes on Postgres and RabbitMQ", async () => {
  const pids = new Set(procs.map((p) => p.child.pid));
  expect(pids.size).toBe(4);
  await migrateWithCinder(endpoint, stateDir, host);
}, 180_000);
