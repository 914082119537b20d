/**
 * "auto" compression samples the source on its host: data that compresses is compressed, random
 * data goes as it is (compressing it would only cost CPU on both hosts).
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { silentLogger } from "../../common/logger";
import { LocalRunner } from "../../drivers/exec/local";
import { worthCompressing } from "../../services/copy/choose";
import type { CopyRequest } from "../../services/copy/types";

const MiB = 1024 * 1024;
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-sample-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function request(file: string, size: number): CopyRequest {
  const ep = {
    runner: { kind: "local" as const },
    path: file,
    sizeBytes: size,
    directIo: false,
    sparseTarget: false,
  };
  return { source: ep, dest: ep, sizeBytes: size, blockSize: "1M" };
}

test.each([
  ["random data goes uncompressed", (): Buffer => randomBytes(32 * MiB), "none"],
  ["text and zeros are compressed", (): Buffer => Buffer.alloc(32 * MiB, "volume data 0123456789\n"), "lz4"],
  [
    "half random, half zeros is compressed",
    (): Buffer => Buffer.concat([randomBytes(16 * MiB), Buffer.alloc(16 * MiB)]),
    "lz4",
  ],
] as const)("%s", async (_name, data, expected) => {
  const file = path.join(dir, `${expected}-${Math.random()}.img`);
  fs.writeFileSync(file, data());
  const got = await worthCompressing(new LocalRunner(), request(file, 32 * MiB), "lz4", silentLogger());
  expect(got).toBe(expected);
});

test("a source it cannot sample keeps the compression (correct either way)", async () => {
  const got = await worthCompressing(
    new LocalRunner(),
    request(path.join(dir, "missing.img"), 32 * MiB),
    "lz4",
    silentLogger(),
  );
  expect(got).toBe("lz4");
});
