/**
 * A PostgreSQL cluster and a RabbitMQ node of the faults test's own, on ports of their own under a
 * temp folder, so the test can stop and start them mid-migration. The machine's servers (5432,
 * 5672) are shared with other tests and are never touched.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const PG_BIN = process.env["VMS_REL_PG_BIN"] ?? "/usr/lib/postgresql/15/bin";
const RABBIT_BIN = "/usr/lib/rabbitmq/bin";

/**
 * ARGV run as USER when this process is root: initdb refuses root, and RabbitMQ's CLI must share
 * the node's Erlang cookie (in the rabbitmq user's home). Anyone else runs it as themselves.
 */
function asUser(user: string, argv: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", user, "--", ...argv]] : [argv[0]!, argv.slice(1)];
}

async function runAs(user: string, argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const [cmd, args] = asUser(user, argv);
  return run(cmd, args, { ...opts, timeout: 120_000 });
}

/** A temp folder the service user owns (mkdtemp makes it root's, mode 0700). */
async function ownedTempDir(prefix: string, user: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (process.getuid?.() === 0) {
    await run("chown", [`${user}:`, dir]);
  }
  return dir;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/**
 * A free port below the kernel's ephemeral range (32768-60999): a port from that range can be
 * taken by some client connection between this check and the server's bind, which made RabbitMQ
 * fail to start with eaddrinuse.
 */
export async function quietPort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = 20_000 + randomInt(10_000);
    if (await canListen(port)) {
      return port;
    }
  }
  throw new Error("no free port in 20000-29999");
}

export interface OwnPostgres {
  /** The superuser's URL to the `postgres` database. */
  adminUrl: string;
  /** `pg_ctl stop -m MODE`: fast ends sessions cleanly, immediate is a crash (WAL replay on start). */
  stop(mode: "fast" | "immediate"): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dir = await ownedTempDir("vms-rel-pg-", "postgres");
  const data = path.join(dir, "data");
  const port = await quietPort();
  await runAs("postgres", [
    `${PG_BIN}/initdb`,
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    "postgres",
    "-E",
    "UTF8",
    "--no-sync",
  ]);
  // fsync off spares the shared disk; a process crash (immediate stop) loses nothing without it.
  const serverOpts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const ctl = (...args: string[]) =>
    runAs("postgres", [
      `${PG_BIN}/pg_ctl`,
      "-D",
      data,
      "-l",
      path.join(dir, "log"),
      "-w",
      "-t",
      "60",
      ...args,
    ]);
  let running = false;
  const pg: OwnPostgres = {
    adminUrl: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await ctl("-o", serverOpts, "start");
      running = true;
    },
    async stop(mode) {
      await ctl("-m", mode, "stop");
      running = false;
    },
    async destroy() {
      if (running) {
        await pg.stop("immediate").catch(() => undefined);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await pg.start();
  return pg;
}

export interface OwnRabbit {
  /** transport_url of the node (vhost `/`, the guest user, which may log in over loopback). */
  url: string;
  node: string;
  /** `rabbitmqctl stop`: returns once the node's OS process is gone. */
  stop(): Promise<void>;
  /** Starts the node again with the same data and waits until it takes connections. */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startOwnRabbit(): Promise<OwnRabbit> {
  const dir = await ownedTempDir("vms-rel-rmq-", "rabbitmq");
  const [port, distPort] = [await quietPort(), await quietPort()];
  // A name of its own: two runs of the tier on one machine must not meet in epmd.
  const node = `vmsrel-${randomBytes(3).toString("hex")}@localhost`;
  const pidFile = path.join(dir, "node.pid");
  const conf = path.join(dir, "rabbitmq.conf");
  const plugins = path.join(dir, "enabled_plugins");
  fs.writeFileSync(conf, `listeners.tcp.local = 127.0.0.1:${port}\n`);
  // No plugins (no management listener on 15672 to clash with the machine's node).
  fs.writeFileSync(plugins, "[].\n");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: path.join(dir, "log"),
    RABBITMQ_CONFIG_FILE: conf,
    RABBITMQ_ENABLED_PLUGINS_FILE: plugins,
    RABBITMQ_PID_FILE: pidFile,
  };
  if (process.getuid?.() === 0) {
    await run("chown", ["-R", "rabbitmq:", dir]);
  }
  const rabbitmqctl = (...args: string[]) =>
    runAs("rabbitmq", [`${RABBIT_BIN}/rabbitmqctl`, "-n", node, ...args], { cwd: dir });
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const rabbit: OwnRabbit = {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    node,
    async start() {
      fs.rmSync(pidFile, { force: true });
      const out = fs.openSync(path.join(dir, "server.out"), "a");
      const [cmd, args] = asUser("rabbitmq", [`${RABBIT_BIN}/rabbitmq-server`]);
      // Its own process group, so destroy() can end the node and its helpers (erl_child_setup).
      child = spawn(cmd, args, { cwd: dir, env, detached: true, stdio: ["ignore", out, out] });
      fs.closeSync(out);
      const proc = child;
      exited = new Promise((resolve) => proc.once("exit", () => resolve()));
      // `wait` returns once the node's applications run (the listener is up by then).
      await rabbitmqctl("wait", "--timeout", "120", pidFile);
    },
    async stop() {
      await rabbitmqctl("stop", pidFile);
      await exited;
    },
    async destroy() {
      if (child && child.exitCode === null && child.signalCode === null) {
        await rabbit.stop().catch(() => process.kill(-child!.pid!, "SIGKILL"));
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await rabbit.start();
  return rabbit;
}
