/**
 * Host-key checking for the SSH runner. ssh2 accepts any host key unless `hostVerifier` is set, so
 * every connection carries one of two checks: the host's entries in an OpenSSH known_hosts file,
 * or one pinned `SHA256:…` fingerprint (what `ssh-keygen -lf` prints). There is no "accept new
 * keys" mode.
 */
import { createHash, createHmac } from "node:crypto";
import fs from "node:fs/promises";

import type { ServerHostKeyAlgorithm } from "ssh2";

import { SshConnectError } from "./types";

/** One host-key check; `verify` gets the key blob in SSH wire format, as ssh2 passes it. */
export interface HostKeyCheck {
  /** Host-key algorithms to offer, so the server presents a key this check can compare. */
  algorithms(): ServerHostKeyAlgorithm[];
  verify(key: Buffer): boolean;
  /** After a refusal: whether offering other algorithms may still reach the accepted key. */
  mayMatchOtherAlgorithm(): boolean;
  /** For messages: where the accepted keys come from. */
  readonly source: string;
}

/** ssh2's host-key algorithms by key type, in ssh2's order of preference. */
const ALGORITHMS_BY_KEY_TYPE: ReadonlyMap<string, readonly ServerHostKeyAlgorithm[]> = new Map([
  ["ssh-ed25519", ["ssh-ed25519"]],
  ["ecdsa-sha2-nistp256", ["ecdsa-sha2-nistp256"]],
  ["ecdsa-sha2-nistp384", ["ecdsa-sha2-nistp384"]],
  ["ecdsa-sha2-nistp521", ["ecdsa-sha2-nistp521"]],
  ["ssh-rsa", ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]],
]);

export const SHA256_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** OpenSSH's fingerprint of a host key: unpadded base64 of its SHA-256. */
export function sha256Fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** The key type named inside an SSH wire-format key blob ("ssh-ed25519", …), or null. */
export function keyTypeOf(blob: Buffer): string | null {
  if (blob.length < 4) {
    return null;
  }
  const len = blob.readUInt32BE(0);
  return len > 0 && len <= 64 && blob.length >= 4 + len ? blob.toString("latin1", 4, 4 + len) : null;
}

export interface KnownHostEntry {
  marker: "revoked" | "cert-authority" | null;
  /** The comma-separated host patterns, as written. */
  hosts: string;
  keyType: string;
  key: Buffer;
}

/** Parses known_hosts lines; comments, blank and malformed lines are skipped, as ssh does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split("\n")) {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === "" || fields[0]?.startsWith("#")) {
      continue;
    }
    let marker: KnownHostEntry["marker"] = null;
    if (fields[0] === "@revoked" || fields[0] === "@cert-authority") {
      marker = fields[0] === "@revoked" ? "revoked" : "cert-authority";
      fields.shift();
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
      continue;
    }
    const key = Buffer.from(b64, "base64");
    // The blob names its own type; a line whose two disagree is corrupt, not a key to trust.
    if (keyTypeOf(key) === keyType) {
      entries.push({ marker, hosts, keyType, key });
    }
  }
  return entries;
}

/**
 * Whether a line's host patterns name this host: `host` for port 22, `[host]:port` otherwise, as
 * OpenSSH writes them; hashed `|1|salt|hmac` names (HashKnownHosts), `*`/`?` wildcards and
 * `!negated` patterns (a matching negation excludes the line).
 */
export function hostMatches(hosts: string, host: string, port: number): boolean {
  const name = (port === 22 ? host : `[${host}]:${port}`).toLowerCase();
  let matched = false;
  for (const pattern of hosts.split(",")) {
    if (pattern.startsWith("|1|")) {
      const [, , salt, hash] = pattern.split("|");
      const mac = createHmac("sha1", Buffer.from(salt ?? "", "base64"))
        .update(name)
        .digest("base64");
      matched ||= mac === hash;
      continue;
    }
    const negated = pattern.startsWith("!");
    if (globToRegExp(negated ? pattern.slice(1) : pattern).test(name)) {
      if (negated) {
        return false;
      }
      matched = true;
    }
  }
  return matched;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/** Accepts exactly the keys known_hosts lists for this host (never one marked @revoked). */
export async function knownHostsCheck(file: string, host: string, port: number): Promise<HostKeyCheck> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    throw new SshConnectError(`cannot read known_hosts ${file}: ${(err as Error).message}`, "setup", {
      cause: err,
    });
  }
  const forHost = parseKnownHosts(text).filter((e) => hostMatches(e.hosts, host, port));
  const revoked = forHost.filter((e) => e.marker === "revoked");
  const trusted = forHost.filter((e) => e.marker === null && ALGORITHMS_BY_KEY_TYPE.has(e.keyType));
  const where = port === 22 ? host : `[${host}]:${port}`;
  if (trusted.length === 0) {
    throw new SshConnectError(`${file} has no usable host key for ${where}`, "host-key");
  }
  const types = new Set(trusted.map((e) => e.keyType));
  // Offer only the listed key types: with ssh2's default order the server could present another
  // key of its own (say ECDSA when ED25519 is listed) and a genuine host would look forged.
  const algorithms = [...ALGORITHMS_BY_KEY_TYPE].filter(([t]) => types.has(t)).flatMap(([, a]) => a);
  return {
    source: `${file} (${where})`,
    algorithms: () => algorithms,
    verify: (key) => !revoked.some((e) => e.key.equals(key)) && trusted.some((e) => e.key.equals(key)),
    mayMatchOtherAlgorithm: () => false,
  };
}

/**
 * Accepts the one key with this fingerprint. The key's type is not known in advance, so when the
 * server presents a key of another type the next handshake leaves that type out; the state is
 * kept, so later connections go straight to the type that matched.
 */
export class PinnedHostKey implements HostKeyCheck {
  private readonly refusedTypes = new Set<string>();

  constructor(private readonly fingerprint: string) {
    if (!SHA256_FINGERPRINT.test(fingerprint)) {
      throw new TypeError(
        `host key fingerprint "${fingerprint}" is not of the form SHA256:<43 base64 chars>`,
      );
    }
  }

  get source(): string {
    return `pinned ${this.fingerprint}`;
  }

  algorithms(): ServerHostKeyAlgorithm[] {
    return [...ALGORITHMS_BY_KEY_TYPE].filter(([t]) => !this.refusedTypes.has(t)).flatMap(([, a]) => a);
  }

  verify(key: Buffer): boolean {
    if (sha256Fingerprint(key) === this.fingerprint) {
      return true;
    }
    const type = keyTypeOf(key);
    if (type !== null) {
      this.refusedTypes.add(type);
    }
    return false;
  }

  mayMatchOtherAlgorithm(): boolean {
    if (this.algorithms().length > 0) {
      return true;
    }
    this.reset();
    return false;
  }

  /** Forgets refused types: after a failed search, the next connection tries every type again. */
  reset(): void {
    this.refusedTypes.clear();
  }
}
