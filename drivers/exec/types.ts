import type { Readable, Writable } from "node:stream";

import { ErrorCodes, ServiceError } from "../../common/errors";

export interface RunOptions {
  /** Kill the command after this long (default 120 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Data written to the command's stdin before it is closed. */
  input?: string | Buffer;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** A command whose stdin/stdout the caller streams (the copy engine). */
export interface RunningCommand {
  readonly argv: readonly string[];
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Resolves with the exit (stdout not collected); rejects with CommandError on a non-zero exit. */
  wait(): Promise<CommandResult>;
  kill(): void;
}

/**
 * Runs argv arrays on one host: the worker's own (LocalRunner) or a storage host over SSH.
 * No implementation ever builds a shell string from parts, except the SSH runner's single quoting
 * function.
 */
export interface CommandRunner {
  /** Where commands run, for logs and errors ("local", "root@10.0.2.11:22"). */
  readonly where: string;
  /** Runs to completion; rejects with CommandError on a non-zero exit or a timeout. */
  run(argv: readonly string[], opts?: RunOptions): Promise<CommandResult>;
  spawn(argv: readonly string[], opts?: Omit<RunOptions, "input">): RunningCommand;
  close(): Promise<void>;
}

/**
 * A storage host reached over SSH. Paths name files on the worker that uses the spec (every worker
 * of a deployment keeps the key and known_hosts at the same paths); no secret travels on the bus.
 */
export interface SshRunnerSpec {
  kind: "ssh";
  host: string;
  port: number;
  username: string;
  privateKeyPath: string;
  /** Exactly one of knownHostsFile and hostKeySha256 is set. */
  knownHostsFile?: string;
  /** `SHA256:<43 base64 chars>`, as `ssh-keygen -lf` prints it. */
  hostKeySha256?: string;
  /** Handshake deadline. @defaultValue 20000 */
  connectTimeoutMs?: number;
}

/** Serializable description of a runner, so one worker can tell another where a volume lives. */
export type RunnerSpec = { kind: "local" } | SshRunnerSpec;

export class CommandError extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_COMMAND;

  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    readonly where: string,
    options?: { cause?: unknown; reason?: string },
  ) {
    super(
      `Command ${JSON.stringify(argv.map(shortArg))} on ${where} ${options?.reason ?? `exited with ${exitCode}`}: ${stderr.trim().slice(0, 500)}`,
      options,
    );
  }
}

/**
 * An argument as an error message shows it: a script passed as one (bash -c, python3 -c) is
 * kilobytes that would bury the reason, which an operator reads in the migration's error.
 */
function shortArg(arg: string): string {
  return arg.length > 160 ? `${arg.slice(0, 60)}… (${arg.length} characters)` : arg;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;

/** Why a connection could not be made; only "network" is worth another attempt. */
export type SshConnectFailure = "host-key" | "auth" | "network" | "setup";

/** The cause of a CommandError (exit code null) when the SSH runner could not connect. */
export class SshConnectError extends Error {
  constructor(
    message: string,
    readonly failure: SshConnectFailure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SshConnectError";
  }
}

/** Whether a command failed because its host could not be reached (for one failure kind, if given). */
export function isSshConnectFailure(err: unknown, failure?: SshConnectFailure): boolean {
  return (
    err instanceof CommandError &&
    err.cause instanceof SshConnectError &&
    (failure === undefined || err.cause.failure === failure)
  );
}

/** `run()` for every runner: feed stdin, collect stdout, wait for the exit (rejects as wait() does). */
export async function runToEnd(cmd: RunningCommand, input?: string | Buffer): Promise<CommandResult> {
  const chunks: Buffer[] = [];
  cmd.stdout.on("data", (c: Buffer) => chunks.push(c));
  // A command that exits without reading its stdin must not turn into an EPIPE error here.
  cmd.stdin.on("error", () => undefined);
  cmd.stdin.end(input ?? "");
  const result = await cmd.wait();
  return { ...result, stdout: Buffer.concat(chunks).toString("utf8") };
}
