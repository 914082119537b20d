import { parseConfig } from "../../common/config";
import { ConfigError } from "../../common/errors";
import { silentLogger } from "../../common/logger";
import { RunnerFactory, runnerSpecFor, SshRunner } from "../../drivers/exec";
import type { SshRunnerSpec } from "../../drivers/exec/types";

const FP = `SHA256:${"A".repeat(43)}`;
const base = (ssh: string): string => `
[DEFAULT]
host = node1
state_path = /tmp/vms-state
enabled_backends = st1
[st1]
volume_driver = rawfile
rawfile_directory = /srv/volumes
${ssh}
`;

test("no ssh_host: the backend runs its commands locally", () => {
  const [backend] = parseConfig(base(""), {}).backends;
  expect(backend!.ssh).toBeNull();
  expect(runnerSpecFor(backend!)).toEqual({ kind: "local" });
});

test("ssh_* options with their defaults, and the runner spec built from them", () => {
  const text = base(
    "ssh_host = 10.0.2.11\nssh_private_key = /etc/vms/id_ed25519\nssh_known_hosts = /etc/vms/known_hosts",
  );
  const [backend] = parseConfig(text, {}).backends;
  expect(backend!.ssh).toEqual({
    host: "10.0.2.11",
    port: 22,
    username: "root",
    privateKey: "/etc/vms/id_ed25519",
    knownHostsFile: "/etc/vms/known_hosts",
    hostKeySha256: null,
    connectTimeoutSecs: 20,
  });
  const spec = runnerSpecFor(backend!);
  expect(spec).toEqual({
    kind: "ssh",
    host: "10.0.2.11",
    port: 22,
    username: "root",
    privateKeyPath: "/etc/vms/id_ed25519",
    knownHostsFile: "/etc/vms/known_hosts",
    connectTimeoutMs: 20_000,
  });
  // It travels over the bus as JSON.
  expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
});

test("a pinned fingerprint, port, user and timeout; environment overrides work for ssh_* too", () => {
  const text = base(
    `ssh_host = st1.example.org\nssh_port = 2222\nssh_user = vms\nssh_private_key = /k\nssh_connect_timeout = 5`,
  );
  const [backend] = parseConfig(text, { VMS__ST1__SSH_HOST_KEY_SHA256: FP }).backends;
  expect(backend!.ssh).toMatchObject({
    host: "st1.example.org",
    port: 2222,
    username: "vms",
    hostKeySha256: FP,
  });
  expect(runnerSpecFor(backend!)).toMatchObject({ hostKeySha256: FP, connectTimeoutMs: 5000 });
  expect(runnerSpecFor(backend!)).not.toHaveProperty("knownHostsFile");
});

test.each([
  ["ssh_host = h\nssh_private_key = /k", "[st1] set exactly one of ssh_known_hosts and ssh_host_key_sha256"],
  [
    `ssh_host = h\nssh_private_key = /k\nssh_known_hosts = /kh\nssh_host_key_sha256 = ${FP}`,
    "set exactly one of",
  ],
  ["ssh_host = h\nssh_known_hosts = /kh", "[st1] ssh_private_key is required"],
  ["ssh_host = h\nssh_private_key = /k\nssh_host_key_sha256 = MD5:aa:bb", "[st1] ssh_host_key_sha256"],
  ["ssh_host = h\nssh_private_key = /k\nssh_known_hosts = /kh\nssh_port = 0", "[st1] ssh_port"],
  ["ssh_host = h\nssh_private_key = /k\nssh_known_hosts = /kh\nssh_user = a b", "[st1] ssh_user"],
  ["ssh_host = -oProxyCommand=x\nssh_private_key = /k\nssh_known_hosts = /kh", "[st1] ssh_host"],
  [
    "ssh_host = h\nssh_private_key = /k\nssh_known_hosts = /kh\nssh_connect_timeout = 0",
    "[st1] ssh_connect_timeout",
  ],
  ["ssh_private_key = /k", "[st1] ssh_private_key is set but ssh_host is not"],
  [
    "ssh_host = h\nssh_private_key = /k\nssh_known_hosts = /kh\nssh_key = /k2",
    "[st1] ssh_key is not an option",
  ],
])("bad ssh options (%j) stop start-up with a message naming the key", (lines, message) => {
  expect(() => parseConfig(base(lines), {})).toThrow(ConfigError);
  expect(() => parseConfig(base(lines), {})).toThrow(message);
});

test("an SshRunner needs exactly one way to check the host key, and a well-formed fingerprint", () => {
  const opts = { host: "h", username: "root", privateKey: "/k", logger: silentLogger() };
  expect(() => new SshRunner(opts)).toThrow(/exactly one/);
  expect(() => new SshRunner({ ...opts, knownHostsFile: "/kh", hostKeySha256: FP })).toThrow(/exactly one/);
  expect(() => new SshRunner({ ...opts, hostKeySha256: "SHA256:x" })).toThrow(/SHA256/);
  expect(() => new SshRunner({ ...opts, host: "a b", knownHostsFile: "/kh" })).toThrow(/host/);
  expect(new SshRunner({ ...opts, port: 2222, knownHostsFile: "/kh" }).where).toBe("root@h:2222");
});

test("the factory keeps one SSH runner per host, port and user", async () => {
  const factory = new RunnerFactory();
  const spec: SshRunnerSpec = {
    kind: "ssh",
    host: "h",
    port: 22,
    username: "root",
    privateKeyPath: "/k",
    knownHostsFile: "/kh",
  };
  const a = factory.get(spec);
  expect(a).toBeInstanceOf(SshRunner);
  expect(factory.get({ ...spec })).toBe(a);
  expect(factory.get({ ...spec, port: 2222 })).not.toBe(a);
  expect(factory.get({ ...spec, username: "vms" })).not.toBe(a);
  expect(factory.get({ kind: "local" }).where).toBe("local");
  await factory.close();
});
