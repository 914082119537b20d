import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { createVhost, type TestVhost } from "../helpers/rabbit";
import { waitFor } from "../helpers/stack";

/**
 * Issue 12, "follow one migration through the logs": api, scheduler and two workers as separate
 * processes on PostgreSQL and RabbitMQ; a migration asked with a chosen X-OpenStack-Request-ID.
 * Its request id (the one the API answered with) and the client's id are on the lines it caused in
 * every process: the API's, the scheduler's choice, the source worker's copy and completion; the
 * lines of another request never carry them.
 */
let vhost: TestVhost;
const host = `node-${randomBytes(3).toString("hex")}`;
let t: TestDatabase;
let stateDir: string;
let endpoint: string;
const procs: Record<string, ServiceProcess> = {};

beforeAll(async () => {
  vhost = createVhost();
  t = await createTestDatabase();
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-e2e-reqid-"));
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
service_down_time = 60
osapi_volume_listen_port = ${port}
[database]
connection = ${t.url}
[file-1]
volume_driver = rawfile
rawfile_directory = $state_path/file-1
rawfile_native_migration = false
[file-2]
volume_driver = rawfile
rawfile_directory = $state_path/file-2
rawfile_native_migration = false
`,
  );
  const worker = (b: string): Promise<ServiceProcess> =>
    startProcess(["volume", "--config", conf, "--backend", b], { readyLine: /volume service started/ });
  const [w1, w2, scheduler, api] = await Promise.all([
    worker("file-1"),
    worker("file-2"),
    startProcess(["scheduler", "--config", conf], { readyLine: /scheduler started/ }),
    startProcess(["api", "--config", conf], { readyLine: /listening on http/ }),
  ]);
  Object.assign(procs, { "file-1": w1!, "file-2": w2!, scheduler: scheduler!, api: api! });
  endpoint = `http://127.0.0.1:${port}/v3/demo`;
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(procs).map((p) => p.stop()));
  await t?.drop();
  vhost?.drop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

type Line = Record<string, unknown>;

/** A process's pino lines (other output, such as the API's banner, skipped). */
function lines(p: ServiceProcess): Line[] {
  return p
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line);
}

async function api(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; requestId: string }> {
  const res = await fetch(`${endpoint}${url}`, {
    method,
    headers: { "X-Auth-Token": "admin:demo", "Content-Type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    requestId: res.headers.get("x-openstack-request-id") ?? "",
  };
}

async function volume(id: string): Promise<Record<string, unknown>> {
  return (await api("GET", `/volumes/${id}`)).body["volume"] as Record<string, unknown>;
}

test("a migration's request id is on the lines it caused in the api, the scheduler and the worker", async () => {
  const created = await api("POST", "/volumes", { volume: { size: 1, name: "traced" } });
  expect(created.status).toBe(202);
  const id = (created.body["volume"] as { id: string }).id;
  const source = await waitFor(async () => {
    const v = await volume(id);
    return v["status"] === "available" ? v : undefined;
  }, "volume available");
  const srcBackend = /@(file-[12])#/.exec(String(source["os-vol-host-attr:host"]))![1]!;
  const dstBackend = srcBackend === "file-1" ? "file-2" : "file-1";

  const clientId = `req-${randomUUID()}`;
  const migrate = await api(
    "POST",
    `/volumes/${id}/action`,
    { "os-migrate_volume": { host: `${host}@${dstBackend}#${dstBackend}` } },
    { "X-OpenStack-Request-ID": clientId },
  );
  expect(migrate.status).toBe(202);
  // The API's own id answers (as oslo's middleware does); the client's is kept beside it.
  const reqId = migrate.requestId;
  expect(reqId).toMatch(/^req-[0-9a-f-]{36}$/);
  expect(reqId).not.toBe(clientId);
  await waitFor(
    async () => ((await volume(id))["os-vol-mig-status-attr:migstat"] === "success" ? true : undefined),
    "migration success",
    120_000,
  );
  // The last lines (the old data's removal) come just after the status.
  await waitFor(
    async () =>
      lines(procs[srcBackend]!).some((l) => /deleting the old data/.test(String(l["msg"]))) || undefined,
    "completion logged",
  );

  const ours = (p: ServiceProcess): Line[] => lines(p).filter((l) => l["request_id"] === reqId);
  const msgs = (p: ServiceProcess): string[] => ours(p).map((l) => String(l["msg"]));
  // Every line of it carries the client's id too.
  for (const p of Object.values(procs)) {
    for (const l of ours(p)) {
      expect(l["global_request_id"]).toBe(clientId);
    }
  }
  expect(msgs(procs["api"]!)).toEqual(
    expect.arrayContaining([
      "migration accepted",
      expect.stringMatching(/^POST \/v3\/demo\/volumes\/.*\/action status: 202$/),
    ]),
  );
  expect(msgs(procs["scheduler"]!)).toEqual(
    expect.arrayContaining([expect.stringMatching(/^migration destination chosen/)]),
  );
  expect(msgs(procs[srcBackend]!)).toEqual(
    expect.arrayContaining([
      "temp volume ready; copying",
      "volume copy starting",
      expect.stringMatching(/^Volume copy \d+ MB at/),
      "migration complete; deleting the old data",
    ]),
  );
  // The worker's lines naming this migration all carry its ids, whichever loop wrote them.
  const migrationId = ours(procs[srcBackend]!).find((l) => l["migration_id"])?.["migration_id"];
  expect(migrationId).toEqual(expect.any(String));
  for (const p of Object.values(procs)) {
    for (const l of lines(p).filter((x) => x["migration_id"] === migrationId)) {
      expect(l["request_id"]).toBe(reqId);
    }
  }

  // Another request's lines (the create, in the api and the worker that made the volume) carry
  // their own id, never this one's.
  const createLines = Object.values(procs).flatMap((p) =>
    lines(p).filter((l) => l["request_id"] === created.requestId),
  );
  expect(createLines.length).toBeGreaterThan(0);
  for (const l of createLines) {
    expect(JSON.stringify(l)).not.toContain(reqId);
    expect(l["global_request_id"]).toBeUndefined();
  }
  // Lines outside any request (heartbeats, start-up) carry no id at all.
  const started = lines(procs["scheduler"]!).find((l) => l["msg"] === "scheduler started");
  expect(started?.["request_id"]).toBeUndefined();
}, 240_000);
