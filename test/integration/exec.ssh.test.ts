import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

import { CommandError, RunnerFactory, SshRunner } from "../../drivers/exec";
import type { SshRunnerSpec } from "../../drivers/exec/types";
import { CopyEngine as DdCopier } from "../../services/copy/engine";
import { HOSTILE } from "../unit/exec.hostile";
import { recordingLogger, startSshd, type TestSshd } from "./exec.sshd";

const MiB = 1024 * 1024;
let sshd: TestSshd;
let runner: SshRunner;
let log: ReturnType<typeof recordingLogger>;

beforeAll(async () => {
  sshd = await startSshd();
  log = recordingLogger();
  runner = new SshRunner({
    host: "127.0.0.1",
    port: sshd.port,
    username: sshd.username,
    privateKey: sshd.clientKey,
    knownHostsFile: sshd.write("known_hosts", `${sshd.knownHostsLine("ed25519")}\n`),
    readyTimeoutMs: 10_000,
    keepaliveIntervalMs: 5_000,
    logger: log.logger,
  });
});
afterAll(async () => {
  await runner?.close();
  await sshd?.cleanup();
});

test("runs an argv and returns its stdout; stdin gets the input and then EOF", async () => {
  expect(runner.where).toBe(`${sshd.username}@127.0.0.1:${sshd.port}`);
  await expect(runner.run(["echo", "hello", "world"])).resolves.toEqual({
    stdout: "hello world\n",
    stderr: "",
    exitCode: 0,
  });
  expect((await runner.run(["cat"], { input: "from stdin" })).stdout).toBe("from stdin");
  expect((await runner.run(["wc", "-c"])).stdout.trim()).toBe("0");
});

test("a non-zero exit rejects with a CommandError keeping argv, exit code, stderr and where", async () => {
  const argv = ["sh", "-c", "echo partial; echo 'disk on fire' >&2; exit 5"];
  const err = (await runner.run(argv).catch((e: unknown) => e)) as CommandError;
  expect(err).toBeInstanceOf(CommandError);
  expect(err).toMatchObject({ argv, exitCode: 5, stderr: "disk on fire\n", where: runner.where });
  expect(err.message).toContain("exited with 5");

  const missing = (await runner.run(["no-such-command-vms"]).catch((e: unknown) => e)) as CommandError;
  expect(missing.exitCode).toBe(127);
  expect(missing.stderr).toContain("no-such-command-vms");
});

test("a command killed by a signal rejects with exit code null and the signal's name", async () => {
  const err = (await runner.run(["sh", "-c", "kill -TERM $$"]).catch((e: unknown) => e)) as CommandError;
  expect(err).toBeInstanceOf(CommandError);
  expect(err.exitCode).toBeNull();
  expect(err.message).toContain("was killed by SIGTERM");
});

test("hostile arguments reach the remote command exactly as given", async () => {
  const { stdout } = await runner.run(["printf", "%s\\0", ...HOSTILE]);
  expect(stdout.split("\0").slice(0, -1)).toEqual(HOSTILE);
  expect(fs.existsSync("/tmp/vms-quote-pwned")).toBe(false);
});

test("forty concurrent commands share one connection, at most eight channels at a time", async () => {
  const connectsBefore = log.messages.filter((m) => m === "ssh connected").length;
  const script = 'echo "$(date +%s%N) $(sleep 0.3; date +%s%N)"';
  const started = Date.now();
  const results = await Promise.all(Array.from({ length: 40 }, () => runner.run(["sh", "-c", script])));
  const elapsed = Date.now() - started;
  const spans = results.map((r) => r.stdout.trim().split(" ").map(BigInt));
  const overlap = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a! <= s! && s! < b!).length));
  expect(overlap).toBeGreaterThan(1);
  expect(overlap).toBeLessThanOrEqual(8);
  expect(elapsed).toBeLessThan(40 * 300);
  expect(log.messages.filter((m) => m === "ssh connected").length).toBe(connectsBefore);
});

test("spawn() streams 64 MiB through a remote cat with matching sha256", async () => {
  const data = randomBytes(64 * MiB);
  const cmd = runner.spawn(["cat"]);
  const hash = createHash("sha256");
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb();
    },
  });
  const chunks = (function* () {
    for (let off = 0; off < data.length; off += MiB) {
      yield data.subarray(off, off + MiB);
    }
  })();
  await Promise.all([pipeline(Readable.from(chunks), cmd.stdin), pipeline(cmd.stdout, sink), cmd.wait()]);
  expect(bytes).toBe(data.length);
  expect(hash.digest("hex")).toBe(createHash("sha256").update(data).digest("hex"));
});

test("the dd copy engine copies between two SSH endpoints (reader and writer channels piped)", async () => {
  const spec: SshRunnerSpec = {
    kind: "ssh",
    host: "127.0.0.1",
    port: sshd.port,
    username: sshd.username,
    privateKeyPath: sshd.clientKey,
    hostKeySha256: sshd.fingerprint("ed25519"),
  };
  const src = path.join(sshd.dir, "src.img");
  const dst = path.join(sshd.dir, "dst.img");
  fs.writeFileSync(src, randomBytes(8 * MiB));
  fs.writeFileSync(dst, Buffer.alloc(0));
  const factory = new RunnerFactory();
  try {
    const ep = (p: string) => ({
      runner: spec,
      path: p,
      sizeBytes: 8 * MiB,
      directIo: false,
      sparseTarget: false,
    });
    const result = await new DdCopier({ runners: factory }).copy({
      source: ep(src),
      dest: ep(dst),
      sizeBytes: 8 * MiB,
      blockSize: "1M",
    });
    expect(result.bytes).toBe(8 * MiB);
    expect(result.destSha256).toBe(result.sourceSha256);
    expect(fs.readFileSync(dst).equals(fs.readFileSync(src))).toBe(true);
  } finally {
    await factory.close();
  }
});
