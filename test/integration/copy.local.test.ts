import fs from "node:fs";
import path from "node:path";

import { MigrationCancelled, VolumeMigrationFailed } from "../../common/errors";
import { RunnerFactory } from "../../drivers/exec";
import type { CopyEndpoint } from "../../drivers/types";
import { CopyEngine } from "../../services/copy/engine";
import { EXTENT_CHUNK_BYTES } from "../../services/copy/plan";
import type { CopyCheckpoint, CopyProgress } from "../../services/copy/types";
import {
  endpoint,
  extentsSha256,
  makeDest,
  makeSource,
  makeSparseSource,
  MiB,
  processesMentioning,
  segmentedSha256,
  sha256File,
  supportsDirectIo,
  tempDir,
  waitUntil,
} from "./copy.helpers";

const local = { kind: "local" } as const;
let dir: string;
let direct: boolean;
let runners: RunnerFactory;

beforeAll(() => {
  dir = tempDir("vms-copy-local-");
  direct = supportsDirectIo(dir);
  runners = new RunnerFactory();
});
afterAll(async () => {
  await runners.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function volumes(name: string, size: number): { src: string; dst: string } {
  const src = path.join(dir, `${name}.src`);
  const dst = path.join(dir, `${name}.dst`);
  makeSource(src, size);
  makeDest(dst, size);
  return { src, dst };
}

test("progress moves during a 128 MiB copy and ends at bytesTotal; checksums cover the volume", async () => {
  const size = 128 * MiB;
  const { src, dst } = volumes("progress", size);
  const progress: CopyProgress[] = [];
  const engine = new CopyEngine({ runners, segmentBytes: 32 * MiB });
  const result = await engine.copy({
    source: endpoint(local, src, size, direct),
    dest: endpoint(local, dst, size, direct),
    sizeBytes: size,
    blockSize: "1M",
    // Paced, so the copy lasts a few seconds and progress has something to show.
    bpsLimit: () => 48 * MiB,
    onProgress: (p) => progress.push(p),
  });
  expect(sha256File(dst)).toBe(sha256File(src));
  // Paced by the host's own writer (segment.py --paced), not relayed through this process.
  expect(result).toMatchObject({ bytes: size, compression: "none", transport: "local", resumedBytes: 0 });
  expect(result.sourceSha256).toBe(segmentedSha256(src, size, 32 * MiB));
  expect(result.destSha256).toBe(result.sourceSha256);
  const moving = progress.filter((p) => p.bytesDone > 0 && p.bytesDone < size);
  expect(moving.length).toBeGreaterThanOrEqual(1);
  expect(moving.some((p) => p.rateBps > 0)).toBe(true);
  for (let i = 1; i < progress.length; i++) {
    expect(progress[i]!.bytesDone).toBeGreaterThanOrEqual(progress[i - 1]!.bytesDone);
  }
  expect(progress.at(-1)).toMatchObject({ bytesDone: size, bytesTotal: size });
});

test.each(["none", "lz4", "zstd", "gzip"] as const)("compression %s round-trips", async (compression) => {
  const size = 24 * MiB;
  const { src, dst } = volumes(`comp-${compression}`, size);
  const result = await new CopyEngine({ runners, segmentBytes: 8 * MiB }).copy({
    source: endpoint(local, src, size, direct),
    dest: endpoint(local, dst, size, direct),
    sizeBytes: size,
    blockSize: "1M",
    compression,
  });
  expect(result.compression).toBe(compression);
  expect(sha256File(dst)).toBe(sha256File(src));
  expect(result.destSha256).toBe(result.sourceSha256);
});

test("a size that is not whole blocks goes as one buffered segment", async () => {
  const size = 5 * MiB + 12345;
  const { src, dst } = volumes("odd", size);
  const result = await new CopyEngine({ runners, segmentBytes: MiB }).copy({
    source: endpoint(local, src, size, direct),
    dest: endpoint(local, dst, size, direct),
    sizeBytes: size,
    blockSize: "1M",
  });
  expect(sha256File(dst)).toBe(sha256File(src));
  expect(result.sourceSha256).toBe(segmentedSha256(src, size, size));
});

test("resume: a cancelled copy continues from its checkpoint and moves only the rest", async () => {
  const size = 64 * MiB;
  const seg = 8 * MiB;
  const { src, dst } = volumes("resume", size);
  const engine = new CopyEngine({ runners, segmentBytes: seg, parallel: 1 });
  const base = {
    source: endpoint(local, src, size, direct),
    dest: endpoint(local, dst, size, direct),
    sizeBytes: size,
    blockSize: "1M",
  };
  const checkpoints: CopyCheckpoint[] = [];
  const controller = new AbortController();
  const first = engine.copy({
    ...base,
    signal: controller.signal,
    onCheckpoint: async (cp) => {
      checkpoints.push(cp);
      if (checkpoints.length === 2) {
        controller.abort();
      }
    },
  });
  await expect(first).rejects.toBeInstanceOf(MigrationCancelled);
  expect(checkpoints.map((c) => c.offset)).toEqual([seg, 2 * seg]);

  const written: number[] = [];
  const progress: CopyProgress[] = [];
  const result = await engine.copy({
    ...base,
    resumeFrom: checkpoints.at(-1),
    onProgress: (p) => progress.push(p),
    hooks: { afterSegmentWritten: async (s) => void written.push(s.offset) },
  });
  expect(result.resumedBytes).toBe(2 * seg);
  // Only the segments past the checkpoint were copied again.
  expect(written.sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7].map((i) => i * seg));
  expect(progress[0]!.bytesDone).toBeGreaterThanOrEqual(2 * seg);
  expect(sha256File(dst)).toBe(sha256File(src));
  expect(result.sourceSha256).toBe(segmentedSha256(src, size, seg));
  expect(result.destSha256).toBe(segmentedSha256(dst, size, seg));
});

test("a byte corrupted on the destination is caught; no checkpoint passes the bad segment", async () => {
  const size = 32 * MiB;
  const seg = 4 * MiB;
  const { src, dst } = volumes("corrupt", size);
  const checkpoints: CopyCheckpoint[] = [];
  const copy = new CopyEngine({ runners, segmentBytes: seg }).copy({
    source: endpoint(local, src, size, direct),
    dest: endpoint(local, dst, size, direct),
    sizeBytes: size,
    blockSize: "1M",
    onCheckpoint: async (cp) => void checkpoints.push(cp),
    hooks: {
      afterSegmentWritten: async (s) => {
        if (s.index === 2) {
          const fd = fs.openSync(dst, "r+");
          const b = Buffer.alloc(1);
          fs.readSync(fd, b, 0, 1, s.offset + 4321);
          b[0] = b[0]! ^ 0xff;
          fs.writeSync(fd, b, 0, 1, s.offset + 4321);
          fs.fsyncSync(fd);
          fs.closeSync(fd);
        }
      },
    },
  });
  await expect(copy).rejects.toBeInstanceOf(VolumeMigrationFailed);
  await expect(copy).rejects.toThrow(/segment 2 .*reads back/);
  expect(Math.max(0, ...checkpoints.map((c) => c.offset))).toBeLessThanOrEqual(2 * seg);
});

test("abort mid-copy rejects with MigrationCancelled promptly and leaves no processes", async () => {
  const size = 256 * MiB;
  const { src, dst } = volumes("abort", size);
  const controller = new AbortController();
  const copy = new CopyEngine({ runners, segmentBytes: 64 * MiB }).copy({
    source: endpoint(local, src, size, direct),
    dest: endpoint(local, dst, size, direct),
    sizeBytes: size,
    blockSize: "1M",
    bpsLimit: () => 32 * MiB,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 1500);
  const started = Date.now();
  const err = await copy.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MigrationCancelled);
  expect((err as MigrationCancelled).code).toBe("VMS_ERR_MIGRATION_CANCELLED");
  expect(Date.now() - started).toBeLessThan(1500 + 3000);
  expect(await waitUntil(() => processesMentioning(dir).length === 0, 5000)).toBe(true);
});

/** A sparse file: random 1 MiB blocks at BLOCKS (MiB), one of allocated zeros at ZEROS, holes elsewhere. */
function sparseVolumes(
  name: string,
  size: number,
  blocks: number[],
  zeros: number,
): { src: string; dst: string } {
  const src = path.join(dir, `${name}.src`);
  const dst = path.join(dir, `${name}.dst`);
  makeSparseSource(src, size, blocks, [zeros]);
  makeDest(dst, size);
  return { src, dst };
}

const sparseEndpoint = (file: string, size: number): CopyEndpoint => ({
  ...endpoint(local, file, size, false),
  sparseTarget: true,
  mapsData: true,
});

test.each(["auto", "relay"] as const)(
  "a sparse source (%s) moves only its data; the destination stays sparse; checksums cover every byte",
  async (transport) => {
    const size = 48 * MiB;
    const seg = 16 * MiB;
    const { src, dst } = sparseVolumes(`sparse-${transport}`, size, [0, 7, 20, 47], 30);
    const result = await new CopyEngine({ runners, segmentBytes: seg }).copy({
      source: sparseEndpoint(src, size),
      dest: sparseEndpoint(dst, size),
      sizeBytes: size,
      blockSize: "1M",
      transport,
    });
    expect(result.transport).toBe(transport === "auto" ? "local" : "relay");
    expect(sha256File(dst)).toBe(sha256File(src));
    const whole = extentsSha256(src, size, seg, EXTENT_CHUNK_BYTES);
    expect(result).toMatchObject({ bytes: size, sourceSha256: whole, destSha256: whole });
    // Four data MiB written; neither the holes nor the allocated zero block.
    expect(fs.statSync(dst).blocks * 512).toBeLessThanOrEqual(4 * MiB + 64 * 1024);
  },
);

test("sparse: a corrupted destination chunk is caught by the read-back, and so is a stray one in a hole", async () => {
  const size = 32 * MiB;
  for (const at of [7 * MiB + 100, 12 * MiB]) {
    const { src, dst } = sparseVolumes(`sparse-bad-${at}`, size, [1, 7], 20);
    const copy = new CopyEngine({ runners, segmentBytes: 8 * MiB }).copy({
      source: sparseEndpoint(src, size),
      dest: sparseEndpoint(dst, size),
      sizeBytes: size,
      blockSize: "1M",
      hooks: {
        afterSegmentWritten: async (s) => {
          if (at >= s.offset && at < s.offset + s.length) {
            const fd = fs.openSync(dst, "r+");
            fs.writeSync(fd, Buffer.from([0x5a]), 0, 1, at);
            fs.closeSync(fd);
          }
        },
      },
    });
    await expect(copy).rejects.toThrow(/reads back/);
  }
});

test("sparse: a checkpoint resumes in the extents scheme; a plain one is not mixed in", async () => {
  const size = 32 * MiB;
  const seg = 8 * MiB;
  const { src, dst } = sparseVolumes("sparse-resume", size, [2, 9, 30], 17);
  const engine = new CopyEngine({ runners, segmentBytes: seg, parallel: 1 });
  const base = {
    source: sparseEndpoint(src, size),
    dest: sparseEndpoint(dst, size),
    sizeBytes: size,
    blockSize: "1M",
  };
  const checkpoints: CopyCheckpoint[] = [];
  const controller = new AbortController();
  const first = engine.copy({
    ...base,
    signal: controller.signal,
    onCheckpoint: async (cp) => {
      checkpoints.push(cp);
      controller.abort();
    },
  });
  await expect(first).rejects.toBeInstanceOf(MigrationCancelled);
  expect(checkpoints[0]!.state).toMatchObject({ scheme: `extents-${EXTENT_CHUNK_BYTES}` });
  const written: number[] = [];
  const result = await engine.copy({
    ...base,
    resumeFrom: checkpoints[0],
    hooks: { afterSegmentWritten: async (s) => void written.push(s.offset) },
  });
  expect(result.resumedBytes).toBe(checkpoints[0]!.offset);
  expect(written).not.toContain(0);
  expect(result.sourceSha256).toBe(extentsSha256(src, size, seg, EXTENT_CHUNK_BYTES));
  expect(sha256File(dst)).toBe(sha256File(src));
  // The same offset with plain-sha256 digests does not fit an extents copy: it starts over.
  const plain = { ...checkpoints[0]!, state: { ...(checkpoints[0]!.state as object), scheme: undefined } };
  const again: number[] = [];
  await engine.copy({
    ...base,
    resumeFrom: plain,
    hooks: { afterSegmentWritten: async (s) => void again.push(s.offset) },
  });
  expect(again).toContain(0);
});
