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

test("0 means unlimited; environment overrides apply", () => {
  const c = parseConfig(conf("", ""), { VMS__A__MAX_CONCURRENT_MIGRATIONS: "0" });
  expect(c.backends[0]!.maxConcurrentMigrations).toBe(0);
});

test.each([
  ["", "max_concurrent_migrations = -1", '[a] max_concurrent_migrations = "-1"'],
  ["", "volume_copy_bps_limit = 10MB", '[a] volume_copy_bps_limit = "10MB"'],
  ["max_concurrent_migrations = two", "", '[DEFAULT] max_concurrent_migrations = "two"'],
])("a bad value stops the start naming the key (%s%s)", (defaults, backend, named) => {
  expect(() => parseConfig(conf(defaults, backend), {})).toThrow(ConfigError);
  expect(() => parseConfig(conf(defaults, backend), {})).toThrow(named);
});
