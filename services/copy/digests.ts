import { createHash } from "node:crypto";

import { VolumeMigrationFailed } from "../../common/errors";
import type { CommandRunner } from "../../drivers/exec/types";
import type { CopyEndpoint } from "../../drivers/types";
import { parseBlockSize } from "./plan";
import { chunkCount } from "./ranges";
import { bash, DIGESTS_SCRIPT } from "./scripts";

/** A scan runs as long as it needs; the caller's signal is what stops it. */
const SCAN_TIMEOUT_MS = 0x7fffffff;

/**
 * The sha256 of each `chunkBytes` chunk of the first `sizeBytes` of an endpoint, computed on the
 * host that holds it (segmentDigests.sh), in order. Read with O_DIRECT where the endpoint allows
 * it, so a device is read from the disk and not from the page cache. A file that maps its data
 * (mapsData) is read only where it has data: a chunk that is all hole has the digest of zeros.
 */
export async function chunkDigests(
  runner: CommandRunner,
  endpoint: CopyEndpoint,
  r: { sizeBytes: number; chunkBytes: number; blockSize: string; signal?: AbortSignal },
): Promise<string[]> {
  const block = parseBlockSize(r.blockSize);
  // O_DIRECT wants whole blocks: chunks are, and so is a size a whole number of blocks.
  const bs = r.chunkBytes % block === 0 && r.sizeBytes % block === 0 ? block : 4096;
  const direct = endpoint.directIo && r.sizeBytes % bs === 0 ? "1" : "0";
  const map = endpoint.mapsData === true ? "1" : "0";
  const { stdout } = await runner.run(
    bash(DIGESTS_SCRIPT, "digests", endpoint.path, bs, r.sizeBytes, r.chunkBytes, direct, map),
    { signal: r.signal, timeoutMs: SCAN_TIMEOUT_MS },
  );
  const digests: string[] = [];
  for (const m of stdout.matchAll(/^vms-(?:sha256 (\d+) ([0-9a-f]{64})\b.*|hole (\d+))$/gm)) {
    if (Number(m[1] ?? m[3]) !== digests.length) {
      throw new VolumeMigrationFailed(`chunk digests of ${endpoint.path} on ${runner.where} out of order`);
    }
    const offset = digests.length * r.chunkBytes;
    digests.push(m[2] ?? zeroDigest(Math.min(r.chunkBytes, r.sizeBytes - offset)));
  }
  const want = chunkCount(r.sizeBytes, r.chunkBytes);
  if (digests.length !== want) {
    throw new VolumeMigrationFailed(
      `${runner.where} reported ${digests.length} chunk digests of ${endpoint.path}, expected ${want}`,
    );
  }
  return digests;
}

const zeroDigests = new Map<number, string>();

/** sha256 of `length` zero bytes (a chunk of holes), computed once per length. */
function zeroDigest(length: number): string {
  let d = zeroDigests.get(length);
  if (d === undefined) {
    d = createHash("sha256").update(Buffer.alloc(length)).digest("hex");
    zeroDigests.set(length, d);
  }
  return d;
}
