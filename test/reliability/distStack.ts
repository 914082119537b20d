/**
 * The distributed stack for the faults test: api, scheduler and two raw-file workers as real
 * processes, like test/e2e/killStack.ts, but on the PostgreSQL and RabbitMQ given (the test's own
 * instances, which it restarts), and with any of its processes restartable by role.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { migrateLatest, openDatabase } from "../../db/connection";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import type { FaultTarget } from "./faultRun";

export const ROLES = ["api", "scheduler", "file-1", "file-2"] as const;
export type Role = (typeof ROLES)[number];

export interface DistStack extends FaultTarget {
  procs: Map<Role, ServiceProcess>;
  /** Starts ROLE's process (again, after a kill) and waits until it says it is ready. */
  start(role: Role): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

export interface DistStackOptions {
  /** The server's superuser URL; the stack gets a database `vms` on it. */
  adminPgUrl: string;
  transportUrl: string;
  /** volume_copy_bps_limit of both backends. */
  copyBps: number;
  reportInterval: number;
  serviceDownTime: number;
}

/** Creates database `vms` and migrates it once, so the four processes do not race to. */
async function createDatabase(adminUrl: string): Promise<string> {
  const admin = await openDatabase(adminUrl);
  try {
    await admin.raw("CREATE DATABASE vms");
  } finally {
    await admin.destroy();
  }
  const url = new URL(adminUrl);
  url.pathname = "/vms";
  const db = await openDatabase(url.toString());
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
  return url.toString();
}

export async function startDistStack(opts: DistStackOptions): Promise<DistStack> {
  const databaseUrl = await createDatabase(opts.adminPgUrl);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-rel-dist-"));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  const backend = (name: string): string =>
    `[${name}]\nvolume_driver = rawfile\nrawfile_directory = $state_path/${name}\nvolume_copy_bps_limit = ${opts.copyBps}\n`;
  fs.writeFileSync(
    conf,
    `[DEFAULT]
host = reldist
state_path = ${stateDir}
transport_url = ${opts.transportUrl}
enabled_backends = file-1, file-2
report_interval = ${opts.reportInterval}
service_down_time = ${opts.serviceDownTime}
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = ${port}
[database]
connection = ${databaseUrl}
${backend("file-1")}${backend("file-2")}`,
  );
  const argv: Record<Role, { args: string[]; ready: RegExp }> = {
    api: { args: ["api"], ready: /listening on http/ },
    scheduler: { args: ["scheduler"], ready: /scheduler started/ },
    "file-1": { args: ["volume", "--backend", "file-1"], ready: /volume service started/ },
    "file-2": { args: ["volume", "--backend", "file-2"], ready: /volume service started/ },
  };
  const procs = new Map<Role, ServiceProcess>();
  const stack: DistStack = {
    api: { base: `http://127.0.0.1:${port}/v3/demo`, headers: { "X-Auth-Token": "admin:demo" } },
    stateDir,
    procs,
    logs: () => new Map([...procs].map(([role, p]) => [role, p.output()])),
    async start(role) {
      const { args, ready } = argv[role];
      const proc = await startProcess([...args, "--config", conf], {
        readyLine: ready,
        readyTimeoutMs: 180_000,
      });
      procs.set(role, proc);
      return proc;
    },
    async stop() {
      await Promise.all([...procs.values()].map((p) => p.stop()));
      // For a failure's post-mortem: the last run of each process (VMS_REL_FAULT_LOGS=<folder>).
      const keep = process.env["VMS_REL_FAULT_LOGS"];
      if (keep) {
        fs.mkdirSync(keep, { recursive: true });
        for (const [role, p] of procs) {
          fs.writeFileSync(path.join(keep, `${role}.log`), p.output());
        }
      }
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
  await Promise.all(ROLES.map((r) => stack.start(r)));
  return stack;
}
