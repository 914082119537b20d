/**
 * The process under test: the real all-in-one entry point (`main/index.ts all`) in a child process,
 * on the embedded default (PGlite, in-process bus) or on PostgreSQL + RabbitMQ, with two raw-file
 * backends and static tokens so that "bad token" means something.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { createTestDatabase } from "../helpers/db";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { createVhost } from "../helpers/rabbit";

/** Who calls: an admin, a member of `demo`, a member of `other`, nobody, and a token nobody issued. */
export const TOKENS = {
  admin: "tok-admin-5b1f0c",
  member: "tok-member-9e2d44",
  other: "tok-other-07aa3c",
  bad: "tok-not-issued-1",
} as const;
export type Identity = keyof typeof TOKENS | "none";
export const PROJECT = "demo";
export const OTHER_PROJECT = "other";

export interface ReliabilityStack {
  /** `http://127.0.0.1:<port>` (routes under /v3/<project>/…). */
  base: string;
  stateDir: string;
  proc: ServiceProcess;
  /** The headers of one identity (no X-Auth-Token for `none`). */
  headers(who: Identity, version?: string): Record<string, string>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** `[database] connection`; the embedded PGlite under the state folder when absent. */
  databaseUrl?: string;
  /** `[DEFAULT] transport_url`; the in-process bus when absent. */
  transportUrl?: string;
  /** More cinder.conf lines for [DEFAULT]. */
  extra?: string;
  /**
   * rawfile_native_migration: a move between the two raw-file backends renames the file (instant)
   * instead of the generic verified copy. Off by default, as in etc/demo.conf.
   */
  nativeMigration?: boolean;
  /** The process's log level (VMS_LOG_LEVEL wins); `warn` keeps a long run's captured output small. */
  logLevel?: "debug" | "info" | "warn" | "error";
}

export async function startStack(opts: StackOptions = {}): Promise<ReliabilityStack> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-rel-"));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  fs.writeFileSync(
    conf,
    `[DEFAULT]
host = rel
state_path = ${stateDir}
transport_url = ${opts.transportUrl ?? "memory://"}
auth_strategy = static
enabled_backends = file-1, file-2
report_interval = 2
service_down_time = 60
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = ${port}
${opts.extra ?? ""}

[static_tokens]
${TOKENS.admin} = admin:${PROJECT}:admin
${TOKENS.member} = alice:${PROJECT}:member
${TOKENS.other} = bob:${OTHER_PROJECT}:member

[database]
connection = ${opts.databaseUrl ?? "pglite://$state_path/db"}

[file-1]
volume_driver = rawfile
volume_backend_name = file-1
rawfile_directory = $state_path/file-1
rawfile_native_migration = ${opts.nativeMigration ? "true" : "false"}

[file-2]
volume_driver = rawfile
volume_backend_name = file-2
rawfile_directory = $state_path/file-2
rawfile_native_migration = ${opts.nativeMigration ? "true" : "false"}
`,
  );
  const proc = await startProcess(["all", "--config", conf], {
    env: { VMS_LOG_LEVEL: process.env["VMS_LOG_LEVEL"] ?? opts.logLevel ?? "warn" },
    readyLine: /listening on http/,
    // Generous: the tier shares two cores with whatever else the machine runs (a restart after a
    // kill -9 also replays recovery before it listens).
    readyTimeoutMs: 180_000,
  });
  return {
    base: `http://127.0.0.1:${port}`,
    stateDir,
    proc,
    headers(who, version) {
      const h: Record<string, string> = {};
      if (who !== "none") {
        h["X-Auth-Token"] = TOKENS[who];
      }
      if (version) {
        h["OpenStack-API-Version"] = `volume ${version}`;
      }
      return h;
    },
    async stop() {
      await proc.stop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Where a stack keeps its state: what startStack needs for it, and how to remove it afterwards. */
export interface StackMode {
  opts: Pick<StackOptions, "databaseUrl" | "transportUrl">;
  cleanup(): Promise<void>;
}

/**
 * The two ways the tier runs the service, for describe.each: the embedded default, and a
 * PostgreSQL database and RabbitMQ vhost of the test's own.
 */
export const STACK_MODES: [string, () => Promise<StackMode>][] = [
  ["embedded default", async () => ({ opts: {}, cleanup: async () => undefined })],
  [
    "PostgreSQL + RabbitMQ",
    async () => {
      const db = await createTestDatabase();
      await db.db.destroy();
      const vhost = createVhost();
      return {
        opts: { databaseUrl: db.url, transportUrl: vhost.url },
        cleanup: async () => {
          vhost.drop();
          await db.drop();
        },
      };
    },
  ],
];
