/** Starts the service's real processes (tsx entry point) and ends each one by its pid. */
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

export interface ServiceProcess {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
  /** SIGKILL to the whole process group: tsx runs the service in a child of its own. */
  kill(): Promise<void>;
}

export function startProcess(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; readyLine?: RegExp; readyTimeoutMs?: number } = {},
): Promise<ServiceProcess> {
  // tsx compiles the whole service at start: on a loaded two-core machine that alone took over 60 s.
  const readyMs = opts.readyTimeoutMs ?? 120_000;
  const child = spawn(TSX, [path.join(ROOT, "main/index.ts"), ...args], {
    cwd: ROOT,
    env: { ...process.env, VMS_LOG_LEVEL: process.env["VMS_LOG_LEVEL"] ?? "info", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so a kill reaches tsx's child too.
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let out = "";
  const proc: ServiceProcess = {
    child,
    output: () => out,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(-child.pid!, "SIGKILL");
      }
      await exited;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        const kill = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 10_000);
        child.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
  return new Promise((resolve, reject) => {
    const ready = opts.readyLine ?? /started|listening/i;
    const timer = setTimeout(() => {
      // Nobody gets a handle on a process that never became ready: end it here, or it lives on
      // (holding its SSH connections and ports) after the test that started it has failed.
      void proc.kill();
      reject(new Error(`process ${args.join(" ")} not ready after ${readyMs / 1000} s:\n${out}`));
    }, readyMs);
    timer.unref();
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(proc);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`process ${args.join(" ")} exited with ${code}:\n${out}`)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}
