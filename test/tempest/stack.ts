/**
 * The all-in-one service with the built-in Keystone and `auth_strategy = keystone`, as a real
 * process on a free port with two raw-file backends: what the Keystone e2e test and the tempest
 * harness drive with password-auth clients. The API validates tokens over HTTP against its own
 * /identity, exactly as it would against a separate Keystone.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { hashPassword } from "../../services/keystone";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";

export interface StackUser {
  name: string;
  project: string;
  roles: string[];
  password: string;
}

export interface KeystoneStack {
  proc: ServiceProcess;
  stateDir: string;
  port: number;
  /** `http://127.0.0.1:<port>/identity/v3`, what clients take as --os-auth-url. */
  authUrl: string;
  admin: StackUser;
  member: StackUser;
  /** A second member in its own project (tempest's alt credentials: quotas, type access). */
  alt: StackUser;
  stop(): Promise<void>;
}

/** Cheap scrypt cost: these passwords are random and the files temporary. */
const TEST_COST = { N: 1024, r: 8, p: 1 };

function user(name: string, project: string, roles: string[]): StackUser {
  return { name, project, roles, password: randomBytes(12).toString("base64url") };
}

export async function startKeystoneStack(opts: { backends?: string[] } = {}): Promise<KeystoneStack> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-keystone-"));
  const port = await freePort();
  const backends = opts.backends ?? ["file-1", "file-2"];
  const admin = user("admin", "admin", ["admin"]);
  const member = user("demo", "demo", ["member"]);
  const alt = user("alt", "alt", ["member"]);
  const service = user("cinder", "service", ["service"]);
  const users = await Promise.all(
    [admin, member, alt, service].map(async (u) => ({
      name: u.name,
      project: u.project,
      roles: u.roles,
      password_hash: await hashPassword(u.password, TEST_COST),
    })),
  );
  fs.writeFileSync(path.join(stateDir, "users.json"), JSON.stringify({ users }, null, 2));
  const conf = path.join(stateDir, "cinder.conf");
  fs.writeFileSync(
    conf,
    [
      "[DEFAULT]",
      "host = tempest",
      `state_path = ${stateDir}`,
      `enabled_backends = ${backends.join(", ")}`,
      "auth_strategy = keystone",
      "osapi_volume_listen = 127.0.0.1",
      `osapi_volume_listen_port = ${port}`,
      "report_interval = 2",
      "[database]",
      "connection = pglite://memory",
      "[keystone]",
      "enabled = true",
      "users_file = $state_path/users.json",
      "[keystone_authtoken]",
      `auth_url = http://127.0.0.1:${port}/identity`,
      `username = ${service.name}`,
      `password = ${service.password}`,
      `project_name = ${service.project}`,
      "user_domain_name = Default",
      "project_domain_name = Default",
      ...backends.flatMap((b) => [
        `[${b}]`,
        "volume_driver = rawfile",
        `volume_backend_name = ${b}`,
        `rawfile_directory = $state_path/${b}`,
      ]),
      "",
    ].join("\n"),
  );
  const proc = await startProcess(["all", "--config", conf], { readyLine: /listening on http/ }).catch(
    (err: unknown) => {
      fs.rmSync(stateDir, { recursive: true, force: true });
      throw err;
    },
  );
  return {
    proc,
    stateDir,
    port,
    authUrl: `http://127.0.0.1:${port}/identity/v3`,
    admin,
    member,
    alt,
    async stop() {
      await proc.stop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** keystoneauth password options for the CLIs (clients.md §1b). */
export function passwordArgs(stack: KeystoneStack, who: StackUser, password = who.password): string[] {
  return [
    "--os-auth-url",
    stack.authUrl,
    "--os-username",
    who.name,
    // One argv element: a random base64url password starts with "-" one time in 64, and argparse
    // reads a separate "-…" value as an option (cinder exits 2 with a usage error).
    `--os-password=${password}`,
    "--os-project-name",
    who.project,
    "--os-user-domain-name",
    "Default",
    "--os-project-domain-name",
    "Default",
  ];
}
