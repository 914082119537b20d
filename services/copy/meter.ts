/**
 * Counting and pacing the bytes a relay passes through this process. The limit is enforced by
 * backpressure: the meter's transform does not call back until the bucket allows the chunk, so
 * the reader's pipe fills and its dd waits; nothing piles up in memory.
 */
import { Transform } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";

/** Longest single wait, so a raised or removed limit takes effect within a second. */
const MAX_WAIT_MS = 1000;
/** Burst allowance: a quarter second of the limit (enough to keep pipes busy, small against 15%). */
const BURST_SECONDS = 0.25;

/**
 * A token bucket shared by all segments of one copy, refilled at `limit()` bytes per second
 * (null: no limit). A taker may overdraw and then sleeps off its debt, so chunks of any size pass
 * and the long-run rate is exact; later takers queue behind the debt.
 */
export class TokenBucket {
  private tokens = 0;
  private last = Date.now();
  private rate: number | null;

  constructor(private readonly limit: () => number | null) {
    this.rate = readLimit(limit);
  }

  /** Reads the limit again (the engine calls this every second, and every wait does). */
  refresh(): void {
    this.rate = readLimit(this.limit);
  }

  async take(bytes: number, signal: AbortSignal): Promise<void> {
    this.refill();
    if (this.rate === null) {
      return;
    }
    this.tokens -= bytes;
    while (this.tokens < 0 && this.rate !== null) {
      const ms = Math.min(MAX_WAIT_MS, Math.ceil((-this.tokens / this.rate) * 1000));
      await delay(ms, undefined, { signal });
      this.refresh();
      this.refill();
    }
  }

  private refill(): void {
    const now = Date.now();
    if (this.rate !== null) {
      this.tokens = Math.min(this.tokens + ((now - this.last) / 1000) * this.rate, this.rate * BURST_SECONDS);
    } else {
      this.tokens = 0;
    }
    this.last = now;
  }
}

function readLimit(limit: () => number | null): number | null {
  const v = limit();
  return v !== null && Number.isFinite(v) && v > 0 ? v : null;
}

/**
 * A pass-through that counts bytes and waits on the bucket before passing each chunk on.
 * `scale` converts the chunk's bytes into volume bytes (compressed relays pay for what the
 * chunk expands to, so the limit means volume bytes per second whatever the compression).
 */
export function meterStream(
  bucket: TokenBucket,
  signal: AbortSignal,
  onBytes: (n: number) => void,
  scale: () => number = () => 1,
): Transform {
  return new Transform({
    // Large enough for SSH channel chunks (32 KiB packets, 2 MiB windows), small enough to stay flat.
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      bucket.take(Math.ceil(chunk.length * scale()), signal).then(
        () => cb(null, chunk),
        (err: unknown) => cb(err as Error),
      );
    },
  });
}

/** Rate over a sliding window of (time, bytes) samples: what an ETA should be computed from. */
export class RateWindow {
  private readonly samples: { t: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 5000) {}

  add(bytes: number, t = Date.now()): number {
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[1]!.t >= this.windowMs) {
      this.samples.shift();
    }
    const first = this.samples[0]!;
    const dt = (t - first.t) / 1000;
    return dt > 0 ? Math.max(0, Math.round((bytes - first.bytes) / dt)) : 0;
  }
}
