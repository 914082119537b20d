import { parseConfig } from "../../common/config";
import { ConfigError } from "../../common/errors";

const base = `
[DEFAULT]
host = node1
state_path = /tmp/vms-state
enabled_backends = file-1
[file-1]
volume_driver = rawfile
rawfile_directory = $state_path/file-1
`;

test("reads oslo option names, interpolates $state_path and builds backend host names", () => {
  const c = parseConfig(base, {});
  expect(c.host).toBe("node1");
  expect(c.transportUrl).toBe("memory://");
  expect(c.databaseConnection).toBe("pglite:///tmp/vms-state/db");
  expect(c.backends).toHaveLength(1);
  expect(c.backends[0]).toMatchObject({
    serviceHost: "node1@file-1",
    volumeBackendName: "file-1",
    rawfileDirectory: "/tmp/vms-state/file-1",
    volumeDriver: "rawfile",
  });
  expect(c.volumeNameTemplate).toBe("volume-%s");
});

test("environment variables override the file", () => {
  const c = parseConfig(base, {
    VMS__DEFAULT__TRANSPORT_URL: "rabbit://guest:guest@127.0.0.1:5672/",
    VMS__DATABASE__CONNECTION: "postgresql://u@h/db",
  });
  expect(c.transportUrl).toBe("rabbit://guest:guest@127.0.0.1:5672/");
  expect(c.databaseConnection).toBe("postgresql://u@h/db");
});

test("service_down_time not above report_interval is raised as Cinder does", () => {
  const c = parseConfig(base + "\n[DEFAULT]\nreport_interval = 10\nservice_down_time = 5\n", {});
  expect(c.serviceDownTime).toBe(25);
});

test.each([
  ["report_interval = abc", "[DEFAULT] report_interval"],
  ["report_interval = 0", "[DEFAULT] report_interval"],
  ["transport_url = kafka://x", "[DEFAULT] transport_url"],
  ["auth_strategy = magic", "[DEFAULT] auth_strategy"],
  ["volume_name_template = vol-%s-%s", "[DEFAULT] volume_name_template"],
  ["volume_name_template = $(reboot)%s", "[DEFAULT] volume_name_template"],
  ["volume_dd_blocksize = 0", "[DEFAULT] volume_dd_blocksize"],
  ["osapi_volume_listen_port = 70000", "[DEFAULT] osapi_volume_listen_port"],
])("a bad value (%s) stops start-up with a message naming the key", (line, key) => {
  const text = base.replace("[DEFAULT]\n", `[DEFAULT]\n${line}\n`);
  expect(() => parseConfig(text, {})).toThrow(ConfigError);
  expect(() => parseConfig(text, {})).toThrow(key);
});

test("a host name with a separator is refused", () => {
  expect(() => parseConfig(base.replace("host = node1", "host = a@b"), {})).toThrow("[DEFAULT] host");
});

test("backend problems name the section and key", () => {
  expect(() => parseConfig(base.replace("volume_driver = rawfile", "volume_driver = nfs"), {})).toThrow(
    "[file-1] volume_driver",
  );
  expect(() => parseConfig(base.replace(/rawfile_directory.*\n/, ""), {})).toThrow(
    "[file-1] rawfile_directory is required",
  );
  expect(() =>
    parseConfig(base.replace("enabled_backends = file-1", "enabled_backends = file-1, ghost"), {}),
  ).toThrow('enabled_backends names "ghost"');
});

test("Cinder's LVM driver class path is accepted as the lvm driver", () => {
  const c = parseConfig(
    base.replace("volume_driver = rawfile", "volume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver"),
    {},
  );
  expect(c.backends[0]!.volumeDriver).toBe("lvm");
});

test("static tokens need user:project:role", () => {
  const text =
    base +
    "\n[DEFAULT]\nauth_strategy = static\n[static_tokens]\nsecret = admin:demo:admin\nother = bob:p2:member\n";
  const c = parseConfig(text, {});
  expect(c.staticTokens.get("secret")).toEqual({ userId: "admin", projectId: "demo", isAdmin: true });
  expect(c.staticTokens.get("other")?.isAdmin).toBe(false);
  expect(() => parseConfig(text.replace("admin:demo:admin", "admin"), {})).toThrow("[static_tokens] secret");
});
