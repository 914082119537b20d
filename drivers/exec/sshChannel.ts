/**
 * One remote command on one SSH channel, and the limit on channels open at once. ssh2's exec is
 * callback-based and its channel reports through events; this turns both into one promise that
 * settles exactly once: when the channel closes, or at once when the caller aborts.
 */
import type { PassThrough } from "node:stream";

import type { Client, ClientChannel } from "ssh2";

export interface ChannelIo {
  /** Piped into the channel; its end is the command's EOF on stdin. */
  stdin: PassThrough;
  /** Receives the channel's stdout; ended with it. */
  stdout: PassThrough;
  onStderr: (chunk: string) => void;
}

export interface ChannelExit {
  /** Exit status; null when killed by a signal; undefined when the channel closed without either. */
  code: number | null | undefined;
  signal?: string;
}

/**
 * The exec request never reached a command: running it again cannot run it twice. Either the
 * connection was gone (`connectionLost`: reconnect first) or the server refused the channel, as
 * OpenSSH does beyond MaxSessions (retry later on the same connection).
 */
export class ChannelNotStarted extends Error {
  constructor(
    message: string,
    readonly connectionLost: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
/** The caller's signal fired (timeout, cancel, kill); the remote command was signalled and closed. */
export class ChannelAborted extends Error {}

/**
 * Runs `command` on a new channel of `client`. `release` is called once the channel is gone on
 * both sides (or never opened), which can be after an abort has already rejected: until then the
 * server still counts the session against its MaxSessions.
 */
export function execOnChannel(
  client: Client,
  command: string,
  io: ChannelIo,
  signal: AbortSignal,
  connectionLost: () => boolean,
  release: () => void,
): Promise<ChannelExit> {
  return new Promise<ChannelExit>((resolve, reject) => {
    let channel: ClientChannel | null = null;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (!settled) {
        settled = true;
        signal.removeEventListener("abort", onAbort);
        fn();
      }
    };
    const onAbort = (): void => {
      if (channel) {
        stopChannel(channel, io);
      }
      settle(() => reject(new ChannelAborted("aborted")));
    };
    // A channel whose consumer stopped reading never reaches 'close'; the connection's end frees it.
    const onClientClose = (): void => release();
    const released = (): void => {
      client.removeListener("close", onClientClose);
      release();
    };
    if (signal.aborted) {
      released();
      reject(new ChannelAborted("aborted"));
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    client.once("close", onClientClose);
    const onChannel = (err: (Error & { reason?: unknown }) | undefined, ch: ClientChannel): void => {
      if (err) {
        released();
        settle(() => reject(notStarted(err, connectionLost()) ?? err));
        return;
      }
      ch.once("close", released);
      if (settled) {
        // Aborted while the channel was opening: the command has started, so stop it.
        stopChannel(ch, io);
        return;
      }
      channel = ch;
      wire(ch, io, (exit) => settle(() => resolve(exit)));
    };
    try {
      client.exec(command, onChannel);
    } catch (err) {
      // ssh2 throws "Not connected" synchronously when the socket is already gone.
      released();
      settle(() => reject(new ChannelNotStarted((err as Error).message, true, { cause: err })));
    }
  });
}

/**
 * Whether a failed exec provably never started the command. A CHANNEL_OPEN_FAILURE carries a
 * numeric reason code; an open still pending when the connection dropped fails with ssh2's "No
 * response from server". A refused or unanswered exec request ("Unable to exec") may have started.
 */
function notStarted(err: Error & { reason?: unknown }, lost: boolean): ChannelNotStarted | null {
  if (typeof err.reason === "number") {
    return new ChannelNotStarted(err.message, false, { cause: err });
  }
  if (lost && !/Unable to exec/.test(err.message)) {
    return new ChannelNotStarted(err.message, true, { cause: err });
  }
  return null;
}

function wire(ch: ClientChannel, io: ChannelIo, onClose: (exit: ChannelExit) => void): void {
  let exit: ChannelExit = { code: undefined };
  // Writes after the remote side closed end up here; the exit status reports the failure.
  ch.on("error", () => undefined);
  ch.stderr.setEncoding("utf8");
  ch.stderr.on("data", (s: string) => io.onStderr(s));
  ch.on("exit", (code: number | null, sig?: string) => {
    exit = code === null ? { code: null, signal: sig } : { code };
  });
  ch.once("close", () => {
    io.stdin.unpipe(ch);
    // Like a pipe to an exited process: further writes fail instead of filling a buffer forever.
    io.stdin.destroy();
    onClose(exit);
  });
  ch.pipe(io.stdout);
  io.stdin.pipe(ch);
}

/**
 * Kills the remote command and closes its channel. OpenSSH's sshd delivers the "signal" request
 * to the command's process group, but only for non-root logins (for root it logs "session
 * signalling requires privilege separation"). Either way the channel is closed, so the command
 * gets EOF on stdin and SIGPIPE at its next write; one that does neither runs to its end.
 */
function stopChannel(ch: ClientChannel, io: ChannelIo): void {
  try {
    sendSignal(ch, "KILL");
  } catch {
    // The channel is already closing; nothing left to signal.
  }
  ch.close();
  io.stdin.unpipe(ch);
  ch.unpipe(io.stdout);
  // Drain what is still in flight so the channel can reach 'close' and free its session.
  ch.resume();
  ch.stderr.resume();
  io.stdout.end();
  io.stdin.destroy();
}

/** Private fields of ssh2 v1's Channel; @types/ssh2 does not declare them, hence the cast in sendSignal. */
interface Ssh2ChannelInternals {
  outgoing?: { id: number; state: string };
  _client?: { _protocol?: { signal(id: number, name: string): void } };
}

/**
 * ssh2's `channel.signal()` does nothing once this side has sent EOF, which every run() does at
 * once by ending stdin, although RFC 4254 §6.9 allows the request until the channel closes. So
 * the request goes through the protocol object the channel itself uses (ssh2 v1 internals).
 */
function sendSignal(ch: ClientChannel, name: string): void {
  const { outgoing, _client } = ch as unknown as Ssh2ChannelInternals;
  const protocol = _client?._protocol;
  if (outgoing && protocol && (outgoing.state === "open" || outgoing.state === "eof")) {
    protocol.signal(outgoing.id, name);
  } else {
    ch.signal(name);
  }
}

/** A counting semaphore: at most `limit` channels at once, the rest wait in order. */
export class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async acquire(signal: AbortSignal): Promise<() => void> {
    if (this.used >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const grant = (): void => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = (): void => {
          this.waiting.splice(this.waiting.indexOf(grant), 1);
          reject(new ChannelAborted("aborted while queued"));
        };
        if (signal.aborted) {
          reject(new ChannelAborted("aborted while queued"));
          return;
        }
        this.waiting.push(grant);
        signal.addEventListener("abort", onAbort, { once: true });
      });
    } else {
      this.used++;
    }
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.release();
      }
    };
  }

  private release(): void {
    const next = this.waiting.shift();
    // Hand the slot straight to the next waiter, so `used` never dips and lets a newcomer jump ahead.
    if (next) {
      next();
    } else {
      this.used--;
    }
  }
}

/** Waits for `p` unless the signal fires first; `p` itself carries on (the connection is shared). */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new ChannelAborted("aborted while waiting"));
    // Handlers go on first: `p` must never be left rejecting unobserved, even when already aborted.
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
    if (signal.aborted) {
      onAbort();
    } else {
      signal.addEventListener("abort", onAbort, { once: true });
    }
  });
}
