import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { cinder, parseTable, run } from "../helpers/cli";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { waitFor } from "../helpers/stack";

/**
 * The other clients and commands of issue 3's acceptance, unmodified: `openstack volume migrate`,
 * `cinder migrate --cluster` (3.16) and `cinder retype` with both migration policies.
 */
let proc: ServiceProcess;
let stateDir: string;
let endpoint: string;

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-e2e-clients-"));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  fs.writeFileSync(
    conf,
    `[DEFAULT]
host = node1
cluster = east
state_path = ${stateDir}
enabled_backends = file-1, file-2
osapi_volume_listen_port = ${port}
[database]
connection = pglite://memory
[file-1]
volume_driver = rawfile
rawfile_directory = $state_path/file-1
[file-2]
volume_driver = rawfile
rawfile_directory = $state_path/file-2
`,
  );
  proc = await startProcess(["all", "--config", conf], { readyLine: /listening on http/ });
  endpoint = `http://127.0.0.1:${port}/v3`;
  for (const [name, backend] of [
    ["on-1", "file-1"],
    ["on-2", "file-2"],
  ]) {
    const res = await fetch(`${endpoint}/demo/types`, {
      method: "POST",
      headers: { "X-Auth-Token": "admin:demo", "Content-Type": "application/json" },
      body: JSON.stringify({ volume_type: { name, extra_specs: { volume_backend_name: backend } } }),
    });
    expect(res.status).toBe(200);
  }
}, 90_000);

afterAll(async () => {
  await proc?.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

async function show(id: string): Promise<Record<string, string>> {
  const r = await cinder(endpoint, ["show", id]);
  expect(r.code).toBe(0);
  return parseTable(r.stdout);
}

/** Without a type the volume gets __DEFAULT__, which pins no backend (a pinned one cannot migrate, as in Cinder). */
async function create(type?: string): Promise<string> {
  const r = await cinder(endpoint, ["create", ...(type ? ["--volume-type", type] : []), "1"]);
  expect(r.code).toBe(0);
  const id = parseTable(r.stdout)["id"]!;
  await waitFor(async () => (await show(id))["status"] === "available", "volume available");
  return id;
}

/** The backend the volume is not on. */
async function otherBackend(id: string): Promise<string> {
  return (await show(id))["os-vol-host-attr:host"]!.includes("@file-1") ? "file-2" : "file-1";
}

async function until(
  id: string,
  done: (v: Record<string, string>) => boolean,
  what: string,
): Promise<Record<string, string>> {
  return waitFor(
    async () => {
      const v = await show(id);
      return done(v) ? v : undefined;
    },
    what,
    60_000,
  );
}

test("openstack volume migrate --host moves a volume", async () => {
  const id = await create();
  const dest = await otherBackend(id);
  const r = await run("openstack", [
    "--os-auth-type",
    "none",
    "--os-endpoint",
    `${endpoint}/demo`,
    "volume",
    "migrate",
    "--host",
    `node1@${dest}#${dest}`,
    id,
  ]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const v = await until(
    id,
    (x) => ["success", "error"].includes(x["os-vol-mig-status-attr:migstat"]!),
    "openstack migrate",
  );
  expect(v["os-vol-mig-status-attr:migstat"]).toBe("success");
  expect(v["os-vol-host-attr:host"]).toBe(`node1@${dest}#${dest}`);
}, 120_000);

test("cinder migrate --cluster (3.16) moves a volume to the cluster's backend", async () => {
  const id = await create();
  const dest = await otherBackend(id);
  const r = await cinder(endpoint, [
    "--os-volume-api-version",
    "3.16",
    "migrate",
    id,
    "--cluster",
    `east@${dest}`,
  ]);
  expect(r.stdout).not.toContain("failed");
  const v = await until(
    id,
    (x) => ["success", "error"].includes(x["os-vol-mig-status-attr:migstat"]!),
    "cluster migrate",
  );
  expect(v["os-vol-mig-status-attr:migstat"]).toBe("success");
  expect(v["os-vol-host-attr:host"]).toBe(`node1@${dest}#${dest}`);
  expect(v["cluster_name"]).toBe(`east@${dest}`);
}, 120_000);

test("cinder retype --migration-policy on-demand moves the volume and changes its type", async () => {
  const id = await create("on-1");
  const r = await cinder(endpoint, ["retype", "--migration-policy", "on-demand", id, "on-2"]);
  expect(r.code).toBe(0);
  const v = await until(id, (x) => x["volume_type"] === "on-2", "retype on-demand");
  expect(v["os-vol-mig-status-attr:migstat"]).toBe("success");
  expect(v["os-vol-host-attr:host"]).toBe("node1@file-2#file-2");
  expect(v["status"]).toBe("available");
}, 120_000);

test("cinder retype --migration-policy never leaves a volume that would have to move where it is", async () => {
  const id = await create("on-1");
  const r = await cinder(endpoint, ["retype", "--migration-policy", "never", id, "on-2"]);
  expect(r.code).toBe(0);
  const v = await until(id, (x) => x["status"] === "available", "retype refused");
  expect(v).toMatchObject({
    volume_type: "on-1",
    "os-vol-host-attr:host": "node1@file-1#file-1",
    "os-vol-mig-status-attr:migstat": "None",
  });
}, 120_000);
