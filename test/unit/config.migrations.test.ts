import { parseConfig } from "../../common/config";
import { ConfigError } from "../../common/errors";

const conf = (defaults: string, backend: string): string => `
[DEFAULT]
host = node1
enabled_backends = a, b
${defaults}
[a]
volume_driver = rawfile
rawfile_directory = /tmp/vms-a
${backend}
[b]
volume_driver = rawfile
rawfile_directory = /tmp/vms-b
`;

test("defaults: no copy limit, two migrations at once per backend", () => {
  const c = parseConfig(conf("", ""), {});
  expect(c.backends.map((b) => [b.volumeCopyBpsLimit, b.maxConcurrentMigrations])).toEqual([
    [0, 2],
    [0, 2],
  ]);
});

test("[DEFAULT] sets every backend; a backend's own section wins", () => {
  const c = parseConfig(
    conf(
      "volume_copy_bps_limit = 104857600\nmax_concurrent_migrations = 4",
      "volume_copy_bps_limit = 0\nmax_concurrent_migrations = 1",
    ),
    {},
  );
  expect(c.backends[0]).toMatchObject({ volumeCopyBpsLimit: 0, maxConcurrentMigrations: 1 });
  expect(c.backends[1]).toMatchObject({ volumeCopyBpsLimit: 104857600, maxConcurrentMigrations: 4 });
});

test("copies: two streams, AES-GCM first, unless set ([DEFAULT] or the backend's section)", () => {
  const d = parseConfig(conf("", ""), {}).backends[0]!;
  expect(d).toMatchObject({
    volumeCopyStreams: 2,
    volumeCopySshCiphers: "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr",
  });
  const c = parseConfig(
    conf(
      "volume_copy_streams = 4\nvolume_copy_ssh_ciphers = chacha20-poly1305@openssh.com",
      "volume_copy_streams = 1",
    ),
    {},
  );
  expect(c.backends[0]).toMatchObject({
    volumeCopyStreams: 1,
    volumeCopySshCiphers: "chacha20-poly1305@openssh.com",
  });
  expect(c.backends[1]).toMatchObject({ volumeCopyStreams: 4 });
});

test("0 means unlimited; environment overrides apply", () => {
  const c = parseConfig(conf("", ""), { VMS__A__MAX_CONCURRENT_MIGRATIONS: "0" });
  expect(c.backends[0]!.maxConcurrentMigrations).toBe(0);
});

test.each([
  ["", "max_concurrent_migrations = -1", '[a] max_concurrent_migrations = "-1"'],
  ["", "volume_copy_bps_limit = 10MB", '[a] volume_copy_bps_limit = "10MB"'],
  ["max_concurrent_migrations = two", "", '[DEFAULT] max_concurrent_migrations = "two"'],
  ["", "volume_copy_streams = 0", '[a] volume_copy_streams = "0"'],
  ["", "volume_copy_streams = 17", '[a] volume_copy_streams = "17"'],
  ["volume_copy_ssh_ciphers = aes128-ctr -oProxyCommand=x", "", "[DEFAULT] volume_copy_ssh_ciphers"],
  ["", "volume_copy_ssh_ciphers = aes128-ctr,", "[a] volume_copy_ssh_ciphers"],
])("a bad value stops the start naming the key (%s%s)", (defaults, backend, named) => {
  expect(() => parseConfig(conf(defaults, backend), {})).toThrow(ConfigError);
  expect(() => parseConfig(conf(defaults, backend), {})).toThrow(named);
});
