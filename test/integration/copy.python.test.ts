/**
 * A segment's side as one Python process (services/copy/python.ts, scripts/segment.py) against
 * the bash pipelines it replaces where a host has python3: which one runs, that both leave the
 * same bytes and report the same digests, on one host and between two sshd "hosts".
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { VolumeMigrationFailed } from "../../common/errors";
import { RunnerFactory } from "../../drivers/exec";
import type { CopyEndpoint } from "../../drivers/types";
import { ToolProbe } from "../../services/copy/choose";
import { CopyEngine } from "../../services/copy/engine";
import { combineDigests, EXTENT_CHUNK_BYTES } from "../../services/copy/plan";
import { flag, SEGMENT_PY } from "../../services/copy/scripts";
import type { CopyRequest } from "../../services/copy/types";
import { RecordingRunners as SharedRecordingRunners } from "../helpers/recordingRunners";
import {
  endpoint,
  extentsSha256,
  makeDest,
  makeSource,
  makeSparseSource,
  MiB,
  segmentedSha256,
  sha256File,
  supportsDirectIo,
  tempDir,
} from "./copy.helpers";
import { sshdRunnerSpec, startSshd, type TestSshd } from "./exec.sshd";

/** Records the commands the engine starts; segmentCommands() lists the segments' own. */
class RecordingRunners extends SharedRecordingRunners {
  /** The segment commands started, without the tool probes and samples. */
  segmentCommands(): string[] {
    return [...new Set(this.labels().filter((s) => !/ (probe|sample)$/.test(s)))].sort();
  }
}

const local = { kind: "local" } as const;
const SEG = 8 * MiB;
let dir: string;
let direct: boolean;
let hostA: TestSshd;
let hostB: TestSshd;

beforeAll(async () => {
  dir = tempDir("vms-copy-python-");
  direct = supportsDirectIo(dir);
  [hostA, hostB] = await Promise.all([startSshd(), startSshd()]);
});
afterAll(async () => {
  await Promise.all([hostA?.cleanup(), hostB?.cleanup()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

function files(name: string, size: number): { src: string; dst: string } {
  const src = path.join(dir, `${name}.src`);
  const dst = path.join(dir, `${name}.dst`);
  makeSource(src, size);
  makeDest(dst, size);
  return { src, dst };
}

/** Copies with the engine; returns its result and the segment commands it started. */
async function copy(
  hostPython: boolean,
  req: Omit<CopyRequest, "blockSize">,
  deps: { sshCiphers?: string } = {},
): Promise<{ result: Awaited<ReturnType<CopyEngine["copy"]>>; commands: string[] }> {
  const runners = new RecordingRunners();
  try {
    const result = await new CopyEngine({ runners, segmentBytes: SEG, hostPython, ...deps }).copy({
      blockSize: "1M",
      ...req,
    });
    return { result, commands: runners.segmentCommands() };
  } finally {
    await runners.close();
  }
}

describe.each([
  { transport: "auto", python: ["python3 copy", "python3 readback"], bash: ["bash readback", "bash write"] },
  {
    transport: "relay",
    python: ["python3 read", "python3 readback", "python3 write"],
    bash: ["bash read", "bash readback", "bash write"],
  },
] as const)("one host, transport $transport", ({ transport, python, bash }) => {
  test("python3 and the bash pipelines leave the same bytes and report the same digests", async () => {
    const size = 40 * MiB;
    const { src, dst } = files(`same-${transport}`, size);
    const req = {
      source: endpoint(local, src, size, direct),
      dest: endpoint(local, dst, size, direct),
      sizeBytes: size,
      transport,
    };
    const py = await copy(true, req);
    expect(py.commands).toEqual(python);
    expect(sha256File(dst)).toBe(sha256File(src));
    makeDest(dst, size);
    const sh = await copy(false, req);
    expect(sh.commands).toEqual(bash);
    expect(sha256File(dst)).toBe(sha256File(src));
    expect(py.result.sourceSha256).toBe(segmentedSha256(src, size, SEG));
    for (const r of [py.result, sh.result]) {
      expect(r.sourceSha256).toBe(py.result.sourceSha256);
      expect(r.destSha256).toBe(py.result.sourceSha256);
    }
  });
});

test("the probe resolves python3 to its interpreter, past any wrapper (a pyenv shim is a shell per start)", async () => {
  const runners = new RunnerFactory();
  try {
    const host = await new ToolProbe().host(local, runners.get(local));
    const executable = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], {
      encoding: "utf8",
    });
    expect(host.names.has("python3")).toBe(true);
    expect(host.python).toBe(executable.stdout.trim());
    expect([...host.names].some((n) => n.includes("="))).toBe(false);
  } finally {
    await runners.close();
  }
});

test("a sparse target: zero blocks are not written, the copy still reads equal", async () => {
  const size = 32 * MiB;
  const { src, dst } = files("sparse", size);
  const { commands } = await copy(true, {
    source: endpoint(local, src, size, direct),
    dest: { ...endpoint(local, dst, size, direct), sparseTarget: true },
    sizeBytes: size,
  });
  expect(commands).toContain("python3 copy");
  expect(sha256File(dst)).toBe(sha256File(src));
  // makeSource leaves a quarter of the volume zeros: that quarter is a hole on the destination.
  const allocated = fs.statSync(dst).blocks * 512;
  expect(allocated).toBeLessThanOrEqual(size * 0.76);
  expect(allocated).toBeGreaterThanOrEqual(size * 0.74);
});

test("a sparse source on one host: python3 reads only its data chunks and hashes the same records as perl", async () => {
  const size = 32 * MiB;
  const src = path.join(dir, "extents.src");
  const dst = path.join(dir, "extents.dst");
  // Block 20 is allocated but zero: read, yet neither hashed nor written.
  makeSparseSource(src, size, [0, 9, 31], [20]);
  const sparse = (file: string): CopyEndpoint => ({
    ...endpoint(local, file, size, false),
    sparseTarget: true,
    mapsData: true,
  });
  const whole = extentsSha256(src, size, SEG, EXTENT_CHUNK_BYTES);
  for (const [hostPython, commands] of [
    [true, ["python3 copy", "python3 readback"]],
    [false, ["bash readback", "bash write"]],
  ] as const) {
    makeDest(dst, size);
    const got = await copy(hostPython, { source: sparse(src), dest: sparse(dst), sizeBytes: size });
    expect(got.commands).toEqual(commands);
    expect(got.result).toMatchObject({ transport: "local", sourceSha256: whole, destSha256: whole });
    expect(sha256File(dst)).toBe(sha256File(src));
    expect(fs.statSync(dst).blocks * 512).toBeLessThanOrEqual(3 * MiB + 64 * 1024);
  }
});

test("on one CPU (taskset) the stages run in one thread: the same bytes, digests and records", async () => {
  const size = 24 * MiB;
  const { src, dst } = files("one-cpu", size);
  const run = (...args: (string | number)[]): { stdout: string; stderr: string } => {
    const r = spawnSync(
      "taskset",
      ["-c", "0", "python3", "-I", "-S", "-c", SEGMENT_PY, ...args.map(String)],
      {
        encoding: "utf8",
      },
    );
    expect(r.status).toBe(0);
    return { stdout: r.stdout, stderr: r.stderr };
  };
  const copied = run("copy", src, flag(direct), dst, flag(direct), MiB, 0, size, 0);
  expect(sha256File(dst)).toBe(sha256File(src));
  const digest = createHash("sha256").update(fs.readFileSync(src)).digest("hex");
  expect(copied.stderr).toContain(`vms-sha256 src ${digest}\nvms-sha256 dst ${digest}\n`);
  expect(copied.stdout).toMatch(new RegExp(`^${size} bytes copied$`, "m"));
  expect(run("readback", dst, flag(direct), MiB, 0, size).stdout).toBe(`vms-sha256 readback ${digest}\n`);
  // makeSource's zero quarter: its chunks are left out of the records, as perl leaves them out.
  const records = extentsSha256(dst, size, size, EXTENT_CHUNK_BYTES);
  const rb = run("readback", dst, "0", MiB, 0, size, "extents", EXTENT_CHUNK_BYTES).stdout;
  expect(combineDigests([/^vms-sha256 readback (\w+)$/m.exec(rb)![1]!])).toBe(records);
});

test("zero blocks are told from data in place: a lone byte at either end, all-0xFF and an odd tail are data", () => {
  const bs = 64 * 1024;
  const size = 8 * bs + 5;
  const src = path.join(dir, "zeros.src");
  const dst = path.join(dir, "zeros.dst");
  const data = Buffer.alloc(size);
  data.fill(0xff, bs, 2 * bs);
  data[3 * bs - 1] = 1;
  data[3 * bs] = 1;
  randomBytes(bs).copy(data, 5 * bs);
  data[size - 1] = 7;
  fs.writeFileSync(src, data);
  fs.rmSync(dst, { force: true });
  fs.writeFileSync(dst, "");
  fs.truncateSync(dst, size);
  // SPARSE 1 with 64 KiB blocks: blocks 0, 4, 6 and 7 are zeros and are not written.
  const r = spawnSync(
    "python3",
    ["-I", "-S", "-c", SEGMENT_PY, "copy", src, "0", dst, "0", bs, 0, size, "1"].map(String),
    { encoding: "utf8" },
  );
  expect(r.stderr).not.toContain("vms-copy:");
  expect(r.status).toBe(0);
  expect(fs.readFileSync(dst).equals(data)).toBe(true);
  // Four data blocks and the tail's file-system block; eight blocks if the zero ones were written.
  const allocated = fs.statSync(dst).blocks * 512;
  expect(allocated).toBeGreaterThanOrEqual(4 * bs);
  expect(allocated).toBeLessThanOrEqual(5 * bs);
});

test("a source shorter than the copy fails its segment with the reason, not a digest mismatch", async () => {
  const size = 16 * MiB;
  const { src, dst } = files("short", size);
  fs.truncateSync(src, 12 * MiB);
  const err = await copy(true, {
    source: endpoint(local, src, size, direct),
    dest: endpoint(local, dst, size, direct),
    sizeBytes: size,
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(VolumeMigrationFailed);
  expect((err as Error).message).toMatch(/segment 1 .*input ended at byte 4194304 of the segment's 8388608/);
});

test("a destination that cannot be opened fails with the system's reason", async () => {
  const size = 8 * MiB;
  const { src } = files("nodest", size);
  const err = await copy(true, {
    source: endpoint(local, src, size, direct),
    dest: endpoint(local, path.join(dir, "no-such-dir", "dst"), size, direct),
    sizeBytes: size,
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(VolumeMigrationFailed);
  expect((err as Error).message).toMatch(/vms-copy: .*No such file or directory/);
});

test("a limit set while a local copy runs is kept: the writer is told its share every second", async () => {
  const size = 16 * MiB;
  const { src, dst } = files("late-limit", size);
  const runners = new RecordingRunners();
  try {
    // No limit while the copy is planned (so nothing is relayed through this process); 4 MiB/s
    // from the moment its first writer starts.
    const writing = (): boolean => runners.labels().includes("python3 copy");
    const started = Date.now();
    const result = await new CopyEngine({ runners, segmentBytes: SEG }).copy({
      source: endpoint(local, src, size, direct),
      dest: endpoint(local, dst, size, direct),
      sizeBytes: size,
      blockSize: "1M",
      bpsLimit: () => (writing() ? 4 * MiB : null),
    });
    const seconds = (Date.now() - started) / 1000;
    expect(result.transport).toBe("local");
    expect(sha256File(dst)).toBe(sha256File(src));
    // 4 s at the limit (unlimited, a fraction of a second here).
    expect(seconds).toBeGreaterThan(3);
  } finally {
    await runners.close();
  }
});

test("a paced copy given a thin map reads the map up to its end line, then keeps to the limit after it", async () => {
  const size = 16 * MiB;
  const src = path.join(dir, "mapped-paced.src");
  const dst = path.join(dir, "mapped-paced.dst");
  const blocks = [0, 5, 11, 15];
  makeSparseSource(src, size, blocks);
  makeDest(dst, size);
  // As segment.ts writes it: thin.ts's map lines, `end`, then the limit (2 MiB/s) until EOF.
  const input = `${blocks.map((b) => `${b * MiB} ${MiB}\n`).join("")}end\n${2 * MiB}\n`;
  const started = Date.now();
  const r = spawnSync(
    "python3",
    [
      "-I",
      "-S",
      "-c",
      SEGMENT_PY,
      "copy",
      "--paced",
      src,
      "0",
      dst,
      "0",
      MiB,
      0,
      size,
      "extents",
      EXTENT_CHUNK_BYTES,
      "stdin",
    ].map(String),
    { input, encoding: "utf8" },
  );
  const seconds = (Date.now() - started) / 1000;
  expect(r.stderr).not.toContain("vms-copy:");
  expect(r.status).toBe(0);
  expect(sha256File(dst)).toBe(sha256File(src));
  const digest = /^vms-sha256 src (\w+)$/m.exec(r.stderr)?.[1];
  expect(combineDigests([digest!])).toBe(extentsSha256(src, size, size, EXTENT_CHUNK_BYTES));
  // The four mapped MiB at 2 MiB/s: about 2 s (unpaced, a few milliseconds).
  expect(seconds).toBeGreaterThan(1.5);
});

describe("between two hosts", () => {
  const volume = (h: TestSshd, file: string, size: number): CopyEndpoint => ({
    ...endpoint(sshdRunnerSpec(h), file, size, direct),
    authorizedKeysFile: path.join(h.dir, "authorized_keys"),
  });

  test.each([
    {
      transport: "relay",
      compression: "none",
      started: ["python3 read", "python3 readback", "python3 write"],
    },
    // The forced command's segment.py is started by its bash on the source (what the key allows).
    { transport: "direct", compression: "none", started: ["python3 readback", "python3 write"] },
    // Compressed: segment.py pipes into lz4 (pyRead.sh), and reads from lz4 -d on the other side.
    {
      transport: "relay",
      compression: "lz4",
      started: ["bash py-read", "python3 readback", "python3 write"],
    },
    { transport: "direct", compression: "zstd", started: ["python3 readback", "python3 write"] },
  ] as const)(
    "$transport, $compression: python3 on both hosts",
    async ({ transport, compression, started }) => {
      const size = 24 * MiB;
      const { src, dst } = files(`xhost-${transport}-${compression}`, size);
      const { result, commands } = await copy(true, {
        source: volume(hostA, src, size),
        dest: volume(hostB, dst, size),
        sizeBytes: size,
        transport,
        compression,
      });
      expect(result.transportNote ?? "").toBe("");
      expect(result).toMatchObject({ transport, compression });
      // Less the direct transport's key handling (add-key, key-dir, probe-direct, end-readers, …).
      expect(commands.filter((c) => /^python3 |^bash (read|write|py-read|readback)$/.test(c))).toEqual(
        started,
      );
      expect(sha256File(dst)).toBe(sha256File(src));
      expect(result.sourceSha256).toBe(segmentedSha256(src, size, SEG));
      expect(result.destSha256).toBe(result.sourceSha256);
    },
  );

  test("the direct transport's ssh offers the configured ciphers: one the source's sshd refuses means relay", async () => {
    const size = 8 * MiB;
    const { src, dst } = files("xhost-cipher", size);
    const req = { source: volume(hostA, src, size), dest: volume(hostB, dst, size), sizeBytes: size };
    const refused = await copy(true, req, { sshCiphers: "3des-cbc" });
    expect(refused.result.transport).toBe("relay");
    expect(refused.result.transportNote).toMatch(/direct transport unusable/);
    const chacha = await copy(true, req, { sshCiphers: "chacha20-poly1305@openssh.com" });
    expect(chacha.result.transport).toBe("direct");
    expect(sha256File(dst)).toBe(sha256File(src));
  });

  test("direct under a bandwidth limit: the destination's writer paces itself", async () => {
    const size = 24 * MiB;
    const { src, dst } = files("xhost-limit", size);
    const started = Date.now();
    const { result, commands } = await copy(true, {
      source: volume(hostA, src, size),
      dest: volume(hostB, dst, size),
      sizeBytes: size,
      compression: "none",
      bpsLimit: () => 8 * MiB,
    });
    const seconds = (Date.now() - started) / 1000;
    expect(result.transportNote ?? "").toBe("");
    expect(result.transport).toBe("direct");
    expect(commands).toContain("python3 write");
    expect(sha256File(dst)).toBe(sha256File(src));
    // 3 s at the limit; never faster than the limit allows.
    expect(seconds).toBeGreaterThan(2.5);
  });
});
