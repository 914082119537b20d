import { createHash } from "node:crypto";

import type { CopyEndpoint } from "../../drivers/types";
import { chooseCompression, chooseTransport, directBlocker, fromAddress } from "../../services/copy/choose";
import { authorizedKeysLine } from "../../services/copy/direct";
import { RateWindow, TokenBucket } from "../../services/copy/meter";
import {
  checkpointOf,
  combineDigests,
  parseBlockSize,
  planSegments,
  resumableDigests,
} from "../../services/copy/plan";
import { parseDigests } from "../../services/copy/scripts";
import type { CopyRequest } from "../../services/copy/types";

const MiB = 1024 * 1024;
const d = (s: string): string => createHash("sha256").update(s).digest("hex");

test("block sizes: dd's binary and decimal suffixes; anything else is refused", () => {
  expect(parseBlockSize("1M")).toBe(MiB);
  expect(parseBlockSize("4096")).toBe(4096);
  expect(parseBlockSize("512K")).toBe(512 * 1024);
  expect(parseBlockSize("1MB")).toBe(1e6);
  expect(() => parseBlockSize("1M; rm -rf /")).toThrow(/not a dd size/);
  expect(() => parseBlockSize("0")).toThrow(/out of range/);
});

test("segments are whole blocks, the last one shorter; an odd size is one segment", () => {
  expect(planSegments(10 * MiB, MiB, 4 * MiB)).toEqual([
    { index: 0, offset: 0, length: 4 * MiB },
    { index: 1, offset: 4 * MiB, length: 4 * MiB },
    { index: 2, offset: 8 * MiB, length: 2 * MiB },
  ]);
  expect(planSegments(8 * MiB, 3 * MiB, 4 * MiB)).toEqual([{ index: 0, offset: 0, length: 8 * MiB }]);
  expect(planSegments(12 * MiB, 3 * MiB, 4 * MiB).map((s) => s.length)).toEqual([
    3 * MiB,
    3 * MiB,
    3 * MiB,
    3 * MiB,
  ]);
});

test("a checkpoint resumes only the copy it was made for", () => {
  const plan = planSegments(16 * MiB, MiB, 4 * MiB);
  const cp = checkpointOf(plan, 16 * MiB, [d("a"), d("b")]);
  expect(cp.offset).toBe(8 * MiB);
  expect(resumableDigests(cp, plan, 16 * MiB)).toEqual([d("a"), d("b")]);
  // Another segment size, another volume size, damaged state, an offset inside a segment: start over.
  expect(resumableDigests(cp, planSegments(16 * MiB, MiB, 2 * MiB), 16 * MiB)).toBeNull();
  expect(resumableDigests(cp, planSegments(20 * MiB, MiB, 4 * MiB), 20 * MiB)).toBeNull();
  expect(
    resumableDigests({ ...cp, state: { ...(cp.state as object), digests: ["x"] } }, plan, 16 * MiB),
  ).toBeNull();
  expect(resumableDigests({ ...cp, offset: 6 * MiB }, plan, 16 * MiB)).toBeNull();
  expect(resumableDigests(undefined, plan, 16 * MiB)).toBeNull();
});

test("the volume checksum is sha256 over the segment digests, in order", () => {
  const whole = createHash("sha256")
    .update(Buffer.concat([Buffer.from(d("a"), "hex"), Buffer.from(d("b"), "hex")]))
    .digest("hex");
  expect(combineDigests([d("a"), d("b")])).toBe(whole);
  expect(combineDigests([d("b"), d("a")])).not.toBe(whole);
});

test("digests are read only from whole `vms-sha256 <side> <hex>` lines", () => {
  const text = `noise vms-sha256 src ${d("x")}\nvms-sha256 src ${d("a")}\nvms-sha256 dst ${d("b")}\n`;
  expect(Object.fromEntries(parseDigests(text))).toEqual({ src: d("a"), dst: d("b") });
});

const ssh = (host: string, port = 22): CopyEndpoint["runner"] => ({
  kind: "ssh",
  host,
  port,
  username: "root",
  privateKeyPath: "/k",
  hostKeySha256: "SHA256:x",
});
const ep = (runner: CopyEndpoint["runner"], path = "/dev/vg/volume-1"): CopyEndpoint => ({
  runner,
  path,
  sizeBytes: MiB,
  directIo: true,
  sparseTarget: false,
});

test("auto compression: none on one host, else lz4 then zstd when both hosts have it", () => {
  const both = new Set(["lz4", "zstd"]);
  expect(chooseCompression("auto", true, both, both)).toBe("none");
  expect(chooseCompression(undefined, false, both, both)).toBe("lz4");
  expect(chooseCompression("auto", false, new Set(["zstd", "lz4"]), new Set(["zstd"]))).toBe("zstd");
  expect(chooseCompression("auto", false, new Set(["gzip"]), new Set(["gzip"]))).toBe("none");
  expect(chooseCompression("gzip", true, both, both)).toBe("gzip");
});

test("auto transport: direct only between two SSH hosts with ssh, a plain path, and no limit unless the writer paces", () => {
  const tools = new Set(["ssh"]);
  const req = (over: Partial<CopyRequest>): CopyRequest => ({
    source: ep(ssh("10.0.0.1")),
    dest: ep(ssh("10.0.0.2")),
    sizeBytes: MiB,
    blockSize: "1M",
    ...over,
  });
  expect(directBlocker(req({}), tools, false)).toBeNull();
  expect(chooseTransport(req({}), null)).toBe("direct");
  expect(chooseTransport(req({ transport: "relay" }), null)).toBe("relay");
  expect(directBlocker(req({ source: ep({ kind: "local" }) }), tools, false)).toMatch(/SSH runners/);
  expect(directBlocker(req({ dest: ep(ssh("10.0.0.1")) }), tools, false)).toMatch(/one host/);
  expect(directBlocker(req({}), new Set(), false)).toMatch(/no ssh client/);
  expect(directBlocker(req({ bpsLimit: () => MiB }), tools, false)).toMatch(/bandwidth limit/);
  expect(directBlocker(req({ bpsLimit: () => MiB }), tools, true)).toBeNull();
  expect(directBlocker(req({ bpsLimit: () => null }), tools, false)).toBeNull();
  expect(directBlocker(req({ source: ep(ssh("10.0.0.1"), '/dev/vg/a"b') }), tools, false)).toMatch(
    /forced command/,
  );
  expect(fromAddress(ep(ssh("storage-b.example")))).toBeNull();
  expect(fromAddress({ ...ep(ssh("storage-b.example")), dataAddress: "192.0.2.7" })).toBe("192.0.2.7");
});

test("authorized_keys line: restrict, the forced command with its quotes escaped, from= when known", () => {
  const line = authorizedKeysLine(`'bash' '-c' 'echo "$1"' 'x'`, "ssh-ed25519 AAAA vms-copy-00", "10.0.0.2");
  expect(line).toBe(
    `restrict,command="'bash' '-c' 'echo \\"$1\\"' 'x'",from="10.0.0.2" ssh-ed25519 AAAA vms-copy-00`,
  );
  expect(authorizedKeysLine("true", "ssh-ed25519 AAAA c", null)).toBe(
    'restrict,command="true" ssh-ed25519 AAAA c',
  );
  expect(() => authorizedKeysLine("a\nb", "k", null)).toThrow(/one line/);
});

test("token bucket: no limit passes at once; a limit makes takers wait off their debt", async () => {
  const signal = new AbortController().signal;
  const free = new TokenBucket(() => null);
  const t0 = Date.now();
  await free.take(100 * MiB, signal);
  expect(Date.now() - t0).toBeLessThan(50);
  const limited = new TokenBucket(() => 10 * MiB);
  const t1 = Date.now();
  await limited.take(3 * MiB, signal);
  expect(Date.now() - t1).toBeGreaterThanOrEqual(250);
  expect(Date.now() - t1).toBeLessThan(600);
});

test("recent rate over a sliding window", () => {
  const w = new RateWindow(5000);
  expect(w.add(0, 0)).toBe(0);
  expect(w.add(10 * MiB, 1000)).toBe(10 * MiB);
  expect(w.add(20 * MiB, 2000)).toBe(10 * MiB);
  // After a stall, the old samples drop out of the window.
  expect(w.add(20 * MiB, 8000)).toBeLessThan(2 * MiB);
});
