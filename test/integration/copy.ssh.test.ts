/**
 * The copy engine between two "hosts": two real OpenSSH servers on loopback ports, each with its
 * own host keys and authorized_keys, reached through the SSH runner.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { RunnerFactory } from "../../drivers/exec";
import type { CopyEndpoint } from "../../drivers/types";
import { CopyEngine } from "../../services/copy/engine";
import { forcedCommandArgv } from "../../services/copy/scripts";
import { waitFor } from "../helpers/stack";
import { endpoint, makeDest, makeSource, MiB, sha256File, supportsDirectIo, tempDir } from "./copy.helpers";
import { sshdRunnerSpec, startSshd, type TestSshd } from "./exec.sshd";

let hostA: TestSshd;
let hostB: TestSshd;
let dir: string;
let direct: boolean;
let runners: RunnerFactory;

function volume(h: TestSshd, file: string, size: number): CopyEndpoint {
  return {
    ...endpoint(sshdRunnerSpec(h), file, size, direct),
    authorizedKeysFile: path.join(h.dir, "authorized_keys"),
  };
}

beforeAll(async () => {
  [hostA, hostB] = await Promise.all([startSshd(), startSshd()]);
  dir = tempDir("vms-copy-ssh-");
  direct = supportsDirectIo(dir);
  runners = new RunnerFactory();
});
afterAll(async () => {
  await runners?.close();
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

const keyDirs = (): string[] =>
  fs.readdirSync(process.env.TMPDIR ?? "/tmp").filter((n) => n.startsWith("vms-copy."));

test("relay between two hosts; auto compression picks lz4 across hosts", async () => {
  const size = 48 * MiB;
  const { src, dst } = files("relay", size);
  const result = await new CopyEngine({ runners, segmentBytes: 16 * MiB }).copy({
    source: volume(hostA, src, size),
    dest: volume(hostB, dst, size),
    sizeBytes: size,
    blockSize: "1M",
    transport: "relay",
  });
  expect(result).toMatchObject({ transport: "relay", compression: "lz4" });
  expect(sha256File(dst)).toBe(sha256File(src));
  expect(result.destSha256).toBe(result.sourceSha256);
});

test("direct: the destination reads from the source with a one-copy key that can do nothing else", async () => {
  const size = 48 * MiB;
  const { src, dst } = files("direct", size);
  const keysFile = path.join(hostA.dir, "authorized_keys");
  const keysBefore = fs.readFileSync(keysFile, "utf8");
  const dirsBefore = keyDirs();
  const seen: { keyDir: string; line: string }[] = [];
  const attempts: ReturnType<typeof spawnSync>[] = [];
  const result = await new CopyEngine({ runners, segmentBytes: 16 * MiB }).copy({
    source: volume(hostA, src, size),
    dest: volume(hostB, dst, size),
    sizeBytes: size,
    blockSize: "1M",
    compression: "zstd",
    hooks: {
      directKeyInstalled: async ({ keyDir, authorizedKeysLine }) => {
        seen.push({ keyDir, line: authorizedKeysLine });
        expect(fs.statSync(path.join(keyDir, "key")).mode & 0o777).toBe(0o600);
        expect(fs.readFileSync(keysFile, "utf8")).toContain(authorizedKeysLine);
        // The key holder tries other commands and an out-of-range read: all refused.
        const ssh = (cmd: string): ReturnType<typeof spawnSync> =>
          spawnSync(
            "ssh",
            [
              ...[
                "-F",
                "none",
                "-i",
                path.join(keyDir, "key"),
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
              ],
              ...[
                "-o",
                `UserKnownHostsFile=${path.join(keyDir, "known_hosts")}`,
                "-o",
                "StrictHostKeyChecking=yes",
              ],
              ...["-p", String(hostA.port), "-l", hostA.username, "127.0.0.1", cmd],
            ],
            { encoding: "utf8", timeout: 20_000 },
          );
        attempts.push(ssh("id"), ssh(`cat ${keysFile}`), ssh(`read 0 ${size + MiB}`), ssh("read 1 5; id"));
      },
    },
  });
  expect(result).toMatchObject({ transport: "direct", compression: "zstd" });
  expect(sha256File(dst)).toBe(sha256File(src));
  expect(result.destSha256).toBe(result.sourceSha256);
  expect(seen).toHaveLength(1);
  expect(seen[0]!.line).toMatch(
    /^restrict,command="'bash' '-c' .*",from="127\.0\.0\.1" ssh-ed25519 \S+ vms-copy-[0-9a-f]{16}$/,
  );
  for (const a of attempts) {
    expect(a.status).toBe(126);
    expect(a.stdout).toBe("");
    expect(a.stderr).toMatch(/vms-copy: (request|segment) refused/);
  }
  // Everything the copy installed is gone. (Only its own key dir is looked for: other test files
  // running beside this one make and remove key dirs in the same temp dir.)
  expect(fs.readFileSync(keysFile, "utf8")).toBe(keysBefore);
  expect(fs.existsSync(seen[0]!.keyDir)).toBe(false);
  expect(dirsBefore).not.toContain(path.basename(seen[0]!.keyDir));
  expect(keyDirs()).not.toContain(path.basename(seen[0]!.keyDir));
});

/** The argv of an ssh client using the copy's key (in KEY_DIR) against host-a. */
function copyKeySsh(keyDir: string, cmd: string): string[] {
  return [
    ...["-F", "none", "-i", path.join(keyDir, "key"), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"],
    ...["-o", `UserKnownHostsFile=${path.join(keyDir, "known_hosts")}`, "-o", "StrictHostKeyChecking=yes"],
    ...["-p", String(hostA.port), "-l", hostA.username, "127.0.0.1", cmd],
  ];
}

const pgrep = (pattern: string): string =>
  spawnSync("pgrep", ["-f", "--", pattern], { encoding: "utf8" }).stdout.trim();

test("a reader whose destination stopped reading (a network cut) is ended when the copy ends", async () => {
  const size = 16 * MiB;
  const { src, dst } = files("stranded", size);
  const keysFile = path.join(hostA.dir, "authorized_keys");
  const keysBefore = fs.readFileSync(keysFile, "utf8");
  let tag = "";
  let stranded: ChildProcess | undefined;
  try {
    const result = await new CopyEngine({ runners, segmentBytes: 8 * MiB }).copy({
      source: volume(hostA, src, size),
      dest: volume(hostB, dst, size),
      sizeBytes: size,
      blockSize: "1M",
      compression: "none",
      transport: "direct",
      hooks: {
        directKeyInstalled: async ({ keyDir, authorizedKeysLine }) => {
          tag = authorizedKeysLine.split(" ").pop()!;
          // A whole-volume read whose client is frozen once bytes flow: the source's dd blocks
          // on a full pipe and sshd keeps the session, as after a cut nobody has noticed yet.
          const child = spawn("ssh", copyKeySsh(keyDir, `read 0 ${size}`), {
            stdio: ["ignore", "pipe", "ignore"],
          });
          stranded = child;
          await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
          child.kill("SIGSTOP");
          expect(pgrep(` ${tag}$`)).not.toBe("");
        },
      },
    });
    expect(result).toMatchObject({ transport: "direct" });
    expect(sha256File(dst)).toBe(sha256File(src));
    expect(tag).toMatch(/^vms-copy-[0-9a-f]{16}$/);
    // Nothing of that copy runs on the source any more (SIGTERM to the session's process group).
    await waitFor(
      async () => (pgrep(` ${tag}$`) === "" ? true : undefined),
      "the stranded reader ended",
      10_000,
      100,
    );
    // And the key went first: ending the readers must not end the cleanup's own commands.
    expect(fs.readFileSync(keysFile, "utf8")).toBe(keysBefore);
  } finally {
    stranded?.kill("SIGKILL");
  }
});

test("auto transport goes direct between two SSH hosts, under a limit too unless the destination cannot pace", async () => {
  const size = 16 * MiB;
  const { src, dst } = files("auto", size);
  const engine = new CopyEngine({ runners, segmentBytes: 8 * MiB });
  const req = {
    source: volume(hostA, src, size),
    dest: volume(hostB, dst, size),
    sizeBytes: size,
    blockSize: "1M",
  };
  expect(await engine.copy(req)).toMatchObject({ transport: "direct", compression: "lz4" });
  // The destination's segment.py keeps to the limit (compressed: it counts what it writes).
  expect(await engine.copy({ ...req, bpsLimit: () => 64 * MiB })).toMatchObject({ transport: "direct" });
  expect(sha256File(dst)).toBe(sha256File(src));
  // Without python3 there the bytes go through this process, which paces them.
  const noPython = new CopyEngine({ runners, segmentBytes: 8 * MiB, hostPython: false });
  const limited = await noPython.copy({ ...req, bpsLimit: () => 64 * MiB });
  expect(limited).toMatchObject({ transport: "relay" });
  expect(limited.transportNote).toMatch(/bandwidth limit/);
  expect(sha256File(dst)).toBe(sha256File(src));
});

test("direct falls back to relay when the destination cannot reach the source, and cleans up", async () => {
  const size = 16 * MiB;
  const { src, dst } = files("fallback", size);
  const keysFile = path.join(hostA.dir, "authorized_keys");
  const keysBefore = fs.readFileSync(keysFile, "utf8");
  // Nothing listens on 127.0.0.2 at that port: the destination's ssh cannot connect.
  const source = { ...volume(hostA, src, size), dataAddress: "127.0.0.2" };
  const result = await new CopyEngine({ runners }).copy({
    source,
    dest: volume(hostB, dst, size),
    sizeBytes: size,
    blockSize: "1M",
    transport: "direct",
  });
  expect(result.transport).toBe("relay");
  expect(result.transportNote).toMatch(/direct transport unusable/);
  expect(sha256File(dst)).toBe(sha256File(src));
  expect(fs.readFileSync(keysFile, "utf8")).toBe(keysBefore);
});

test.each([
  ["segment.py", "python3"],
  ["dd | tee", null],
])("the forced command (reading with %s) refuses hostile requests before running anything", (_, python) => {
  const src = path.join(dir, `forced-${python}.src`);
  makeSource(src, 4 * MiB);
  const marker = path.join(dir, "pwned");
  const [cmd, ...args] = forcedCommandArgv(src, MiB, 4 * MiB, false, "none", python, "vms-copy-0f");
  const run = (req: string): ReturnType<typeof spawnSync> =>
    spawnSync(cmd!, args, {
      env: { ...process.env, SSH_ORIGINAL_COMMAND: req },
      encoding: "buffer",
      maxBuffer: 16 * MiB,
    });
  for (const hostile of [
    `read 0 1; touch ${marker}`,
    `read 0 1 $(touch ${marker})`,
    `read 0 \`touch ${marker}\``,
    "read 0 1\ntouch x",
    "read -1 5",
    "read 0x10 5",
    "read 1 5", // not block-aligned
    `read ${3 * MiB} ${2 * MiB}`, // past the end
    "read 99999999999999999999 1",
    "id",
    "",
  ]) {
    const r = run(hostile);
    expect({ hostile, status: r.status, out: r.stdout.length }).toEqual({ hostile, status: 126, out: 0 });
  }
  expect(fs.existsSync(marker)).toBe(false);
  const ok = run(`read ${MiB} ${2 * MiB}`);
  expect(ok.status).toBe(0);
  expect(ok.stdout.length).toBe(2 * MiB);
  const want = execFileSync("bash", [
    "-c",
    'dd if="$1" bs=1M skip=1 count=2 status=none | sha256sum',
    "x",
    src,
  ])
    .toString()
    .split(" ")[0];
  expect(ok.stderr.toString()).toContain(`vms-sha256 src ${want}`);
});
