/**
 * What the LVM backend refuses on a real storage host: a host whose key does not match, and
 * hostile names in the configuration or in volume names, refused before any command runs.
 * Every command goes through a counting wrapper around the real SSH runner to host-a.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { parseConfig } from "../../common/config";
import { silentLogger } from "../../common/logger";
import { runnerSpecFor } from "../../drivers/exec";
import { SshRunner } from "../../drivers/exec/ssh";
import { type CommandRunner, isSshConnectFailure } from "../../drivers/exec/types";
import { LvmDriver } from "../../drivers/lvm";
import { labHost, loadLab, sshOk } from "./lab";

const lab = loadLab();
const hostA = labHost(lab, "host-a");
const hostB = labHost(lab, "host-b");
let tmp: string;
/** Shell metacharacters, option-looking and path-looking strings (INI-safe: one line, no edges). */
const INJECTIONS = [
  "&reboot",
  "$(touch /tmp/vms-pwned)",
  "`id`",
  "a && b",
  "| cat",
  "> /tmp/vms-pwned",
  "/../../etc",
  " --config=x",
  "'quoted'",
  '"dq"',
  "\\",
  "*",
];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vms-lab-refusals-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function sshRunner(knownHosts: string): SshRunner {
  return new SshRunner({
    host: hostA.sshHost,
    port: hostA.sshPort,
    username: hostA.sshUser,
    privateKey: hostA.privateKey,
    knownHostsFile: knownHosts,
    readyTimeoutMs: 20_000,
    logger: silentLogger(),
  });
}

/** The real runner, counting what it is asked to run. */
function counting(inner: CommandRunner): CommandRunner & { calls: string[][] } {
  const calls: string[][] = [];
  return Object.assign(Object.create(inner) as CommandRunner, {
    calls,
    where: inner.where,
    run: (argv: string[], opts?: Parameters<CommandRunner["run"]>[1]) => {
      calls.push(argv);
      return inner.run(argv, opts);
    },
    spawn: (argv: string[], opts?: Parameters<CommandRunner["spawn"]>[1]) => {
      calls.push(argv);
      return inner.spawn(argv, opts);
    },
  });
}

function driver(runner: CommandRunner, options: Record<string, string>): LvmDriver {
  const config = parseConfig(
    [
      "[DEFAULT]",
      "enabled_backends = lvm-a",
      "[lvm-a]",
      "volume_driver = lvm",
      ...Object.entries({ volume_group: "cinder-a", ...options }).map(([k, v]) => `${k} = ${v}`),
    ].join("\n"),
    {},
  );
  const backend = config.backends[0]!;
  return new LvmDriver({
    backend,
    runner,
    runnerSpec: runnerSpecFor(backend),
    volumeNameTemplate: config.volumeNameTemplate,
    logger: silentLogger(),
  });
}

test("a host whose key does not match known_hosts is refused before any command", async () => {
  // host-b's key recorded under host-a's address: an impostor, as far as the worker can tell.
  const wrong = path.join(tmp, "wrong_known_hosts");
  const bKey = fs.readFileSync(hostB.knownHosts, "utf8").trim().split(/\s+/).slice(1).join(" ");
  fs.writeFileSync(wrong, `${hostA.sshHost} ${bKey}\n`);
  const marker = `/tmp/vms-refused-${process.pid}`;
  const runner = sshRunner(wrong);
  try {
    const err = await runner.run(["touch", marker]).catch((e: unknown) => e);
    expect(isSshConnectFailure(err, "host-key")).toBe(true);
    await expect(driver(runner, {}).doSetup()).rejects.toThrow();
  } finally {
    await runner.close();
  }
  // Nothing ran on host-a.
  expect((await sshOk(hostA, ["sh", "-c", 'test -e "$1" && echo yes || echo no', "sh", marker])).trim()).toBe(
    "no",
  );
});

test("the right key is accepted (the same runner with host-a's own known_hosts)", async () => {
  const runner = sshRunner(hostA.knownHosts);
  try {
    expect((await runner.run(["hostname"])).stdout.trim()).toBe("host-a");
  } finally {
    await runner.close();
  }
});

test.each(INJECTIONS)("hostile VG name %j is refused at configuration, before any command", (s) => {
  const runner = counting(sshRunner(hostA.knownHosts));
  expect(() => driver(runner, { volume_group: `cinder-a${s}` })).toThrow(/volume_group/);
  expect(runner.calls).toEqual([]);
});

test("hostile ssh_host values are refused at configuration", () => {
  for (const host of ["-oProxyCommand=touch /tmp/x", "host-a&&reboot", "$(reboot)", "a b"]) {
    expect(() =>
      parseConfig(
        `[DEFAULT]\nenabled_backends = x\n[x]\nvolume_driver = lvm\nssh_host = ${host}\nssh_private_key = /k\nssh_known_hosts = /k\n`,
        {},
      ),
    ).toThrow(/ssh_host/);
  }
});

test.each(INJECTIONS)("hostile volume name %j is refused before any command", async (s) => {
  const inner = sshRunner(hostA.knownHosts);
  const runner = counting(inner);
  try {
    const lvm = driver(runner, {});
    const volume = { id: "x", nameId: null, size: 1, name: `volume-x${s}`, providerLocation: null };
    await expect(lvm.createVolume(volume)).rejects.toThrow();
    await expect(lvm.deleteVolume(volume)).rejects.toThrow();
    await expect(lvm.extendVolume(volume, 2)).rejects.toThrow();
    expect(runner.calls.filter((argv) => argv.some((a) => a.includes(s)))).toEqual([]);
  } finally {
    await inner.close();
  }
});
