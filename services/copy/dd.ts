import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

import type { RunnerFactory } from "../../drivers/exec";
import type { CommandRunner } from "../../drivers/exec/types";
import type { CopyEndpoint } from "../../drivers/types";
import { VolumeMigrationFailed } from "../common/errors";
import type { CopyRequest, CopyResult, VolumeCopier } from "./types";

/** How often progress is reported to the caller (which writes it to the migrations row). */
const PROGRESS_INTERVAL_MS = 1000;

/**
 * The copy is the hosts' own `dd`: a reader on the source host and a writer on the destination
 * host, their streams joined here so this process counts bytes and hashes what passes through.
 * Node itself never opens a volume. After the writer has synced, the destination is read back by
 * `sha256sum` on its own host and compared with the hash of what was read from the source.
 */
export class DdCopier implements VolumeCopier {
  constructor(private readonly deps: { runners: RunnerFactory }) {}

  async copy(req: CopyRequest): Promise<CopyResult> {
    const src = this.deps.runners.get(req.source.runner);
    const dst = this.deps.runners.get(req.dest.runner);
    const reader = src.spawn(readArgv(req.source, req.sizeBytes, req.blockSize), {
      signal: req.signal,
      timeoutMs: 0x7fffffff,
    });
    const writer = dst.spawn(writeArgv(req.dest, req.blockSize), {
      signal: req.signal,
      timeoutMs: 0x7fffffff,
    });

    const hash = createHash("sha256");
    let bytes = 0;
    const started = Date.now();
    let lastReport = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        const now = Date.now();
        if (req.onProgress && now - lastReport >= PROGRESS_INTERVAL_MS) {
          lastReport = now;
          req.onProgress({ bytesDone: bytes, bytesTotal: req.sizeBytes, rateBps: rate(bytes, started, now) });
        }
        cb(null, chunk);
      },
    });
    try {
      await Promise.all([pipeline(reader.stdout, meter, writer.stdin), reader.wait(), writer.wait()]);
    } catch (err) {
      reader.kill();
      writer.kill();
      throw err;
    }
    if (bytes !== req.sizeBytes) {
      throw new VolumeMigrationFailed(`copied ${bytes} bytes, expected ${req.sizeBytes}`);
    }
    req.onProgress?.({
      bytesDone: bytes,
      bytesTotal: req.sizeBytes,
      rateBps: rate(bytes, started, Date.now()),
    });
    const destSha256 = await checksum(dst, req.dest.path, req.sizeBytes, req.blockSize, req.signal);
    return { bytes, sourceSha256: hash.digest("hex"), destSha256 };
  }
}

function rate(bytes: number, started: number, now: number): number {
  return Math.round(bytes / Math.max((now - started) / 1000, 0.001));
}

export function readArgv(ep: CopyEndpoint, sizeBytes: number, blockSize: string): string[] {
  const iflag = ["count_bytes", ...(ep.directIo ? ["direct"] : [])].join(",");
  return ["dd", `if=${ep.path}`, `bs=${blockSize}`, `count=${sizeBytes}`, `iflag=${iflag}`, "status=none"];
}

export function writeArgv(ep: CopyEndpoint, blockSize: string): string[] {
  // notrunc: never shrink the target; sparse: skip writing zero blocks where the target already
  // reads zeros; fdatasync when not using O_DIRECT, so "dd exited 0" means the data is on disk.
  const conv = [
    "notrunc",
    ...(ep.sparseTarget ? ["sparse"] : []),
    ...(ep.directIo ? [] : ["fdatasync"]),
  ].join(",");
  return [
    "dd",
    `of=${ep.path}`,
    `bs=${blockSize}`,
    "iflag=fullblock",
    ...(ep.directIo ? ["oflag=direct"] : []),
    `conv=${conv}`,
    "status=none",
  ];
}

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
