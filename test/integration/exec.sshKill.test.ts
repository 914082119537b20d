import { execFileSync } from "node:child_process";

import { silentLogger } from "../../common/logger";
import { CommandError, SshRunner } from "../../drivers/exec";
import { nonRootLoginUser, startSshd, type TestSshd } from "./exec.sshd";

/** Processes on this machine (the test's sshd runs the commands here) whose argv contains `text`. */
function processesMatching(text: string): string[] {
  const out = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
  return out.split("\n").filter((l) => l.includes(text) && !l.startsWith("ps "));
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) {
      return false;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

const marker = (): string => `vms-kill-${process.pid}-${Math.random().toString(36).slice(2)}`;

async function runnerFor(sshd: TestSshd): Promise<SshRunner> {
  return new SshRunner({
    host: "127.0.0.1",
    port: sshd.port,
    username: sshd.username,
    privateKey: sshd.clientKey,
    hostKeySha256: sshd.fingerprint("ed25519"),
    logger: silentLogger(),
  });
}

describe("as the test's own user", () => {
  let sshd: TestSshd;
  let runner: SshRunner;
  beforeAll(async () => {
    sshd = await startSshd();
    runner = await runnerFor(sshd);
  });
  afterAll(async () => {
    await runner?.close();
    await sshd?.cleanup();
  });

  test("a timeout rejects promptly and kills the remote command", async () => {
    const name = marker();
    const started = Date.now();
    const script = "while :; do echo tick; sleep 0.1; done";
    const err = (await runner
      .run(["sh", "-c", script, name], { timeoutMs: 700 })
      .catch((e: unknown) => e)) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect(err.message).toContain("timed out");
    expect(err.exitCode).toBeNull();
    expect(Date.now() - started).toBeLessThan(2500);
    expect(await waitUntil(() => processesMatching(name).length === 0, 5000)).toBe(true);
  });

  test("kill() and an AbortSignal stop a spawned command whose output nobody reads", async () => {
    const name = marker();
    const spawned = runner.spawn(["yes", name]);
    await waitUntil(() => processesMatching(name).length > 0, 5000);
    spawned.kill();
    await expect(spawned.wait()).rejects.toThrow("was killed");
    expect(await waitUntil(() => processesMatching(name).length === 0, 5000)).toBe(true);

    const ac = new AbortController();
    const cancelled = runner.spawn(["yes", `${name}-2`], { signal: ac.signal });
    await waitUntil(() => processesMatching(`${name}-2`).length > 0, 5000);
    ac.abort();
    await expect(cancelled.wait()).rejects.toThrow("was cancelled");
    expect(await waitUntil(() => processesMatching(name).length === 0, 5000)).toBe(true);
  });

  test("commands outliving their timeout hold their session; later commands wait, not fail", async () => {
    const timedOut = await Promise.allSettled(
      Array.from({ length: 12 }, () => runner.run(["sleep", "1.5"], { timeoutMs: 300 })),
    );
    expect(timedOut.every((r) => r.status === "rejected")).toBe(true);
    await expect(runner.run(["echo", "still fine"], { timeoutMs: 15_000 })).resolves.toMatchObject({
      stdout: "still fine\n",
    });
  });
});

const user = nonRootLoginUser();
(user ? describe : describe.skip)(`as a non-root user (${user}), where sshd honours signals`, () => {
  let sshd: TestSshd;
  let runner: SshRunner;
  beforeAll(async () => {
    sshd = await startSshd({ user: user! });
    runner = await runnerFor(sshd);
  });
  afterAll(async () => {
    await runner?.close();
    await sshd?.cleanup();
  });

  test("a timeout kills even a command that never reads or writes", async () => {
    const seconds = `41.${Date.now() % 100000}`;
    await expect(runner.run(["sleep", seconds], { timeoutMs: 700 })).rejects.toThrow("timed out");
    expect(await waitUntil(() => processesMatching(`sleep ${seconds}`).length === 0, 3000)).toBe(true);
    // The session is gone too: the slot is back at once, not after the 41 s.
    await expect(runner.run(["true"], { timeoutMs: 3000 })).resolves.toMatchObject({ exitCode: 0 });
  });
});
