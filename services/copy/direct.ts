/**
 * The direct transport's setup and teardown: a key pair made for this one copy, its public half
 * installed on the source host behind a forced command, its private half and the source's host
 * key in a private temp dir on the destination host. Everything installed is removed in
 * `close()`, which the engine calls in a `finally` (success, failure and cancel alike).
 *
 * Why one key per copy and not one per segment: the destination is entitled to every byte of
 * this volume anyway, so a per-segment key would not narrow what the key holder can read, while
 * it would rewrite authorized_keys twice per segment. What the key may do is fixed by the forced
 * command (this volume's path, block size, size and compression; `restrict` turns off forwarding,
 * ptys and the like); the holder chooses only the segment, which FORCED_SCRIPT validates as
 * integers within the volume. `from=` pins the client address where it is known, and the line
 * lives only as long as the copy.
 */
import { randomBytes } from "node:crypto";

import { utils } from "ssh2";

import type { Logger } from "../../common/logger";
import { quoteArgv, SshRunner } from "../../drivers/exec";
import { keyTypeOf } from "../../drivers/exec/hostKeys";
import type { CommandRunner, SshRunnerSpec } from "../../drivers/exec/types";
import { fromAddress } from "./choose";
import {
  ADD_KEY_SCRIPT,
  bash,
  type DirectSource,
  END_READERS_SCRIPT,
  forcedCommandArgv,
  KEY_DIR_SCRIPT,
  probeDirectArgv,
  REMOVE_KEY_SCRIPT,
  RM_KEY_DIR_SCRIPT,
} from "./scripts";
import type { Compression, CopyRequest } from "./types";

/** Setup and cleanup commands are small; cleanup must not hang a failed copy forever either. */
const SETUP_TIMEOUT_MS = 60_000;

export interface DirectSession {
  source: DirectSource;
  /** Removes the authorized_keys line and the key dir; never throws (failures are logged). */
  close(): Promise<void>;
}

export interface DirectParams {
  req: CopyRequest;
  src: CommandRunner;
  dst: CommandRunner;
  comp: Compression;
  blockBytes: number;
  directIo: boolean;
  /** The source host's python3 interpreter, when segment.py may read there (python.ts). */
  python: string | null;
  /** What the destination's ssh offers (volume_copy_ssh_ciphers). */
  ciphers: string;
  signal: AbortSignal;
  logger: Logger;
}

/** The authorized_keys line for one copy: forced command, `restrict`, `from=` when known. */
export function authorizedKeysLine(forcedCommand: string, publicKey: string, from: string | null): string {
  if (/[\r\n\0]/.test(forcedCommand)) {
    throw new TypeError("a forced command must be one line");
  }
  // sshd's option parser knows one escape inside quotes: \" for a quote. quoteArgv's own '\''
  // keeps its backslash, which sshd passes through unchanged.
  const opts = [`restrict`, `command="${forcedCommand.replace(/"/g, '\\"')}"`];
  if (from !== null) {
    opts.push(`from="${from}"`);
  }
  return `${opts.join(",")} ${publicKey}`;
}

function hostKeyAlgorithms(keyType: string): string {
  return keyType === "ssh-rsa" ? "rsa-sha2-512,rsa-sha2-256" : keyType;
}

/**
 * Installs the copy's key and checks that the destination can use it (`probe`), so a failure here
 * happens before any byte is written and the engine can fall back to relay. Throws after undoing
 * whatever it had installed.
 */
export async function openDirect(p: DirectParams): Promise<DirectSession> {
  const spec = p.req.source.runner as SshRunnerSpec;
  if (!(p.src instanceof SshRunner)) {
    throw new TypeError("direct transport needs an SSH runner on the source");
  }
  const run = { signal: p.signal, timeoutMs: SETUP_TIMEOUT_MS };
  const blob = await p.src.hostKey(p.signal);
  const keyType = keyTypeOf(blob);
  if (keyType === null) {
    throw new TypeError("unreadable host key");
  }
  const address = p.req.source.dataAddress ?? spec.host;
  const hostPattern = spec.port === 22 ? address : `[${address}]:${spec.port}`;
  const knownHosts = `${hostPattern} ${keyType} ${blob.toString("base64")}`;
  const tag = `vms-copy-${randomBytes(8).toString("hex")}`;
  const keys = utils.generateKeyPairSync("ed25519", { comment: tag });
  const forced = quoteArgv(
    forcedCommandArgv(p.req.source.path, p.blockBytes, p.req.sizeBytes, p.directIo, p.comp, p.python, tag),
  );
  const line = authorizedKeysLine(forced, keys.public.trim(), fromAddress(p.req.dest));
  const keysFile = p.req.source.authorizedKeysFile ?? "";

  let keyInstalled = false;
  let keyDir: string | null = null;
  const close = async (): Promise<void> => {
    // Not the copy's signal: cleanup has to run after a cancel too.
    const cleanupOpts = { timeoutMs: SETUP_TIMEOUT_MS };
    const removeKey = (): Promise<unknown> =>
      p.src
        .run(bash(REMOVE_KEY_SCRIPT, "remove-key", keysFile, tag), cleanupOpts)
        .catch((err: unknown) =>
          p.logger.error(
            { err, where: p.src.where, tag },
            "could not remove the copy key from authorized_keys; remove the line by hand",
          ),
        );
    // A reader whose destination was cut off would hold the volume open until the source's sshd
    // notices (minutes): end it now, over this service's own connection to the source.
    const endReaders = (): Promise<unknown> =>
      p.src
        .run(bash(END_READERS_SCRIPT, "end-readers", tag), cleanupOpts)
        .then(({ stdout }) => {
          if (!/ended 0\b/.test(stdout)) {
            p.logger.warn(
              { where: p.src.where, tag, said: stdout.trim() },
              "ended the copy's leftover readers",
            );
          }
        })
        .catch((err: unknown) =>
          p.logger.warn({ err, where: p.src.where, tag }, "could not end the copy's leftover readers"),
        );
    const jobs: Promise<unknown>[] = [];
    if (keyInstalled) {
      // The key first, so that no new session starts; then whatever reader is left.
      jobs.push(removeKey().then(endReaders));
    }
    if (keyDir !== null) {
      const dir = keyDir;
      jobs.push(
        p.dst
          .run(bash(RM_KEY_DIR_SCRIPT, "rm-key-dir", dir), cleanupOpts)
          .catch((err: unknown) =>
            p.logger.error({ err, where: p.dst.where, dir }, "could not remove the copy key dir"),
          ),
      );
    }
    await Promise.all(jobs);
  };

  try {
    // Marked before the command runs: a cancel mid-command may still have appended the line, and
    // removing a line that is not there is harmless. The destination gets the private half only
    // after the line exists, so an interrupted setup leaves at worst a key that nobody holds.
    keyInstalled = true;
    await p.src.run(bash(ADD_KEY_SCRIPT, "add-key", keysFile, line), run);
    const made = await p.dst.run(bash(KEY_DIR_SCRIPT, "key-dir", knownHosts), {
      ...run,
      input: keys.private,
    });
    const dir = made.stdout.trim();
    if (!/^\/[^\n]*\/vms-copy\.[A-Za-z0-9]+$/.test(dir)) {
      throw new TypeError(`unexpected key dir ${JSON.stringify(dir)}`);
    }
    keyDir = dir;
    const source: DirectSource = {
      keyDir: dir,
      hostKeyAlgorithms: hostKeyAlgorithms(keyType),
      port: spec.port,
      username: spec.username,
      address,
      ciphers: p.ciphers,
    };
    await p.req.hooks?.directKeyInstalled?.({
      keyDir: dir,
      authorizedKeysLine: line,
      privateKey: keys.private,
    });
    const probe = await p.dst.run(probeDirectArgv(source), run);
    if (probe.stdout.trim() !== "vms-copy-ok") {
      throw new TypeError(`the source answered ${JSON.stringify(probe.stdout.slice(0, 200))} to a probe`);
    }
    return { source, close };
  } catch (err) {
    await close();
    throw err;
  }
}
