import fs from "node:fs";
import { join } from "node:path";

import { VolumeMigrationFailed } from "../common/errors";
import type { CommandRunner } from "./exec/types";

/**
 * checksum.sh, read once at module load, less its comment lines (the header is for readers). It
 * lives beside this module's source: tsx and ts-jest run the source itself, and tsc's output
 * (dist/drivers) gets no copy of it, so from there the same path under the project root is used.
 */
const SCRIPT = fs
  .readFileSync(
    [join(__dirname, "checksum.sh"), join(__dirname, "../../drivers/checksum.sh")].find((f) =>
      fs.existsSync(f),
    ) ?? join(__dirname, "checksum.sh"),
    "utf8",
  )
  .split("\n")
  .filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"))
  .join("\n");

/**
 * sha256 of the first `sizeBytes` of `path`, computed on the host that holds it. The pipeline is a
 * fixed script (checksum.sh); the path and sizes travel as positional arguments, never spliced
 * into the script.
 */
export async function checksum(
  runner: CommandRunner,
  path: string,
  sizeBytes: number,
  blockSize: string,
  signal?: AbortSignal,
): Promise<string> {
  const { stdout } = await runner.run(
    ["bash", "-c", SCRIPT, "checksum", path, blockSize, String(sizeBytes)],
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
