import { VolumeMigrationFailed } from "../common/errors";
import type { CommandRunner } from "./exec/types";

/**
 * sha256 of the first `sizeBytes` of `path`, computed on the host that holds it. The pipeline is a
 * fixed script; the path and sizes travel as positional arguments, never spliced into the script.
 */
export async function checksum(
  runner: CommandRunner,
  path: string,
  sizeBytes: number,
  blockSize: string,
  signal?: AbortSignal,
): Promise<string> {
  const script =
    'set -o pipefail 2>/dev/null; dd if="$1" bs="$2" count="$3" iflag=count_bytes status=none | sha256sum';
  const { stdout } = await runner.run(
    ["bash", "-c", script, "checksum", path, blockSize, String(sizeBytes)],
    {
      signal,
      timeoutMs: 6 * 3600_000,
    },
  );
  const digest = stdout.trim().split(/\s+/)[0] ?? "";
  if (!/^[0-9a-f]{64}$/.test(digest)) {
    throw new VolumeMigrationFailed(
      `could not read the checksum of ${path}: ${JSON.stringify(stdout.slice(0, 200))}`,
    );
  }
  return digest;
}
