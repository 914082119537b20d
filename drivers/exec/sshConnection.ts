/**
 * Opening the SSH runner's connection: one attempt as a promise (ssh2's Client reports through
 * events, and an 'error' event without a listener would crash the worker, so a listener is
 * attached before connecting and stays for the connection's whole life), and the bounded retry.
 */
import fs from "node:fs/promises";
import { setTimeout as delay } from "node:timers/promises";

import { Client } from "ssh2";

import type { Logger } from "../../common/logger";
import { type HostKeyCheck, knownHostsCheck, type PinnedHostKey } from "./hostKeys";
import { SshConnectError } from "./types";

export interface ConnectParams {
  host: string;
  port: number;
  username: string;
  /** The key itself, or the path of its file (read at every connection, so a rotated key is used). */
  privateKey: Buffer | string;
  hostKeys: HostKeyCheck;
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
  /** Called once if the connection ends after it was ready. */
  onLost: (client: Client, err: Error | null) => void;
}

/**
 * The host key each ready connection verified (SSH wire format), so a host-to-host copy can pin
 * the very key this worker trusts when it writes a known_hosts line for another host.
 */
const verifiedHostKeys = new WeakMap<Client, Buffer>();

export function verifiedHostKey(client: Client): Buffer | undefined {
  return verifiedHostKeys.get(client);
}

/** Connects and authenticates; resolves with a ready Client, or rejects with SshConnectError. */
export async function connectOnce(p: ConnectParams): Promise<Client> {
  const privateKey = await readKey(p.privateKey);
  const client = new Client();
  // Every open channel watches the connection's 'close' (at most maxSessions, plus our own).
  client.setMaxListeners(64);
  return new Promise<Client>((resolve, reject) => {
    let ready = false;
    let refusedKey = false;
    let lastError: Error | null = null;
    const fail = (err: SshConnectError): void => {
      // end() on a half-open client frees its socket; the later 'close' is ignored (not ready).
      client.end();
      reject(err);
    };
    client.on("error", (err: Error & { level?: string }) => {
      lastError = err;
      if (!ready) {
        fail(classify(err, refusedKey, p));
      }
    });
    client.once("close", () => {
      if (ready) {
        p.onLost(client, lastError);
      } else {
        fail(new SshConnectError(`connection closed during the handshake`, "network"));
      }
    });
    client.once("ready", () => {
      ready = true;
      resolve(client);
    });
    try {
      client.connect({
        host: p.host,
        port: p.port,
        username: p.username,
        privateKey,
        // Synchronous verifier: ssh2 calls it with the raw key blob because hostHash is unset.
        hostVerifier: (key: Buffer): boolean => {
          const ok = p.hostKeys.verify(key);
          refusedKey ||= !ok;
          if (ok) {
            verifiedHostKeys.set(client, Buffer.from(key));
          }
          return ok;
        },
        algorithms: { serverHostKey: p.hostKeys.algorithms() },
        readyTimeout: p.readyTimeoutMs,
        keepaliveInterval: p.keepaliveIntervalMs,
        // Three unanswered keepalives: a dead peer is noticed within 4 intervals, not at TCP's pace.
        keepaliveCountMax: 3,
        // Public-key auth only: never fall back to passwords or keyboard-interactive prompts.
        authHandler: ["publickey"],
      });
    } catch (err) {
      // ssh2 throws synchronously for options it cannot use, such as an unparsable key.
      fail(new SshConnectError(`cannot connect: ${(err as Error).message}`, "setup", { cause: err }));
    }
  });
}

async function readKey(key: Buffer | string): Promise<Buffer> {
  if (Buffer.isBuffer(key)) {
    return key;
  }
  try {
    return await fs.readFile(key);
  } catch (err) {
    throw new SshConnectError(`cannot read the SSH private key ${key}: ${(err as Error).message}`, "setup", {
      cause: err,
    });
  }
}

function classify(err: Error & { level?: string }, refusedKey: boolean, p: ConnectParams): SshConnectError {
  if (refusedKey) {
    return new SshConnectError(
      `host key of ${p.host}:${p.port} refused: it does not match ${p.hostKeys.source}`,
      "host-key",
      { cause: err },
    );
  }
  switch (err.level) {
    case "client-authentication":
      return new SshConnectError(
        `${p.username}@${p.host}:${p.port} refused the private key: ${err.message}`,
        "auth",
        { cause: err },
      );
    case "client-socket":
    case "client-timeout":
    case "client-dns":
      return new SshConnectError(err.message, "network", { cause: err });
    default:
      // Protocol and handshake errors (no common algorithm, bad signature) will not fix themselves.
      return new SshConnectError(err.message, "setup", { cause: err });
  }
}

/** First pause between connection attempts; doubled after each failure. */
export const RETRY_BASE_MS = 500;
/** Handshakes spent looking for a pinned key among the host's key types (one per type). */
const MAX_HOST_KEY_TRIES = 6;

export interface RetryParams extends Omit<ConnectParams, "hostKeys"> {
  /** The pinned key (kept across connections), or null to read knownHostsFile at each attempt. */
  pinned: PinnedHostKey | null;
  knownHostsFile?: string;
  /** Attempts on network failures; host-key, auth and setup failures are not retried. */
  attempts: number;
  isClosed: () => boolean;
  logger: Logger;
}

/** Connects, retrying network failures with growing pauses and searching for a pinned key's type. */
export async function connectWithRetry(p: RetryParams): Promise<Client> {
  const where = `${p.username}@${p.host}:${p.port}`;
  let networkFailures = 0;
  let hostKeyTries = 0;
  let hostKeyError: SshConnectError | null = null;
  for (;;) {
    try {
      const hostKeys = p.pinned ?? (await knownHostsCheck(p.knownHostsFile!, p.host, p.port));
      const client = await connectOnce({ ...p, hostKeys });
      p.logger.info({ where }, "ssh connected");
      return client;
    } catch (err) {
      if (!(err instanceof SshConnectError)) {
        throw err;
      }
      if (err.failure === "host-key") {
        hostKeyError = err;
        if (p.pinned?.mayMatchOtherAlgorithm() && ++hostKeyTries < MAX_HOST_KEY_TRIES) {
          continue;
        }
      }
      if (err.failure !== "network" || ++networkFailures >= p.attempts || p.isClosed()) {
        // A search for the pinned key ends in a failed handshake once the server has no key type
        // left to offer; the refusal is the real reason.
        if (hostKeyError && err.failure === "setup") {
          p.pinned?.reset();
          throw hostKeyError;
        }
        throw err;
      }
      const pause = RETRY_BASE_MS * 2 ** (networkFailures - 1);
      p.logger.warn({ where, err: err.message, retryInMs: pause }, "ssh connect failed");
      await delay(pause);
    }
  }
}
