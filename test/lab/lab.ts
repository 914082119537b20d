/**
 * The lab tier's view of a running lab (`npm run lab:start` writes test/lab/.cache/run/lab.json).
 * Lab tests run inside the lab's network namespace (`npm run test:lab` puts them there), where
 * the storage hosts answer SSH on their bridge addresses.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface LabVg {
  name: string;
  /** The guest's disk that is this VG's only PV. */
  pv: string;
}

export interface LabHost {
  name: string;
  /** Where the test process reaches the host's sshd (inside the lab's namespace). */
  sshHost: string;
  sshPort: number;
  sshUser: string;
  /** The client key made for this run, authorised for root on every host. */
  privateKey: string;
  /** known_hosts with this host's key only (made for this run). */
  knownHosts: string;
  /** The host's address on the lab bridge: what other hosts use for guest-to-guest copies. */
  bridgeAddress: string;
  vgs: LabVg[];
  /** A VG of two or more PVs for the drain tests (host-a only). */
  drainVg?: { name: string; pvs: string[] };
  pid: number;
  console: string;
}

export interface Lab {
  netns: string;
  netnsPath: string;
  bridge: { name: string; address: string };
  /** known_hosts with every host's key. */
  knownHosts: string;
  startedAt: string;
  hosts: LabHost[];
}

export const LAB_JSON = process.env["VMS_LAB_JSON"] ?? path.join(__dirname, ".cache/run/lab.json");

export function loadLab(file = LAB_JSON): Lab {
  if (!fs.existsSync(file)) {
    throw new Error(`no lab at ${file}: start one with \`npm run lab:start\``);
  }
  const lab = JSON.parse(fs.readFileSync(file, "utf8")) as Lab;
  if (!Array.isArray(lab.hosts) || lab.hosts.length === 0) {
    throw new Error(`${file} lists no hosts`);
  }
  return lab;
}

export function labHost(lab: Lab, name: string): LabHost {
  const host = lab.hosts.find((h) => h.name === name);
  if (!host) {
    throw new Error(`the lab has no host ${name} (it has ${lab.hosts.map((h) => h.name).join(", ")})`);
  }
  return host;
}

/** True when this process runs in the lab's network namespace. */
export function inLabNetns(lab: Lab): boolean {
  const self = fs.statSync("/proc/self/ns/net");
  const ns = fs.statSync(lab.netnsPath);
  return self.ino === ns.ino && self.dev === ns.dev;
}

/** POSIX single quoting of an argv for a remote shell (the only place a shell string is built). */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

export interface SshOptions {
  /** known_hosts file to verify the host key with (default: the host's own). */
  knownHosts?: string;
  timeoutMs?: number;
}

export interface SshResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The OpenSSH client's argv for running REMOTE (one shell string) on HOST, host key verified. */
export function sshArgv(host: LabHost, remote: string, opts: SshOptions = {}): string[] {
  return [
    "-i",
    host.privateKey,
    "-p",
    String(host.sshPort),
    "-o",
    `UserKnownHostsFile=${opts.knownHosts ?? host.knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "LogLevel=ERROR",
    `${host.sshUser}@${host.sshHost}`,
    "--",
    remote,
  ];
}

/** Runs ARGV on HOST over ssh; resolves with the exit code and output, whatever the exit code. */
export function ssh(
  host: LabHost,
  argv: readonly string[] | string,
  opts: SshOptions = {},
): Promise<SshResult> {
  const remote = typeof argv === "string" ? argv : shellQuote(argv);
  return new Promise((resolve, reject) => {
    execFile(
      "ssh",
      sshArgv(host, remote, opts),
      { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") {
          reject(err);
          return;
        }
        resolve({ exitCode: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
  });
}

/** Like ssh(), but rejects on a non-zero exit and resolves with stdout. */
export async function sshOk(
  host: LabHost,
  argv: readonly string[] | string,
  opts: SshOptions = {},
): Promise<string> {
  const r = await ssh(host, argv, opts);
  if (r.exitCode !== 0) {
    const shown = typeof argv === "string" ? argv : shellQuote(argv);
    throw new Error(`${host.name}: \`${shown}\` exited ${r.exitCode}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** The host key of a known_hosts line for ADDRESS, as its base64 blob ("ssh-ed25519 AAAA..."). */
export function knownHostKey(knownHostsFile: string, address: string): { type: string; blob: Buffer } {
  for (const line of fs.readFileSync(knownHostsFile, "utf8").split("\n")) {
    const [hosts, type, key] = line.trim().split(/\s+/);
    if (hosts && type && key && hosts.split(",").includes(address)) {
      return { type, blob: Buffer.from(key, "base64") };
    }
  }
  throw new Error(`${knownHostsFile} has no key for ${address}`);
}
