/**
 * os-migrate_volume end to end through the HTTP API: every refusal with Cinder's exact status and
 * message, leaving the volume row and the migrations table untouched, and the accepted path.
 */
import { insertSnapshot } from "../../db/snapshots";
import {
  action,
  addVolume,
  addVolumeService,
  api,
  type Harness,
  makeServiceDown,
  MEMBER,
  migrationCount,
  OTHER,
  setService,
  startHarness,
  volumeRow,
} from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await addVolumeService(h, "node@lvm");
  await addVolumeService(h, "node@lvm2");
  await addVolumeService(h, "node@down");
  await makeServiceDown(h, "node@down");
  await addVolumeService(h, "node@off");
  await setService(h, "node@off", { disabled: true, disabled_reason: "maintenance" });
});
afterAll(async () => h.close());
beforeEach(() => {
  h.casts.length = 0;
});

const GENERIC = (id: string): string =>
  `Invalid volume: Volume ${id} status must be available or in-use, must not be migrating, have snapshots, ` +
  "be replicated, be part of a group and destination host/cluster must be different than the current one";

const BOOL_ENUM =
  "[True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't', False, 'False', " +
  "'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f']";

interface Refusal {
  name: string;
  body: unknown;
  status: number;
  fault: string;
  message: string | ((id: string) => string);
  token?: string;
  version?: string;
  volume?: Parameters<typeof addVolume>[1];
  prepare?: (volumeId: string) => Promise<void>;
}

const refusals: Refusal[] = [
  {
    name: "malformed JSON",
    body: '{"os-migrate_volume": {"host": ',
    status: 400,
    fault: "badRequest",
    message: "Malformed request body",
  },
  {
    name: "unknown action",
    body: { "os-migrate_volumes": { host: "node@lvm2" } },
    status: 400,
    fault: "badRequest",
    message:
      "There is no such action: os-migrate_volumes. Verify the request body and Content-Type header and try again.",
  },
  {
    name: "two action keys",
    body: { "os-migrate_volume": { host: "node@lvm2" }, "os-reset_status": {} },
    status: 400,
    fault: "badRequest",
    message: "Malformed request body",
  },
  {
    name: "missing host",
    body: { "os-migrate_volume": { force_host_copy: false, lock_volume: false } },
    status: 400,
    fault: "badRequest",
    message:
      "Invalid input for field/attribute os-migrate_volume. Value: {'force_host_copy': False, 'lock_volume': False}. 'host' is a required property",
  },
  {
    name: "bad boolean string",
    body: { "os-migrate_volume": { host: "node@lvm2", force_host_copy: "  true  " } },
    status: 400,
    fault: "badRequest",
    message: `Invalid input for field/attribute force_host_copy. Value:   true  . '  true  ' is not one of ${BOOL_ENUM}`,
  },
  {
    name: "integer boolean",
    body: { "os-migrate_volume": { host: "node@lvm2", lock_volume: 0 } },
    status: 400,
    fault: "badRequest",
    message: "Invalid input for field/attribute lock_volume. Value: 0. 0 is not of type 'boolean', 'string'",
  },
  {
    name: "null boolean",
    body: { "os-migrate_volume": { host: "node@lvm2", force_host_copy: null } },
    status: 400,
    fault: "badRequest",
    message:
      "Invalid input for field/attribute force_host_copy. Value: None. None is not of type 'boolean', 'string'",
  },
  {
    name: "cluster below 3.16",
    body: { "os-migrate_volume": { host: "node@lvm2", cluster: "c1" } },
    version: "3.15",
    status: 400,
    fault: "badRequest",
    message:
      "Invalid input for field/attribute os-migrate_volume. Value: {'host': 'node@lvm2', 'cluster': 'c1'}. Additional properties are not allowed ('cluster' was unexpected)",
  },
  {
    name: "host and cluster at 3.16",
    body: { "os-migrate_volume": { host: "node@lvm2", cluster: "c1" } },
    version: "3.16",
    status: 400,
    fault: "badRequest",
    message: "Invalid input received: One and only one of cluster and host must be set.",
  },
  {
    name: "empty host below 3.16",
    body: { "os-migrate_volume": { host: "" } },
    status: 400,
    fault: "badRequest",
    message: "Invalid input received: Host field is missing.",
  },
  {
    name: "unknown cluster at 3.16",
    body: { "os-migrate_volume": { cluster: "c1", force_host_copy: false, lock_volume: false } },
    version: "3.16",
    status: 400,
    fault: "badRequest",
    message: "Invalid host: No available service named 'c1'",
  },
  {
    name: "unknown host",
    body: { "os-migrate_volume": { host: "elsewhere@lvm#lvm" } },
    status: 400,
    fault: "badRequest",
    message: "Invalid host: No available service named 'elsewhere@lvm#lvm'",
  },
  {
    name: "down host",
    body: { "os-migrate_volume": { host: "node@down#down" } },
    status: 400,
    fault: "badRequest",
    message: "Invalid host: No available service named 'node@down#down'",
  },
  {
    name: "disabled host",
    body: { "os-migrate_volume": { host: "node@off" } },
    status: 400,
    fault: "badRequest",
    message: "Invalid host: No available service named 'node@off'",
  },
  {
    name: "same host with pool",
    body: { "os-migrate_volume": { host: "node@lvm#lvm" } },
    status: 400,
    fault: "badRequest",
    message: GENERIC,
  },
  {
    name: "same backend without pool",
    body: { "os-migrate_volume": { host: "node@lvm" } },
    status: 400,
    fault: "badRequest",
    message: GENERIC,
  },
  {
    name: "volume already migrating",
    body: { "os-migrate_volume": { host: "node@lvm2" } },
    volume: { migration_status: "migrating" },
    status: 400,
    fault: "badRequest",
    message: GENERIC,
  },
  {
    name: "volume with a snapshot",
    body: { "os-migrate_volume": { host: "node@lvm2" } },
    prepare: async (id) => {
      await insertSnapshot(h.t.db, {
        volume_id: id,
        name: "s",
        description: null,
        status: "available",
        volume_size: 1,
        project_id: "demo",
        user_id: "alice",
      });
    },
    status: 400,
    fault: "badRequest",
    message: GENERIC,
  },
  {
    name: "volume in error",
    body: { "os-migrate_volume": { host: "node@lvm2" } },
    volume: { status: "error" },
    status: 400,
    fault: "badRequest",
    message: GENERIC,
  },
  {
    name: "replicated volume",
    body: { "os-migrate_volume": { host: "node@lvm2" } },
    volume: { replication_status: "enabled" },
    status: 400,
    fault: "badRequest",
    message: GENERIC,
  },
  {
    name: "migration temp volume",
    body: { "os-migrate_volume": { host: "node@lvm2" } },
    prepare: async (id) => {
      const src = await addVolume(h);
      await h.t.db("volumes").where({ id }).update({ migration_target_of: src.id });
    },
    status: 400,
    fault: "badRequest",
    message: GENERIC,
  },
  {
    name: "non-admin",
    body: { "os-migrate_volume": { host: "node@lvm2" } },
    token: MEMBER,
    status: 403,
    fault: "forbidden",
    message: "Policy doesn't allow volume_extension:volume_admin_actions:migrate_volume to be performed.",
  },
  {
    name: "non-admin with a malformed body (schema before policy)",
    body: { "os-migrate_volume": {} },
    token: MEMBER,
    status: 400,
    fault: "badRequest",
    message: "Invalid input for field/attribute os-migrate_volume. Value: {}. 'host' is a required property",
  },
  {
    name: "volume of another project",
    body: { "os-migrate_volume": { host: "node@lvm2" } },
    token: OTHER,
    status: 404,
    fault: "itemNotFound",
    message: (id) => `Volume ${id} could not be found.`,
  },
];

describe("os-migrate_volume refusals leave the volume and the migrations table unchanged", () => {
  test.each(refusals)("$name", async (c) => {
    const v = await addVolume(h, c.volume ?? {});
    await c.prepare?.(v.id);
    const before = await volumeRow(h, v.id);
    const project = c.token === OTHER ? "other" : "demo";
    const res = await action(h, v.id, c.body, { token: c.token, version: c.version, project });
    const message = typeof c.message === "function" ? c.message(v.id) : c.message;
    expect(res.status).toBe(c.status);
    expect(res.body).toEqual({ [c.fault]: { code: c.status, message } });
    await h.flush();
    expect(await volumeRow(h, v.id)).toEqual(before);
    expect(await migrationCount(h, v.id)).toBe(0);
    expect(h.casts).toEqual([]);
  });
});

test("unknown volume id answers 404", async () => {
  const res = await action(h, "9b0b1c1e-0000-4000-8000-000000000000", {
    "os-migrate_volume": { host: "node@lvm2" },
  });
  expect(res.status).toBe(404);
  expect(res.body.itemNotFound.message).toBe(
    "Volume 9b0b1c1e-0000-4000-8000-000000000000 could not be found.",
  );
});

describe("accepted migration", () => {
  test("202 with an empty body, CAS to starting with lock, migration row, scheduler cast", async () => {
    const v = await addVolume(h);
    const res = await action(h, v.id, {
      "os-migrate_volume": { host: "node@lvm2#lvm2", force_host_copy: "True", lock_volume: "True" },
    });
    expect(res.status).toBe(202);
    expect(res.text).toBe("");

    const row = await volumeRow(h, v.id);
    expect(row).toMatchObject({
      status: "maintenance",
      previous_status: "available",
      migration_status: "starting",
      host: "node@lvm#lvm",
    });
    const migrations = await h.t.db("migrations").where({ volume_id: v.id });
    expect(migrations).toHaveLength(1);
    expect(migrations[0]).toMatchObject({
      state: "starting",
      source_host: "node@lvm#lvm",
      requested_dest: "node@lvm2#lvm2",
      force_host_copy: true,
      lock_volume: true,
      user_id: "admin",
    });

    await h.flush();
    expect(h.casts).toEqual([
      {
        topic: "cinder-scheduler",
        method: "migrate_volume",
        args: {
          volume_id: v.id,
          migration_id: migrations[0].id,
          backend: "node@lvm2#lvm2",
          force_host_copy: true,
        },
      },
    ]);

    const shown = await api(h, "get", `/v3/demo/volumes/${v.id}`);
    expect(shown.body.volume["os-vol-mig-status-attr:migstat"]).toBe("starting");
    expect(shown.body.volume.migration_status).toBe("starting");
    expect(shown.body.volume.status).toBe("maintenance");

    // A second request is refused while the first one runs.
    const again = await action(h, v.id, { "os-migrate_volume": { host: "node@lvm2" } });
    expect(again.status).toBe(400);
    expect(again.body.badRequest.message).toBe(GENERIC(v.id));
  });

  test("lock_volume does not lock an in-use volume; cinderclient's false booleans", async () => {
    const v = await addVolume(h, { status: "in-use", attach_status: "attached" });
    const res = await action(h, v.id, {
      "os-migrate_volume": { host: "node@lvm2", force_host_copy: false, lock_volume: true },
    });
    expect(res.status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({
      status: "in-use",
      previous_status: "in-use",
      migration_status: "starting",
    });
    await h.flush();
    expect(h.casts[0]?.args).toMatchObject({ backend: "node@lvm2", force_host_copy: false });
  });

  test.each([["true"], [false], ["1"], ["0"]])("valid lock_volume value %p is accepted", async (lock) => {
    const v = await addVolume(h);
    const res = await action(h, v.id, { "os-migrate_volume": { host: "node@lvm2", lock_volume: lock } });
    expect(res.status).toBe(202);
  });

  test("after a finished migration (success) the volume can move again; not-capable replication is fine", async () => {
    const v = await addVolume(h, { migration_status: "success", replication_status: "not-capable" });
    const res = await action(h, v.id, { "os-migrate_volume": { host: "node@lvm2" } }, { version: "3.70" });
    expect(res.status).toBe(202);
    expect(res.headers["openstack-api-version"]).toBe("volume 3.70");
  });

  test("openstackclient form: project in URL, token notused, JSON booleans", async () => {
    const v = await addVolume(h);
    const res = await action(
      h,
      v.id,
      { "os-migrate_volume": { host: "node@lvm2", force_host_copy: false, lock_volume: false } },
      { token: "notused" },
    );
    expect(res.status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "available", migration_status: "starting" });
  });
});

describe("when the bus refuses the cast", () => {
  let broken: Harness;
  beforeAll(async () => {
    broken = await startHarness();
    await addVolumeService(broken, "node@lvm2");
    await broken.bus.close();
  });
  afterAll(async () => broken.t.drop());

  test("500 with Cinder's generic message; the accepted migration is rolled back and recorded", async () => {
    const v = await addVolume(broken);
    const res = await action(broken, v.id, { "os-migrate_volume": { host: "node@lvm2", lock_volume: true } });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      computeFault: {
        code: 500,
        message: "The server has either erred or is incapable of performing the requested operation.",
      },
    });
    expect(await volumeRow(broken, v.id)).toMatchObject({ status: "available", migration_status: "error" });
    const [m] = await broken.t.db("migrations").where({ volume_id: v.id });
    expect(m).toMatchObject({ state: "error", error: "bus is closed" });
  });
});
