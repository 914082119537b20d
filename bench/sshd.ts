/**
 * OpenSSH servers the bench starts on loopback ports for the cross-host figures: each with its own
 * host key and known_hosts file, all accepting one client key. Started as this user (root: the
 * loop devices are root's), stopped by pid with every session they serve. The approach is that of
 * test/integration/exec.sshd.ts.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

import type { SshRunnerSpec } from "../drivers/exec";

const SSHD = "/usr/sbin/sshd";

export interface BenchSshd {
  readonly name: string;
  readonly spec: SshRunnerSpec;
  /** The server's authorized_keys (where a host-to-host copy installs its one-copy key). */
  readonly authorizedKeysFile: string;
  /** OpenSSH client options and destination (`… root@127.0.0.1`) for the baselines. */
  readonly clientArgs: readonly string[];
  stop(): Promise<void>;
}

function keygen(file: string): void {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "vms-bench", "-f", file]);
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function waitForBanner(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, "127.0.0.1");
      sock.once("data", (d: Buffer) => {
        sock.destroy();
        resolve(d.toString("latin1").startsWith("SSH-"));
      });
      sock.once("error", () => resolve(false));
    });
    if (ok) {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not answer on ${port}: ${log()}`);
}

/** Every process below ROOT (sshd's per-connection children and the commands they run). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) {
      continue;
    }
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const pid of children.get(queue.shift()!) ?? []) {
      out.push(pid);
      queue.push(pid);
    }
  }
  return out;
}

/** The client key every server of DIR accepts (made on first use). */
function clientKey(dir: string): string {
  const key = path.join(dir, "client");
  if (!fs.existsSync(key)) {
    keygen(key);
  }
  return key;
}

/** Starts `sshd -D` for NAME with its files in DIR/NAME. */
export async function startSshd(dir: string, name: string): Promise<BenchSshd> {
  if (!fs.existsSync(SSHD)) {
    throw new Error(`${SSHD} is missing: install openssh-server`);
  }
  fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const client = clientKey(dir);
  const own = path.join(dir, name);
  fs.mkdirSync(own, { mode: 0o700 });
  const file = (n: string): string => path.join(own, n);
  keygen(file("host_ed25519"));
  fs.copyFileSync(`${client}.pub`, file("authorized_keys"));
  const port = await freePort();
  const user = os.userInfo().username;
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${file("host_ed25519")}`,
    `PidFile ${file("sshd.pid")}`,
    `AuthorizedKeysFile ${file("authorized_keys")}`,
    // The temp dir sits under world-writable /tmp, which StrictModes rejects.
    "StrictModes no",
    "UsePAM no",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    `AllowUsers ${user}`,
    "UseDNS no",
    "MaxSessions 20",
    "MaxStartups 100",
    "LogLevel ERROR",
  ];
  fs.writeFileSync(file("sshd_config"), `${config.join("\n")}\n`);
  const hostKey = fs.readFileSync(file("host_ed25519.pub"), "utf8").trim().split(/\s+/).slice(0, 2);
  fs.writeFileSync(file("known_hosts"), `[127.0.0.1]:${port} ${hostKey.join(" ")}\n`);

  let log = "";
  const child = spawn(SSHD, ["-D", "-e", "-f", file("sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
  child.stderr.setEncoding("utf8").on("data", (s: string) => (log = (log + s).slice(-4000)));
  const stop = async (): Promise<void> => {
    if (!child.pid || child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const exited = new Promise((resolve) => child.once("exit", resolve));
    for (const pid of [child.pid, ...descendants(child.pid)]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await exited;
  };
  try {
    await waitForBanner(port, child, () => log);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name,
    spec: {
      kind: "ssh",
      host: "127.0.0.1",
      port,
      username: user,
      privateKeyPath: client,
      knownHostsFile: file("known_hosts"),
    },
    authorizedKeysFile: file("authorized_keys"),
    clientArgs: [
      ...["-i", client, "-p", String(port), "-o", `UserKnownHostsFile=${file("known_hosts")}`],
      ...["-o", "StrictHostKeyChecking=yes", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes"],
      ...["-o", "LogLevel=ERROR", `${user}@127.0.0.1`],
    ],
    stop,
  };
}
