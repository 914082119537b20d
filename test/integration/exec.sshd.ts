/**
 * A real OpenSSH server for the SSH runner's tests: `/usr/sbin/sshd -D` on a free loopback port,
 * with host keys, a client key and its authorized_keys generated into a temp dir. Only the test's
 * own server is ever started or killed (by pid), never the system's sshd.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

import pino from "pino";

import type { SshRunnerSpec } from "../../drivers/exec/types";

const SSHD = "/usr/sbin/sshd";

export type HostKeyKind = "ed25519" | "ecdsa" | "other";

export interface TestSshd {
  readonly port: number;
  readonly dir: string;
  readonly username: string;
  /** Private key the server accepts. */
  readonly clientKey: string;
  /** `[127.0.0.1]:port <type> <base64>` for one of the server's keys ("other" is not the server's). */
  knownHostsLine(kind: HostKeyKind): string;
  /** The key's fingerprint as `ssh-keygen -lf` prints it. */
  fingerprint(kind: HostKeyKind): string;
  /** Writes a file in the temp dir and returns its path. */
  write(name: string, text: string): string;
  start(): Promise<void>;
  /** Kills the listener and every connection it serves (all descendants), by pid. */
  stop(): Promise<void>;
  cleanup(): Promise<void>;
}

function keygen(file: string, type: string): void {
  const bits = type === "ecdsa" ? ["-b", "256"] : [];
  execFileSync("ssh-keygen", ["-q", "-t", type, ...bits, "-N", "", "-C", "vms-test", "-f", file]);
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Resolves once the port answers with an SSH banner. */
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
    // Fields after the command name (which may hold spaces): state, ppid, …
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

/**
 * A non-root account with a shell, to log in as: OpenSSH delivers "signal" requests only to
 * non-root sessions (root sessions run without the privilege-separated child that handles them).
 */
export function nonRootLoginUser(): string | null {
  if (process.getuid?.() !== 0) {
    return os.userInfo().username;
  }
  for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
    const [name, , uid, , , home, shell] = line.split(":");
    if (
      name &&
      Number(uid) > 0 &&
      /^\/(usr\/)?bin\/(ba|da)?sh$/.test(shell ?? "") &&
      fs.existsSync(home ?? "")
    ) {
      return name;
    }
  }
  return null;
}

function idsOf(user: string): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync("id", [flag, user], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

/** Starts sshd for `user` (default: the user running the tests) with a fresh key set. */
export async function startSshd(opts: { user?: string } = {}): Promise<TestSshd> {
  if (!fs.existsSync(SSHD)) {
    throw new Error(`${SSHD} is missing: install openssh-server (bash .ci/run does)`);
  }
  if (process.getuid?.() === 0) {
    // sshd refuses to start without its privilege-separation directory; containers lack it.
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-sshd-"));
  const key = (name: string): string => path.join(dir, name);
  keygen(key("host_ed25519"), "ed25519");
  keygen(key("host_ecdsa"), "ecdsa");
  keygen(key("other_ed25519"), "ed25519");
  keygen(key("client"), "ed25519");
  fs.copyFileSync(key("client.pub"), key("authorized_keys"));
  const port = await freePort();
  const username = opts.user ?? os.userInfo().username;
  // Another user's sshd runs as that user, so it owns the files; run unprivileged it also cannot
  // read /etc/shadow, so a locked password ("!") does not refuse the key login.
  const runAs = username === os.userInfo().username ? null : idsOf(username);
  if (runAs) {
    for (const f of [dir, ...fs.readdirSync(dir).map(key)]) {
      fs.chownSync(f, runAs.uid, runAs.gid);
    }
  }
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${key("host_ed25519")}`,
    `HostKey ${key("host_ecdsa")}`,
    `PidFile ${key("sshd.pid")}`,
    `AuthorizedKeysFile ${key("authorized_keys")}`,
    // The temp dir sits under world-writable /tmp, which StrictModes rejects.
    "StrictModes no",
    "UsePAM no",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "PermitRootLogin prohibit-password",
    `AllowUsers ${username}`,
    "UseDNS no",
    "MaxSessions 20",
    "MaxStartups 100",
    "LogLevel ERROR",
    // Sessions get the fixture's folder as HOME, so bash does not source this machine's ~/.bashrc
    // for every command (here it runs pyenv's init: about a second each, which no storage host
    // pays and which made the forty-command test miss its bound).
    `SetEnv HOME=${dir}`,
  ].join("\n");
  fs.writeFileSync(key("sshd_config"), `${config}\n`);
  const pubFields = (kind: HostKeyKind): string[] => {
    const file = kind === "other" ? "other_ed25519" : `host_${kind}`;
    return fs
      .readFileSync(key(`${file}.pub`), "utf8")
      .trim()
      .split(/\s+/);
  };

  let child: ChildProcess | null = null;
  let log = "";
  const sshd: TestSshd = {
    port,
    dir,
    username,
    clientKey: key("client"),
    knownHostsLine: (kind) => `[127.0.0.1]:${port} ${pubFields(kind).slice(0, 2).join(" ")}`,
    fingerprint(kind) {
      const file = kind === "other" ? "other_ed25519" : `host_${kind}`;
      return execFileSync("ssh-keygen", ["-lf", key(`${file}.pub`)], { encoding: "utf8" }).split(" ")[1]!;
    },
    write(name, text) {
      fs.writeFileSync(key(name), text);
      return key(name);
    },
    async start() {
      log = "";
      const c = spawn(SSHD, ["-D", "-e", "-f", key("sshd_config")], {
        stdio: ["ignore", "ignore", "pipe"],
        ...(runAs ?? {}),
      });
      c.stderr!.setEncoding("utf8").on("data", (s: string) => (log += s));
      child = c;
      await waitForBanner(port, c, () => log);
    },
    async stop() {
      const c = child;
      child = null;
      if (!c?.pid || c.exitCode !== null) {
        return;
      }
      const exited = new Promise((resolve) => c.once("exit", resolve));
      for (const pid of [c.pid, ...descendants(c.pid)]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await exited;
    },
    async cleanup() {
      await sshd.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await sshd.start();
  return sshd;
}

/** The SSH runner spec that reaches a test sshd as its storage host (host key pinned: ed25519). */
export function sshdRunnerSpec(h: TestSshd): SshRunnerSpec {
  return {
    kind: "ssh",
    host: "127.0.0.1",
    port: h.port,
    username: h.username,
    privateKeyPath: h.clientKey,
    knownHostsFile: h.write("known_hosts", `${h.knownHostsLine("ed25519")}\n`),
  };
}

/** A logger that keeps its records, to count connections. */
export function recordingLogger(): { logger: pino.Logger; messages: string[] } {
  const messages: string[] = [];
  const logger = pino(
    { level: "debug" },
    { write: (line: string) => messages.push((JSON.parse(line) as { msg: string }).msg) },
  );
  return { logger, messages };
}
