import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import { silentLogger } from "../../common/logger";
import {
  CommandError,
  isSshConnectFailure,
  SshConnectError,
  SshRunner,
  type SshRunnerOptions,
} from "../../drivers/exec";
import { startSshd, type TestSshd } from "./exec.sshd";

let sshd: TestSshd;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.cleanup();
});

type Check = Pick<SshRunnerOptions, "knownHostsFile" | "hostKeySha256">;

/** Runs `touch <marker>` through a fresh runner; returns the error, if any, and whether it ran. */
async function tryCommand(check: Check, extra: Partial<SshRunnerOptions> = {}) {
  const marker = path.join(sshd.dir, `ran-${Math.random().toString(36).slice(2)}`);
  const runner = new SshRunner({
    host: "127.0.0.1",
    port: sshd.port,
    username: sshd.username,
    privateKey: sshd.clientKey,
    readyTimeoutMs: 5000,
    logger: silentLogger(),
    ...check,
    ...extra,
  });
  try {
    const error = await runner.run(["touch", marker]).then(
      () => null,
      (e: unknown) => e as CommandError,
    );
    return { error, ran: fs.existsSync(marker) };
  } finally {
    await runner.close();
  }
}

const knownHosts = (name: string, ...lines: string[]): string => sshd.write(name, `${lines.join("\n")}\n`);

function expectRefused(result: { error: CommandError | null; ran: boolean }, failure: string): void {
  expect(result.ran).toBe(false);
  expect(result.error).toBeInstanceOf(CommandError);
  expect(result.error!.exitCode).toBeNull();
  expect(result.error!.cause).toBeInstanceOf(SshConnectError);
  expect((result.error!.cause as SshConnectError).failure).toBe(failure);
  expect(isSshConnectFailure(result.error, failure as SshConnectError["failure"])).toBe(true);
}

test("the host's key in known_hosts, plain or hashed by ssh-keygen -H, is accepted", async () => {
  expect(await tryCommand({ knownHostsFile: knownHosts("kh-ok", sshd.knownHostsLine("ed25519")) })).toEqual({
    error: null,
    ran: true,
  });
  const hashed = knownHosts("kh-hashed", sshd.knownHostsLine("ed25519"));
  execFileSync("ssh-keygen", ["-H", "-f", hashed], { stdio: "ignore" });
  expect(fs.readFileSync(hashed, "utf8")).toMatch(/^\|1\|/);
  expect(await tryCommand({ knownHostsFile: hashed })).toEqual({ error: null, ran: true });
});

test("known_hosts listing only the host's ECDSA key: that key type is asked for and accepted", async () => {
  expect(await tryCommand({ knownHostsFile: knownHosts("kh-ecdsa", sshd.knownHostsLine("ecdsa")) })).toEqual({
    error: null,
    ran: true,
  });
});

test("known_hosts with another key for the host is refused before any command runs", async () => {
  const result = await tryCommand({ knownHostsFile: knownHosts("kh-wrong", sshd.knownHostsLine("other")) });
  expectRefused(result, "host-key");
  expect(result.error!.message).toContain("does not match");
});

test("a revoked key, or no entry for this host and port, is refused", async () => {
  const revoked = knownHosts(
    "kh-revoked",
    sshd.knownHostsLine("ed25519"),
    `@revoked * ${sshd.knownHostsLine("ed25519").split(" ").slice(1).join(" ")}`,
  );
  expectRefused(await tryCommand({ knownHostsFile: revoked }), "host-key");
  const otherPort = sshd.knownHostsLine("ed25519").replace(`]:${sshd.port} `, `]:${sshd.port + 1} `);
  const result = await tryCommand({ knownHostsFile: knownHosts("kh-port", otherPort) });
  expectRefused(result, "host-key");
  expect(result.error!.message).toContain("no usable host key");
});

test("a pinned fingerprint: the right one of either key type connects, a wrong one is refused", async () => {
  expect(await tryCommand({ hostKeySha256: sshd.fingerprint("ed25519") })).toEqual({
    error: null,
    ran: true,
  });
  // ssh2 prefers ED25519; the pin names the ECDSA key, found on a second handshake.
  expect(await tryCommand({ hostKeySha256: sshd.fingerprint("ecdsa") })).toEqual({ error: null, ran: true });
  expectRefused(await tryCommand({ hostKeySha256: sshd.fingerprint("other") }), "host-key");
});

test("a key the server does not authorise fails as auth, at once, without retries", async () => {
  const started = Date.now();
  const result = await tryCommand(
    { hostKeySha256: sshd.fingerprint("ed25519") },
    { privateKey: fs.readFileSync(path.join(sshd.dir, "other_ed25519")) },
  );
  expectRefused(result, "auth");
  expect(Date.now() - started).toBeLessThan(3000);
});

test("a missing key file or known_hosts file is reported by path", async () => {
  const noKey = await tryCommand(
    { hostKeySha256: sshd.fingerprint("ed25519") },
    { privateKey: "/nonexistent/id" },
  );
  expectRefused(noKey, "setup");
  expect(noKey.error!.message).toContain("/nonexistent/id");
  const noKh = await tryCommand({ knownHostsFile: "/nonexistent/known_hosts" });
  expectRefused(noKh, "setup");
  expect(noKh.error!.message).toContain("/nonexistent/known_hosts");
});

test("nothing listening: network failures are retried a bounded number of times, then reported", async () => {
  await sshd.stop();
  try {
    const started = Date.now();
    const result = await tryCommand({ hostKeySha256: sshd.fingerprint("ed25519") }, { connectAttempts: 2 });
    expectRefused(result, "network");
    expect(result.error!.message).toContain("ECONNREFUSED");
    // One pause of 500 ms between the two attempts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    expect(Date.now() - started).toBeLessThan(5000);
  } finally {
    await sshd.start();
  }
});
