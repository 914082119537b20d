/**
 * Password hashes for the built-in Keystone's users file: scrypt from node:crypto, written as
 * `scrypt$<N>$<r>$<p>$<salt>$<hash>` (base64url) so the cost travels with each hash and can be
 * raised later without invalidating old entries.
 */
import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from "node:crypto";

const KEY_LENGTH = 64;
const SALT_LENGTH = 16;

export interface ScryptCost {
  /** CPU/memory cost, a power of two. @defaultValue 16384 (node's default) */
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_COST: ScryptCost = { N: 16384, r: 8, p: 1 };

interface ParsedHash {
  cost: ScryptCost;
  salt: Buffer;
  hash: Buffer;
}

function derive(password: string, salt: Buffer, cost: ScryptCost, length: number): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; give it room so large N values from the file are not refused.
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Parse an encoded hash; returns a reason string when it is not one. */
export function parsePasswordHash(encoded: string): ParsedHash | string {
  const parts = encoded.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") {
    return "expected scrypt$<N>$<r>$<p>$<salt>$<hash> (make one with services/keystone/hashPassword.ts)";
  }
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0) || (N & (N - 1)) !== 0 || N < 2) {
    return "N, r and p must be positive integers and N a power of two";
  }
  const salt = Buffer.from(parts[4]!, "base64url");
  const hash = Buffer.from(parts[5]!, "base64url");
  if (salt.length < 8 || hash.length < 16) {
    return "salt or hash too short";
  }
  return { cost: { N, r, p }, salt, hash };
}

export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const hash = await derive(password, salt, cost, KEY_LENGTH);
  return ["scrypt", cost.N, cost.r, cost.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** Constant-time comparison of a password with an encoded hash (an unparsable hash never matches). */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded);
  if (typeof parsed === "string") {
    return false;
  }
  const candidate = await derive(password, parsed.salt, parsed.cost, parsed.hash.length);
  return timingSafeEqual(candidate, parsed.hash);
}
