/**
 * TIMED TEST: the bandwidth limit over a ~20 s copy. It needs the machine to copy well above the
 * limit (8 MiB/s here), so a heavily loaded runner can make it slow; it never makes it fast.
 */
import fs from "node:fs";
import path from "node:path";

import { RunnerFactory } from "../../drivers/exec";
import { CopyEngine } from "../../services/copy/engine";
import type { CopyProgress } from "../../services/copy/types";
import { endpoint, makeDest, makeSource, MiB, sha256File, supportsDirectIo, tempDir } from "./copy.helpers";

let dir: string;
let runners: RunnerFactory;
beforeAll(() => {
  dir = tempDir("vms-copy-limit-");
  runners = new RunnerFactory();
});
afterAll(async () => {
  await runners.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("TIMED: a copy at bpsLimit takes size/limit within 15%, and the limit is read while it runs", async () => {
  const limit = 8 * MiB;
  const size = 176 * MiB; // 22 s at the limit
  const src = path.join(dir, "src");
  const dst = path.join(dir, "dst");
  makeSource(src, size);
  makeDest(dst, size);
  const direct = supportsDirectIo(dir);
  let reads = 0;
  const progress: CopyProgress[] = [];
  const started = Date.now();
  await new CopyEngine({ runners, segmentBytes: 32 * MiB }).copy({
    source: endpoint({ kind: "local" }, src, size, direct),
    dest: endpoint({ kind: "local" }, dst, size, direct),
    sizeBytes: size,
    blockSize: "1M",
    bpsLimit: () => {
      reads++;
      return limit;
    },
    onProgress: (p) => progress.push(p),
  });
  const seconds = (Date.now() - started) / 1000;
  const expected = size / limit;
  expect(sha256File(dst)).toBe(sha256File(src));
  expect(seconds).toBeGreaterThan(expected * 0.85);
  expect(seconds).toBeLessThan(expected * 1.15);
  // Read at least once a second.
  expect(reads).toBeGreaterThanOrEqual(Math.floor(expected));
  // The reported recent rate sits near the limit once the window is full.
  const steady = progress.filter((p) => p.bytesDone > 48 * MiB && p.bytesDone < size - 16 * MiB);
  for (const p of steady) {
    expect(p.rateBps).toBeLessThan(limit * 1.15);
    expect(p.rateBps).toBeGreaterThan(limit * 0.85);
  }
}, 60_000);
