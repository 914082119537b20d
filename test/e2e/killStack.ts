/**
 * The distributed stack the worker-kill tests need: api, scheduler and two raw-file workers as
 * real processes on the real PostgreSQL (a database of their own) and RabbitMQ (a vhost of their
 * own), a copy limit so a kill lands mid-copy, and a 2 GiB volume with random data in it.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { getVolume } from "../../db/volumes";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { createVhost, type TestVhost } from "../helpers/rabbit";
import { waitFor } from "../helpers/stack";

export interface KillStack {
  host: string;
  t: TestDatabase;
  /** The stack's RabbitMQ vhost (its processes' connections are the only ones in it). */
  vhost: TestVhost;
  stateDir: string;
  procs: Map<string, ServiceProcess>;
  /** Starts (again) the worker of BACKEND. */
  worker(backend: string): Promise<ServiceProcess>;
  http(method: string, url: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  stop(): Promise<void>;
}

export function sha256(file: string): string {
  return execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0]!;
}

export async function startKillStack(opts: {
  host: string;
  reportInterval: number;
  copyBps: number;
}): Promise<KillStack> {
  const vhost: TestVhost = createVhost();
  const t = await createTestDatabase();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `vms-e2e-${opts.host}-`));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  const backend = (name: string): string =>
    `[${name}]\nvolume_driver = rawfile\nrawfile_directory = $state_path/${name}\nvolume_copy_bps_limit = ${opts.copyBps}\n`;
  fs.writeFileSync(
    conf,
    `[DEFAULT]
host = ${opts.host}
state_path = ${stateDir}
transport_url = ${vhost.url}
enabled_backends = file-1, file-2
report_interval = ${opts.reportInterval}
osapi_volume_listen_port = ${port}
[database]
connection = ${t.url}
${backend("file-1")}${backend("file-2")}`,
  );
  const api = `http://127.0.0.1:${port}/v3/demo`;
  const procs = new Map<string, ServiceProcess>();
  const stack: KillStack = {
    host: opts.host,
    t,
    vhost,
    stateDir,
    procs,
    worker: (name) =>
      startProcess(["volume", "--config", conf, "--backend", name], { readyLine: /volume service started/ }),
    async http(method, url, body) {
      const res = await fetch(`${api}${url}`, {
        signal: AbortSignal.timeout(30_000),
        method,
        headers: { "X-Auth-Token": "admin:demo", "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null };
    },
    async stop() {
      await Promise.all([...procs.values()].map((p) => p.stop()));
      await t.drop();
      vhost.drop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
  const [w1, w2, sched, apiProc] = await Promise.all([
    stack.worker("file-1"),
    stack.worker("file-2"),
    startProcess(["scheduler", "--config", conf], { readyLine: /scheduler started/ }),
    startProcess(["api", "--config", conf], { readyLine: /listening on http/ }),
  ]);
  procs.set("file-1", w1).set("file-2", w2).set("scheduler", sched).set("api", apiProc);
  return stack;
}

/**
 * A 2 GiB volume, available, with 8 MiB of random data at each of OFFSETS (MiB); returns where
 * it is, where it can go, its file and that file's sha256.
 */
export async function writtenVolume(
  s: KillStack,
  name: string,
  offsetsMiB: number[],
): Promise<{
  id: string;
  host: string;
  srcBackend: string;
  dstBackend: string;
  srcFile: string;
  before: string;
}> {
  const created = await s.http("POST", "/volumes", { volume: { size: 2, name } });
  if (created.status !== 202) {
    throw new Error(`creating ${name}: ${created.status} ${JSON.stringify(created.json)}`);
  }
  const id = (created.json as { volume: { id: string } }).volume.id;
  const volume = await waitFor(async () => {
    const v = await getVolume(s.t.db, id);
    return v?.status === "available" ? v : undefined;
  }, "volume available");
  const srcBackend = volume.host!.split("@")[1]!.split("#")[0]!;
  const dstBackend = srcBackend === "file-1" ? "file-2" : "file-1";
  const srcFile = path.join(s.stateDir, srcBackend, `volume-${id}`);
  const fd = fs.openSync(srcFile, "r+");
  for (const offset of offsetsMiB) {
    fs.writeSync(fd, randomBytes(8 << 20), 0, 8 << 20, offset << 20);
  }
  fs.closeSync(fd);
  return { id, host: volume.host!, srcBackend, dstBackend, srcFile, before: sha256(srcFile) };
}
