/**
 * A bounded map from token to value with a per-entry expiry. Used twice: by the built-in Keystone
 * as its token store (tokens live in memory only) and by the API's validator to remember what
 * Keystone confirmed. Bounded because both are fed by callers: a flood of logins or of distinct
 * tokens must not grow the process without limit. When full, expired entries go first, then the
 * least recently used one (a Map keeps insertion order; a hit re-inserts its entry).
 */
export interface TokenCacheOptions {
  maxEntries: number;
  /** Milliseconds since the epoch; injectable for tests. @defaultValue Date.now */
  clock?: () => number;
}

interface Entry<V> {
  value: V;
  expiresAtMs: number;
}

export class TokenCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly maxEntries: number;
  private readonly clock: () => number;

  constructor(opts: TokenCacheOptions) {
    if (!Number.isSafeInteger(opts.maxEntries) || opts.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, not ${opts.maxEntries}`);
    }
    this.maxEntries = opts.maxEntries;
    this.clock = opts.clock ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, or undefined when absent or expired (an expired entry is dropped on the way). */
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) {
      return undefined;
    }
    this.entries.delete(key);
    if (e.expiresAtMs <= this.clock()) {
      return undefined;
    }
    this.entries.set(key, e);
    return e.value;
  }

  /** Stores until `expiresAtMs`; an entry already expired is not stored at all. */
  set(key: string, value: V, expiresAtMs: number): void {
    this.entries.delete(key);
    if (expiresAtMs <= this.clock()) {
      return;
    }
    if (this.entries.size >= this.maxEntries) {
      this.evict();
    }
    this.entries.set(key, { value, expiresAtMs });
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  private evict(): void {
    const now = this.clock();
    for (const [k, e] of this.entries) {
      if (e.expiresAtMs <= now) {
        this.entries.delete(k);
      }
    }
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) {
        return;
      }
      this.entries.delete(oldest.value);
    }
  }
}
