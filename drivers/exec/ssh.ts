import { PassThrough } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";

import type { Client } from "ssh2";

import type { Logger } from "../../common/logger";
import { PinnedHostKey } from "./hostKeys";
import { quoteArgv } from "./quote";
import {
  abortable,
  ChannelAborted,
  type ChannelExit,
  ChannelNotStarted,
  execOnChannel,
  Slots,
} from "./sshChannel";
import { connectWithRetry, RETRY_BASE_MS, verifiedHostKey } from "./sshConnection";
import type { CommandResult, CommandRunner, RunningCommand, RunOptions } from "./types";
import { CommandError, DEFAULT_COMMAND_TIMEOUT_MS, runToEnd, SshConnectError } from "./types";

export interface SshRunnerOptions {
  host: string;
  /** @defaultValue 22 */
  port?: number;
  username: string;
  /** The private key itself, or the path of its file (read at every connection). */
  privateKey: Buffer | string;
  /** OpenSSH known_hosts file holding this host's keys. Exactly one of this and hostKeySha256. */
  knownHostsFile?: string;
  /** The host key's fingerprint as `ssh-keygen -lf` prints it: `SHA256:<43 base64 chars>`. */
  hostKeySha256?: string;
  /** Handshake and authentication deadline. @defaultValue 20000 */
  readyTimeoutMs?: number;
  /** @defaultValue 15000 */
  keepaliveIntervalMs?: number;
  /**
   * Channels open at once; further commands wait. Kept below sshd's MaxSessions (default 10);
   * a refusal by the server is waited out too. @defaultValue 8
   */
  maxSessions?: number;
  /** Connection attempts on network errors before a command fails. @defaultValue 3 */
  connectAttempts?: number;
  logger: Logger;
}

const STDERR_TAIL = 8192;
/** Channel refusals (server at MaxSessions) tolerated per command, with growing pauses. */
const MAX_REFUSALS = 6;

interface Connection {
  ready: Promise<Client>;
  /** Set once ready, so a late 'close' or failure can tell whether it is still the current one. */
  client: Client | null;
}

/**
 * Runs argv arrays on a storage host over SSH. One connection per runner, opened on first use
 * and shared by all commands, one channel each; a lost connection is replaced on the next
 * command. The remote command is exactly `quoteArgv(argv)`.
 */
export class SshRunner implements CommandRunner {
  readonly where: string;
  private readonly port: number;
  private readonly pinned: PinnedHostKey | null;
  private readonly slots: Slots;
  private readonly lost = new WeakSet<Client>();
  private conn: Connection | null = null;
  private closed = false;

  constructor(private readonly opts: SshRunnerOptions) {
    this.port = opts.port ?? 22;
    if (!/^[^\s@/]+$/.test(opts.host) || !Number.isInteger(this.port) || this.port < 1 || this.port > 65535) {
      throw new TypeError(`SshRunner: bad host or port ${JSON.stringify(opts.host)}:${opts.port}`);
    }
    if (!/^[^\s@:]+$/.test(opts.username)) {
      throw new TypeError(`SshRunner: bad user name ${JSON.stringify(opts.username)}`);
    }
    // Never trust on first use: a host without a known key is a host we cannot tell from an impostor.
    if ((opts.knownHostsFile === undefined) === (opts.hostKeySha256 === undefined)) {
      throw new TypeError("SshRunner: give exactly one of knownHostsFile and hostKeySha256");
    }
    this.pinned = opts.hostKeySha256 === undefined ? null : new PinnedHostKey(opts.hostKeySha256);
    this.slots = new Slots(opts.maxSessions ?? 8);
    this.where = `${opts.username}@${opts.host}:${this.port}`;
  }

  run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    return runToEnd(this.spawn(argv, opts), opts.input);
  }

  spawn(argv: readonly string[], opts: Omit<RunOptions, "input"> = {}): RunningCommand {
    const command = quoteArgv(argv);
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
    const killed = new AbortController();
    const signal = AbortSignal.any([timeout, killed.signal, ...(opts.signal ? [opts.signal] : [])]);
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let stderr = "";
    const onStderr = (s: string): void => {
      // Keep the tail only: a chatty command must not grow the worker's memory.
      stderr = (stderr + s).slice(-STDERR_TAIL);
    };
    const fail = (reason: string | undefined, exitCode: number | null, cause?: unknown): CommandError =>
      new CommandError(argv, exitCode, stderr, this.where, { reason, cause });

    const exited = this.execute(command, { stdin, stdout, onStderr }, signal).then(
      (exit) => {
        if (exit.code === 0) {
          return { stdout: "", stderr, exitCode: 0 };
        }
        if (exit.code === undefined) {
          throw fail(exit.lost ? "lost its SSH connection" : "ended without an exit status", null);
        }
        throw fail(exit.code === null ? `was killed by ${exit.signal ?? "a signal"}` : undefined, exit.code);
      },
      (err: unknown) => {
        // The channel never ran or was torn down: end the streams so whoever pipes them moves on.
        stdout.end();
        stdin.destroy();
        if (err instanceof ChannelAborted) {
          throw fail(
            timeout.aborted ? "timed out" : killed.signal.aborted ? "was killed" : "was cancelled",
            null,
            err,
          );
        }
        if (err instanceof SshConnectError) {
          throw fail(`could not connect: ${err.message}`, null, err);
        }
        throw fail(`could not run: ${(err as Error).message}`, null, err);
      },
    );
    // Attach a handler now so a rejection before wait() is called is not reported as unhandled.
    exited.catch(() => undefined);
    return { argv, stdin, stdout, wait: () => exited, kill: () => killed.abort() };
  }

  /**
   * The host key this runner's connection verified (SSH wire format), connecting first if needed:
   * a host-to-host copy writes it into the other host's known_hosts.
   */
  async hostKey(signal?: AbortSignal): Promise<Buffer> {
    const client = await abortable(this.connection(), signal ?? new AbortController().signal);
    const key = verifiedHostKey(client);
    if (!key) {
      throw new SshConnectError(`no verified host key for ${this.where}`, "setup");
    }
    return key;
  }

  /** Ends the connection; commands still running on it fail. */
  async close(): Promise<void> {
    this.closed = true;
    const conn = this.conn;
    this.conn = null;
    const client = conn ? await conn.ready.catch(() => null) : null;
    if (client && !this.lost.has(client)) {
      await new Promise<void>((resolve) => {
        client.once("close", resolve);
        client.end();
        // A peer that never answers the disconnect must not hold up the worker's shutdown.
        setTimeout(resolve, 5000).unref();
      });
    }
  }

  private async execute(
    command: string,
    io: Parameters<typeof execOnChannel>[2],
    signal: AbortSignal,
  ): Promise<ChannelExit & { lost: boolean }> {
    let reconnected = false;
    for (let refusals = 0; ;) {
      const release = await this.slots.acquire(signal);
      let client: Client;
      try {
        client = await abortable(this.connection(), signal);
      } catch (err) {
        release();
        throw err;
      }
      const lost = (): boolean => this.lost.has(client);
      try {
        const exit = await execOnChannel(client, command, io, signal, lost, release);
        return { ...exit, lost: lost() };
      } catch (err) {
        // Only a command that provably never started is sent again.
        if (!(err instanceof ChannelNotStarted)) {
          throw err;
        }
        if (err.connectionLost && !reconnected) {
          reconnected = true;
          this.opts.logger.info(
            { where: this.where, err: err.message },
            "ssh channel not opened; reconnecting",
          );
          this.forget(client);
        } else if (!err.connectionLost && ++refusals < MAX_REFUSALS) {
          // The server is at its MaxSessions, e.g. with commands that outlived their timeout.
          await abortable(delay(RETRY_BASE_MS * refusals), signal);
        } else {
          throw err;
        }
      }
    }
  }

  /** The shared connection, opened (with bounded retries) by whichever command needs it first. */
  private connection(): Promise<Client> {
    if (this.closed) {
      return Promise.reject(new SshConnectError(`the runner for ${this.where} is closed`, "setup"));
    }
    if (!this.conn) {
      const ready = connectWithRetry({
        host: this.opts.host,
        port: this.port,
        username: this.opts.username,
        privateKey: this.opts.privateKey,
        readyTimeoutMs: this.opts.readyTimeoutMs ?? 20_000,
        keepaliveIntervalMs: this.opts.keepaliveIntervalMs ?? 15_000,
        onLost: (client, err) => this.onLost(client, err),
        pinned: this.pinned,
        knownHostsFile: this.opts.knownHostsFile,
        attempts: this.opts.connectAttempts ?? 3,
        isClosed: () => this.closed,
        logger: this.opts.logger,
      }).then(
        (client) => {
          if (this.closed) {
            client.end();
            throw new SshConnectError(`the runner for ${this.where} is closed`, "setup");
          }
          conn.client = client;
          return client;
        },
        (err: unknown) => {
          // Forget the failure so the next command tries afresh rather than inheriting it.
          if (this.conn === conn) {
            this.conn = null;
          }
          throw err;
        },
      );
      const conn: Connection = { ready, client: null };
      this.conn = conn;
    }
    return this.conn.ready;
  }

  private onLost(client: Client, err: Error | null): void {
    this.lost.add(client);
    if (this.conn?.client === client) {
      this.conn = null;
    }
    if (!this.closed) {
      this.opts.logger.warn(
        { where: this.where, err: err?.message },
        "ssh connection lost; the next command reconnects",
      );
    }
  }

  /** Drops a connection that failed a command although its 'close' has not arrived yet. */
  private forget(client: Client): void {
    this.lost.add(client);
    if (this.conn?.client === client) {
      this.conn = null;
    }
    client.end();
  }
}
