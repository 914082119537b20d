/** Volumes as files in a temp dir, for the copy engine's tests. */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import type { RunnerSpec } from "../../drivers/exec/types";
import type { CopyEndpoint } from "../../drivers/types";
import { combineDigests } from "../../services/copy/plan";

export const MiB = 1024 * 1024;

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Whether files in `dir` take O_DIRECT (ext4, xfs do; tmpfs does not). */
export function supportsDirectIo(dir: string): boolean {
  const probe = path.join(dir, ".direct-probe");
  try {
    execFileSync("dd", ["if=/dev/zero", `of=${probe}`, "bs=4096", "count=1", "oflag=direct", "status=none"]);
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(probe, { force: true });
  }
}

/** A source volume: random data with a zero run in the middle (so compression has work of both kinds). */
export function makeSource(file: string, size: number): void {
  const fd = fs.openSync(file, "w");
  try {
    for (let off = 0; off < size; off += 4 * MiB) {
      const n = Math.min(4 * MiB, size - off);
      const zero = off >= size / 4 && off < size / 2;
      fs.writeSync(fd, zero ? Buffer.alloc(n) : randomBytes(n), 0, n, off);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A sparse source of `size` bytes: random data in the 1 MiB blocks `data`, zeros written (allocated,
 * yet no data) in the blocks `zeros`, holes elsewhere.
 */
export function makeSparseSource(
  file: string,
  size: number,
  data: readonly number[],
  zeros: readonly number[] = [],
): void {
  const fd = fs.openSync(file, "w");
  try {
    fs.ftruncateSync(fd, size);
    for (const b of data) {
      fs.writeSync(fd, randomBytes(MiB), 0, MiB, b * MiB);
    }
    for (const b of zeros) {
      fs.writeSync(fd, Buffer.alloc(MiB), 0, MiB, b * MiB);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** An empty destination of `size` bytes (sparse: reads zeros). */
export function makeDest(file: string, size: number): void {
  fs.closeSync(fs.openSync(file, "w"));
  fs.truncateSync(file, size);
}

export function sha256File(file: string): string {
  return execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0]!;
}

/** The engine's volume checksum computed here from the file: sha256 over per-segment digests. */
export function segmentedSha256(file: string, size: number, segment: number): string {
  const fd = fs.openSync(file, "r");
  const digests: string[] = [];
  try {
    for (let off = 0; off < size; off += segment) {
      const buf = Buffer.alloc(Math.min(segment, size - off));
      fs.readSync(fd, buf, 0, buf.length, off);
      digests.push(createHash("sha256").update(buf).digest("hex"));
    }
  } finally {
    fs.closeSync(fd);
  }
  return combineDigests(digests);
}

/**
 * The engine's checksum of a copy in the extents format (scripts/lib/extents.sh), computed here
 * from the file's bytes: per segment, sha256 over `w OFF LEN\n<bytes>` for every chunk that is
 * not all zeros, then `e SEGOFF SEGLEN\n`; sha256 over those digests.
 */
export function extentsSha256(file: string, size: number, segment: number, chunk: number): string {
  const fd = fs.openSync(file, "r");
  const digests: string[] = [];
  try {
    for (let off = 0; off < size; off += segment) {
      const len = Math.min(segment, size - off);
      const h = createHash("sha256");
      for (let q = off; q < off + len; q += chunk) {
        const buf = Buffer.alloc(Math.min(chunk, off + len - q));
        fs.readSync(fd, buf, 0, buf.length, q);
        if (!buf.equals(Buffer.alloc(buf.length))) {
          h.update(`w ${q} ${buf.length}\n`).update(buf);
        }
      }
      digests.push(h.update(`e ${off} ${len}\n`).digest("hex"));
    }
  } finally {
    fs.closeSync(fd);
  }
  return combineDigests(digests);
}

export function endpoint(runner: RunnerSpec, file: string, size: number, directIo: boolean): CopyEndpoint {
  return { runner, path: file, sizeBytes: size, directIo, sparseTarget: false };
}

/** Pids whose command line mentions `needle` (the test's own temp dir), other than this process. */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) {
      continue;
    }
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, "utf8").includes(needle)) {
        pids.push(Number(name));
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

export async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (cond()) {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}
