import { spawn as spawnChild } from "node:child_process";

import type { CommandResult, CommandRunner, RunningCommand, RunOptions } from "./types";
import { CommandError, DEFAULT_COMMAND_TIMEOUT_MS, runToEnd } from "./types";

/**
 * The children's environment: LC_ALL=C (tools' messages and output as the parsers expect them),
 * and SHLVL at least 1. A child's stdin is a socket (Node's stdio pipes are socketpairs), and a
 * bash whose stdin is a socket and whose SHLVL is unset or 0 (a service started by systemd, a
 * container entrypoint, a supervisor) takes itself for a command run by sshd and sources
 * ~/.bashrc. Debian's stock root .bashrc has no interactive guard, so whatever it runs was paid by
 * every script a worker starts: with `pyenv init` in it, 20–75 s per `bash -c` at load 20 against
 * 0.5 s without, which made each sparse 1 GiB raw-file copy (a bash script per segment, and the
 * read-back) take minutes. At 1 the child is a nested shell and reads no startup file.
 */
export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, LC_ALL: "C", SHLVL: String(Math.max(1, Number(env["SHLVL"]) || 0)) };
}

/** Runs argv on this machine with `shell: false`; a timeout or abort kills the child. */
export class LocalRunner implements CommandRunner {
  readonly where = "local";

  run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    return runToEnd(this.spawn(argv, opts), opts.input);
  }

  spawn(argv: readonly string[], opts: Omit<RunOptions, "input"> = {}): RunningCommand {
    const [file, ...args] = argv;
    if (!file) {
      throw new TypeError("empty argv");
    }
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const child = spawnChild(file, args, {
      shell: false,
      signal,
      killSignal: "SIGKILL",
      env: childEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => {
      // Keep the tail only: a chatty command must not grow the worker's memory.
      stderr = (stderr + s).slice(-8192);
    });
    const exited = new Promise<CommandResult>((resolve, reject) => {
      child.once("error", (err) => {
        const reason = signal.aborted
          ? timeout.aborted
            ? "timed out"
            : "was cancelled"
          : `failed to start (${err.message})`;
        reject(new CommandError(argv, null, stderr, this.where, { cause: err, reason }));
      });
      child.once("close", (code, sig) => {
        if (code === 0) {
          resolve({ stdout: "", stderr, exitCode: 0 });
        } else {
          const reason = sig ? `was killed by ${sig}` : undefined;
          reject(new CommandError(argv, code, stderr, this.where, { reason }));
        }
      });
    });
    // Attach a handler now so a rejection before wait() is called is not reported as unhandled.
    exited.catch(() => undefined);
    return {
      argv,
      stdin: child.stdin,
      stdout: child.stdout,
      wait: () => exited,
      kill: () => child.kill("SIGKILL"),
    };
  }

  async close(): Promise<void> {}
}
