import { CommandError, SshRunner } from "../../drivers/exec";
import { recordingLogger, startSshd, type TestSshd } from "./exec.sshd";

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
    readyTimeoutMs: 5000,
    logger: log.logger,
  });
});
afterAll(async () => {
  await runner?.close();
  await sshd?.cleanup();
});

const connects = (): number => log.messages.filter((m) => m === "ssh connected").length;

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("commands reuse one connection; after the server drops it, the next command reconnects", async () => {
  await runner.run(["true"]);
  await runner.run(["true"]);
  expect(connects()).toBe(1);

  await sshd.stop();
  await waitFor(() => log.messages.includes("ssh connection lost; the next command reconnects"));
  await sshd.start();
  await expect(runner.run(["echo", "again"])).resolves.toMatchObject({ stdout: "again\n" });
  expect(connects()).toBe(2);
});

test("a command issued while the server is down succeeds once it is back (bounded retry)", async () => {
  await sshd.stop();
  await waitFor(() => log.messages.filter((m) => m.startsWith("ssh connection lost")).length >= 2);
  const pending = runner.run(["echo", "patient"]);
  await new Promise((r) => setTimeout(r, 300));
  await sshd.start();
  await expect(pending).resolves.toMatchObject({ stdout: "patient\n" });
  expect(log.messages).toContain("ssh connect failed");
});

test("a command running when the connection drops fails with a CommandError; the next one works", async () => {
  const running = runner.run(["sleep", "30"]).catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 300));
  await sshd.stop();
  const err = (await running) as CommandError;
  expect(err).toBeInstanceOf(CommandError);
  expect(err.exitCode).toBeNull();
  expect(err.message).toContain("lost its SSH connection");
  await sshd.start();
  await expect(runner.run(["echo", "fine"])).resolves.toMatchObject({ stdout: "fine\n" });
});

test("a command sent in the instant the server dies is sent again on a new connection", async () => {
  await runner.run(["true"]);
  // Killed and, in the same tick, a command: its channel request leaves before the client can
  // notice the loss, so the channel fails without ever reaching a shell.
  const stopping = sshd.stop();
  const raced = runner.run(["echo", "raced"]);
  await stopping;
  await new Promise((r) => setTimeout(r, 200));
  await sshd.start();
  await expect(raced).resolves.toMatchObject({ stdout: "raced\n" });
  expect(log.messages).toContain("ssh channel not opened; reconnecting");
});

test("close() ends the connection; the runner then refuses work", async () => {
  await runner.run(["true"]);
  await runner.close();
  await expect(runner.run(["true"])).rejects.toThrow("closed");
});
