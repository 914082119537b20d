import { performance } from "node:perf_hooks";

import type { CommandRunner } from "../drivers/exec";

/** Seconds FN takes, wall clock. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) {
    return NaN;
  }
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const MIB = 1024 * 1024;
/** Long commands (fills, checksums of a whole volume on a UML host): no short timeout. */
export const LONG_MS = 3 * 3600_000;

/**
 * sha256 of the first BYTES of PATH, read with O_DIRECT on the host that holds it (so neither a
 * guest's nor this machine's page cache answers). A fixed script; the path is a positional argument.
 */
export async function sha256Of(
  runner: CommandRunner,
  path: string,
  bytes: number,
  opts: { signal: AbortSignal; direct: boolean },
): Promise<string> {
  const script =
    'set -o pipefail; dd if="$1" bs=4M count="$2" iflag="$3" status=none | sha256sum | cut -d" " -f1';
  const iflag = opts.direct ? "count_bytes,direct" : "count_bytes";
  const { stdout } = await runner.run(["bash", "-c", script, "sha256", path, String(bytes), iflag], {
    signal: opts.signal,
    timeoutMs: LONG_MS,
  });
  const digest = stdout.trim();
  if (!/^[0-9a-f]{64}$/.test(digest)) {
    throw new Error(`sha256 of ${path} on ${runner.where}: unexpected output ${JSON.stringify(stdout)}`);
  }
  return digest;
}

/** Throws unless a copy left the same bytes as the source: a fast wrong copy must not count. */
export function assertSameSha(what: string, expected: string, got: string): void {
  if (expected !== got) {
    throw new Error(`${what}: destination sha256 ${got} differs from the source's ${expected}`);
  }
}

/**
 * Runs FN; a failure (other than an interrupt) is recorded in ERRORS and yields null, so one
 * broken measurement does not hide the others. The run still exits non-zero.
 */
export async function attempt<T>(
  what: string,
  errors: string[],
  signal: AbortSignal,
  fn: () => Promise<T>,
): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (signal.aborted) {
      throw err;
    }
    // Command errors quote a whole script; its head and the stderr at the end are what matter.
    const msg = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ");
    errors.push(`${what}: ${msg.length > 400 ? `${msg.slice(0, 120)} … ${msg.slice(-260)}` : msg}`);
    return null;
  }
}
