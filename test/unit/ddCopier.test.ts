import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { RunnerFactory } from "../../drivers/exec";
import type { CopyEndpoint } from "../../drivers/types";
import { CopyEngine as DdCopier } from "../../services/copy/engine";
import { combineDigests } from "../../services/copy/plan";
import type { CopyProgress } from "../../services/copy/types";

const MiB = 1024 * 1024;
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-dd-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function endpoint(name: string, size: number): CopyEndpoint {
  return {
    runner: { kind: "local" },
    path: path.join(dir, name),
    sizeBytes: size,
    directIo: false,
    sparseTarget: true,
  };
}

test("copies the bytes, keeps zero regions sparse, reports progress and matching checksums", async () => {
  const size = 16 * MiB;
  const data = Buffer.alloc(size);
  randomBytes(4 * MiB).copy(data, 0);
  randomBytes(2 * MiB).copy(data, 12 * MiB);
  fs.writeFileSync(path.join(dir, "src"), data);
  fs.closeSync(fs.openSync(path.join(dir, "dst"), "w"));
  fs.truncateSync(path.join(dir, "dst"), size);

  const progress: CopyProgress[] = [];
  const result = await new DdCopier({ runners: new RunnerFactory() }).copy({
    source: endpoint("src", size),
    dest: endpoint("dst", size),
    sizeBytes: size,
    blockSize: "1M",
    onProgress: (p) => progress.push(p),
  });

  const want = createHash("sha256").update(data).digest("hex");
  // One segment (16 MiB < the segment size): the volume checksum is the hash of its one digest.
  expect(result).toMatchObject({
    bytes: size,
    sourceSha256: combineDigests([want]),
    destSha256: combineDigests([want]),
  });
  expect(
    createHash("sha256")
      .update(fs.readFileSync(path.join(dir, "dst")))
      .digest("hex"),
  ).toBe(want);
  expect(progress.at(-1)).toMatchObject({ bytesDone: size, bytesTotal: size });
  // 6 MiB of data in a 16 MiB file: the zero blocks were not written.
  expect(fs.statSync(path.join(dir, "dst")).blocks * 512).toBeLessThan(8 * MiB);
});

test("a failing reader rejects the copy with the command's error", async () => {
  await expect(
    new DdCopier({ runners: new RunnerFactory() }).copy({
      source: endpoint("does-not-exist", MiB),
      dest: endpoint("dst2", MiB),
      sizeBytes: MiB,
      blockSize: "1M",
    }),
  ).rejects.toThrow(/does-not-exist/);
});
