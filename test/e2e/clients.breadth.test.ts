import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { cinder, type CliResult, parseRows, parseTable, run } from "../helpers/cli";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { waitFor } from "../helpers/stack";

/**
 * Issue 15's acceptance: the Cinder API around a migration, through the unmodified clients
 * (Debian's cinder and openstack) against the embedded default (etc/demo.conf: PGlite, the
 * in-process bus, two raw-file backends) in a temporary state directory.
 */
let proc: ServiceProcess;
let stateDir: string;
let endpoint: string;

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-e2e-breadth-"));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  const demo = fs.readFileSync(path.join(__dirname, "../../etc/demo.conf"), "utf8");
  fs.writeFileSync(
    conf,
    demo
      .replace(/^state_path = .*$/m, `state_path = ${stateDir}`)
      .replace(/^osapi_volume_listen_port = .*$/m, `osapi_volume_listen_port = ${port}`)
      // 1 GiB in about 16 s: long enough that a test can look at a migration while it copies (a
      // sparse raw-file copy is otherwise done before the next cinder command answers).
      .replace(/^\[DEFAULT\]$/m, "[DEFAULT]\nvolume_copy_bps_limit = 67108864"),
  );
  proc = await startProcess(["all", "--config", conf], { readyLine: /listening on http/ });
  endpoint = `http://127.0.0.1:${port}/v3`;
}, 90_000);

afterAll(async () => {
  await proc?.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

/** `cinder …` that must succeed. */
async function ok(args: string[], who?: { user?: string; project?: string }): Promise<CliResult> {
  const r = await cinder(endpoint, args, who);
  if (r.code !== 0) {
    throw new Error(`cinder ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
  }
  return r;
}

function openstack(args: string[]): Promise<CliResult> {
  return run("openstack", ["--os-auth-type", "none", "--os-endpoint", `${endpoint}/demo`, ...args]);
}

async function show(id: string): Promise<Record<string, string>> {
  return parseTable((await ok(["show", id])).stdout);
}

async function createVolume(args: string[] = [], who?: { user?: string; project?: string }): Promise<string> {
  const id = parseTable((await ok(["create", ...args, "1"], who)).stdout)["id"]!;
  await waitFor(async () => (await show(id))["status"] === "available", `volume ${id} available`, 60_000);
  return id;
}

/** A list table's rows as records keyed by its header. */
function records(stdout: string): Record<string, string>[] {
  const [header, ...rows] = parseRows(stdout);
  return rows.map((r) => Object.fromEntries(header!.map((k, i) => [k, r[i] ?? ""])));
}

describe("volume types", () => {
  test("cinder type-create + type-key set volume_backend_name pins a type; type-update and type-access", async () => {
    await ok(["type-create", "gold"]);
    await ok(["type-key", "gold", "set", "volume_backend_name=file-2", "color=gold"]);
    const specs = parseRows((await ok(["extra-specs-list"])).stdout);
    const gold = specs.find((r) => r[1] === "gold");
    expect(gold?.[2]).toContain("'volume_backend_name': 'file-2'");
    await ok(["type-key", "gold", "unset", "color"]);
    const id = await createVolume(["--volume-type", "gold"]);
    expect((await show(id))["os-vol-host-attr:host"]).toBe("demo@file-2#file-2");

    await ok(["type-update", "--description", "the fast one", (await typeId("gold"))!]);
    expect(parseRows((await ok(["type-list"])).stdout).find((r) => r[1] === "gold")?.[2]).toBe(
      "the fast one",
    );

    await ok(["type-create", "--is-public", "false", "secret"]);
    const secret = (await typeId("secret"))!;
    await ok(["type-access-add", "--volume-type", secret, "--project-id", "proj-b"]);
    const access = records((await ok(["type-access-list", "--volume-type", secret])).stdout);
    expect(access).toEqual([{ Volume_type_ID: secret, Project_ID: "proj-b" }]);
    // A member of proj-b sees the private type, one of another project does not.
    const seenBy = async (project: string): Promise<string[]> =>
      parseRows((await ok(["type-list"], { user: "someone", project })).stdout).map((r) => r[1]!);
    expect(await seenBy("proj-b")).toContain("secret");
    expect(await seenBy("proj-c")).not.toContain("secret");
    await ok(["type-access-remove", "--volume-type", secret, "--project-id", "proj-b"]);
    expect(await seenBy("proj-b")).not.toContain("secret");
  }, 120_000);

  test("openstack volume type create --property sets the extra specs", async () => {
    const r = await openstack([
      "volume",
      "type",
      "create",
      "--property",
      "volume_backend_name=file-1",
      "bronze",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const shown = await openstack(["volume", "type", "show", "bronze", "-f", "json"]);
    expect(JSON.parse(shown.stdout).properties).toEqual({ volume_backend_name: "file-1" });
  }, 60_000);

  test("cinder retype --migration-policy on-demand to a type pinned by type-key moves the volume", async () => {
    await ok(["type-create", "on-file-1"]);
    await ok(["type-key", "on-file-1", "set", "volume_backend_name=file-1"]);
    await ok(["type-create", "on-file-2"]);
    await ok(["type-key", "on-file-2", "set", "volume_backend_name=file-2"]);
    const id = await createVolume(["--volume-type", "on-file-1"]);
    expect((await show(id))["os-vol-host-attr:host"]).toBe("demo@file-1#file-1");
    await ok(["retype", "--migration-policy", "on-demand", id, "on-file-2"]);
    const v = await waitFor(
      async () => {
        const x = await show(id);
        return x["volume_type"] === "on-file-2" ? x : undefined;
      },
      "retype on-demand",
      90_000,
    );
    expect(v["os-vol-mig-status-attr:migstat"]).toBe("success");
    expect(v["os-vol-host-attr:host"]).toBe("demo@file-2#file-2");
    expect(v["status"]).toBe("available");
  }, 150_000);
});

async function typeId(name: string): Promise<string | undefined> {
  const rows = parseRows((await ok(["type-list"])).stdout);
  return rows.find((r) => r[1] === name)?.[0];
}

describe("quotas and limits", () => {
  const member = { user: "erin", project: "qproj" };

  test("cinder quota-update, quota-show, quota-defaults, absolute-limits; a create past the quota is refused with 413", async () => {
    await ok(["quota-update", "--volumes", "1", "--gigabytes", "5", "qproj"]);
    const shown = parseTable((await ok(["quota-show", "qproj"])).stdout);
    expect(shown).toMatchObject({ volumes: "1", gigabytes: "5", snapshots: "10" });
    expect(parseTable((await ok(["quota-defaults", "qproj"])).stdout)["volumes"]).toBe("10");

    const id = await createVolume([], member);
    const refused = await cinder(endpoint, ["create", "1"], member);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^ERROR: Maximum number of volumes allowed \(1\) exceeded for quota 'volumes'\. \(HTTP 413\)/,
    );
    const limits = Object.fromEntries(
      records((await ok(["absolute-limits"], member)).stdout).map((r) => [r["Name"], r["Value"]]),
    );
    expect(limits).toMatchObject({ maxTotalVolumes: "1", totalVolumesUsed: "1", totalGigabytesUsed: "1" });

    // An admin migrates the volume: its temp volume on the destination does not count against qproj.
    const from = (await show(id))["os-vol-host-attr:host"]!;
    const dest = from.includes("@file-1") ? "demo@file-2#file-2" : "demo@file-1#file-1";
    expect((await ok(["migrate", id, dest])).stdout).not.toContain("failed");
    await waitFor(
      async () => (await show(id))["os-vol-mig-status-attr:migstat"] === "migrating",
      "migration copying",
      60_000,
    );
    const during = records((await ok(["quota-usage", "qproj"])).stdout).find((r) => r["Type"] === "volumes");
    expect(during).toMatchObject({ In_use: "1", Limit: "1" });
    const listed = records((await ok(["list", "--all-tenants"])).stdout).filter(
      (r) => r["Tenant ID"] === "qproj",
    );
    expect(listed).toHaveLength(2);
    await waitFor(
      async () => (await show(id))["os-vol-mig-status-attr:migstat"] === "success",
      "migration done",
      120_000,
    );
    await ok(["quota-delete", "qproj"]);
    expect(parseTable((await ok(["quota-show", "qproj"])).stdout)["volumes"]).toBe("10");
  }, 240_000);
});

describe("QoS specs", () => {
  test("cinder qos-create, qos-list, qos-show, qos-key set/unset, qos-associate, qos-get-association, qos-disassociate, qos-delete", async () => {
    const created = parseTable(
      (await ok(["qos-create", "silver", "consumer=front-end", "total_iops_sec=500"])).stdout,
    );
    const id = created["id"]!;
    expect(created["consumer"]).toBe("front-end");
    expect(created["specs"]).toBe("total_iops_sec : 500");
    expect(records((await ok(["qos-list"])).stdout).map((r) => r["Name"])).toContain("silver");

    await ok(["qos-key", id, "set", "read_iops_sec=200"]);
    await ok(["qos-key", id, "unset", "total_iops_sec"]);
    expect(parseTable((await ok(["qos-show", id])).stdout)["specs"]).toBe("read_iops_sec : 200");

    await ok(["type-create", "qos-typed"]);
    const typeIdOf = (await typeId("qos-typed"))!;
    await ok(["qos-associate", id, typeIdOf]);
    const assoc = records((await ok(["qos-get-association", id])).stdout);
    expect(assoc).toEqual([{ Association_Type: "volume_type", Name: "qos-typed", ID: typeIdOf }]);
    const refused = await cinder(endpoint, ["qos-delete", id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("Qos specs still in use. (HTTP 400)");
    await ok(["qos-disassociate", id, typeIdOf]);
    expect(records((await ok(["qos-get-association", id])).stdout)).toEqual([]);
    await ok(["qos-associate", id, typeIdOf]);
    await ok(["qos-disassociate-all", id]);
    await ok(["qos-delete", id]);
    expect(records((await ok(["qos-list"])).stdout).map((r) => r["Name"])).not.toContain("silver");
  }, 120_000);
});

describe("user messages", () => {
  test("a retype no backend can satisfy leaves a message the owner reads with cinder message-list, message-show, message-delete", async () => {
    const owner = { user: "frank", project: "mproj" };
    await ok(["type-create", "msg-on-1"]);
    await ok(["type-key", "msg-on-1", "set", "volume_backend_name=file-1"]);
    await ok(["type-create", "msg-nowhere"]);
    await ok(["type-key", "msg-nowhere", "set", "volume_backend_name=file-9"]);
    const id = await createVolume(["--volume-type", "msg-on-1"], owner);
    await ok(["retype", "--migration-policy", "on-demand", id, "msg-nowhere"], owner);
    const msg = await waitFor(
      async () => records((await ok(["message-list"], owner)).stdout).find((r) => r["Resource UUID"] === id),
      "user message",
      60_000,
    );
    expect(msg).toMatchObject({
      "Resource Type": "VOLUME",
      "Event ID": "VOLUME_VOLUME_102_003",
      "User Message": "retype volume:Could not find any available weighted backend.",
    });
    expect((await show(id))["status"]).toBe("available");
    const shown = parseTable((await ok(["message-show", msg["ID"]!], owner)).stdout);
    expect(shown).toMatchObject({ message_level: "ERROR", resource_uuid: id });
    // Another project does not see it.
    const others = records((await ok(["message-list"], { user: "gina", project: "elsewhere" })).stdout);
    expect(others.map((r) => r["ID"])).not.toContain(msg["ID"]);
    await ok(["message-delete", msg["ID"]!], owner);
    expect(records((await ok(["message-list"], owner)).stdout).map((r) => r["ID"])).not.toContain(msg["ID"]);
  }, 120_000);
});

describe("attachments", () => {
  test("cinder attachment-create --connect, attachment-list, attachment-show, attachment-complete, attachment-delete", async () => {
    const owner = { user: "hana", project: "aproj" };
    const id = await createVolume([], owner);
    const server = "0b0b7a5e-6d2f-4a8e-9c61-2f3e4d5c6b7a";
    const created = await ok(
      [
        "attachment-create",
        id,
        server,
        "--connect",
        "True",
        "--initiator",
        "iqn.2026-01.test:c1",
        "--host",
        "compute-1",
        "--mountpoint",
        "/dev/vdb",
      ],
      owner,
    );
    const att = parseTable(created.stdout);
    expect(att).toMatchObject({ status: "attaching", instance: server, volume_id: id, attach_mode: "rw" });
    expect(att["driver_volume_type"]).toBe("local");
    const devicePath = /'device_path': '([^']+)'/.exec(created.stdout)?.[1];
    expect(devicePath).toBe(
      path.join(
        stateDir,
        (await show(id))["os-vol-host-attr:host"]!.includes("@file-1") ? "file-1" : "file-2",
        `volume-${id}`,
      ),
    );
    expect(fs.existsSync(devicePath!)).toBe(true);

    const listed = records((await ok(["attachment-list"], owner)).stdout);
    expect(listed).toEqual([{ ID: att["id"], "Volume ID": id, Status: "attaching", "Server ID": server }]);
    await ok(["attachment-complete", att["id"]!], owner);
    expect(parseTable((await ok(["attachment-show", att["id"]!], owner)).stdout)["status"]).toBe("attached");
    expect((await show(id))["status"]).toBe("in-use");
    // Another project sees none of it.
    expect(records((await ok(["attachment-list"], { user: "ivan", project: "bproj" })).stdout)).toEqual([]);
    await ok(["attachment-delete", att["id"]!], owner);
    expect(records((await ok(["attachment-list"], owner)).stdout)).toEqual([]);
    expect((await show(id))["status"]).toBe("available");
  }, 120_000);
});

describe("manage and unmanage", () => {
  test("cinder manageable-list, manage (adopt a file in the raw-file backend's directory), unmanage", async () => {
    const dir = path.join(stateDir, "file-1");
    const legacy = path.join(dir, "legacy-disk");
    fs.writeFileSync(legacy, "hello from before");
    fs.truncateSync(legacy, 512 * 1024 * 1024);

    const before = records((await ok(["manageable-list", "demo@file-1"])).stdout);
    expect(before.find((r) => r["reference"]?.includes("legacy-disk"))).toMatchObject({
      size: "1",
      safe_to_manage: "True",
    });
    const shown = parseTable(
      (await ok(["manage", "--name", "adopted", "demo@file-1#file-1", "legacy-disk"])).stdout,
    );
    const id = shown["id"]!;
    expect(shown["name"]).toBe("adopted");
    const v = await waitFor(
      async () => {
        const x = await show(id);
        return x["status"] === "available" ? x : undefined;
      },
      "managed volume available",
      60_000,
    );
    expect(v).toMatchObject({ size: "1", "os-vol-host-attr:host": "demo@file-1#file-1" });
    expect(fs.existsSync(legacy)).toBe(false);
    const file = path.join(dir, `volume-${id}`);
    const head = Buffer.alloc(17);
    const fd = fs.openSync(file, "r");
    fs.readSync(fd, head, 0, 17, 0);
    fs.closeSync(fd);
    expect(head.toString()).toBe("hello from before");

    const after = records((await ok(["manageable-list", "demo@file-1"])).stdout);
    expect(after.find((r) => r["reference"]?.includes(`volume-${id}`))).toMatchObject({
      safe_to_manage: "False",
      reason_not_safe: "already managed",
      cinder_id: id,
    });
    await ok(["unmanage", id]);
    expect((await cinder(endpoint, ["show", id])).code).toBe(1);
    expect(fs.existsSync(file)).toBe(true);
  }, 120_000);
});
