/**
 * What a migration (migration_status) and a locked volume (`maintenance`) block, cinder-behaviour
 * §2.3: every refusal through HTTP with Cinder's status and exact message, and nothing changed —
 * the volume row, its attachments, snapshots and migrations, and no message on the bus.
 */
import type { NewVolume } from "../../db/volumes";
import {
  addAttachment,
  addVolume,
  addVolumeService,
  type Harness,
  MEMBER,
  send,
  startHarness,
  stateOf,
} from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await addVolumeService(h, "node@lvm");
  await addVolumeService(h, "node@lvm2");
  await h.t.db("volume_types").insert({ id: "00000000-0000-4000-8000-0000000000aa", name: "gold" });
});
afterAll(async () => h.close());
beforeEach(() => {
  h.casts.length = 0;
});

const DELETE_REFUSED =
  "Invalid volume: Volume status must be available or error or error_restoring or error_extending or " +
  "error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a " +
  "transfer, or be disassociated from snapshots after volume transfer.";
// Cinder's build_or_str of no status leaves a double space.
const FORCE_DELETE_REFUSED =
  "Invalid volume: Volume  must not be migrating, attached, belong to a group, have snapshots, awaiting a " +
  "transfer, or be disassociated from snapshots after volume transfer.";
const RETYPE_REFUSED =
  "Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active " +
  "migration or a consistency group, requested type has to be different that the one from the volume, " +
  "and for in-use volumes front-end qos specs cannot change.";
const MIGRATE_REFUSED = (id: string): string =>
  `Invalid volume: Volume ${id} status must be available or in-use, must not be migrating, have snapshots, ` +
  "be replicated, be part of a group and destination host/cluster must be different than the current one";

const MIGRATING: Partial<NewVolume> = { migration_status: "migrating" };
const LOCKED: Partial<NewVolume> = {
  status: "maintenance",
  previous_status: "available",
  migration_status: "migrating",
  metadata: { k: "v" },
};

interface Blocked {
  name: string;
  volume: Partial<NewVolume>;
  /** Makes the volume a migration's temp volume (target:<source>). */
  target?: boolean;
  attached?: boolean;
  request: (id: string) => { method: "post" | "put" | "delete"; path: string; body?: unknown };
  token?: string;
  message: string | ((id: string) => string);
}

const act = (body: unknown) => (id: string) => ({
  method: "post" as const,
  path: `/v3/demo/volumes/${id}/action`,
  body,
});

const cases: Blocked[] = [
  {
    name: "delete while migrating",
    volume: MIGRATING,
    request: (id) => ({ method: "delete", path: `/v3/demo/volumes/${id}` }),
    message: DELETE_REFUSED,
  },
  {
    name: "delete while starting",
    volume: { migration_status: "starting" },
    request: (id) => ({ method: "delete", path: `/v3/demo/volumes/${id}` }),
    message: DELETE_REFUSED,
  },
  {
    name: "delete of a migration's temp volume",
    volume: {},
    target: true,
    request: (id) => ({ method: "delete", path: `/v3/demo/volumes/${id}` }),
    message: DELETE_REFUSED,
  },
  {
    name: "force-delete while migrating",
    volume: LOCKED,
    request: act({ "os-force_delete": {} }),
    message: FORCE_DELETE_REFUSED,
  },
  {
    name: "force-delete of a temp volume",
    volume: { status: "creating" },
    target: true,
    request: act({ "os-force_delete": {} }),
    message: FORCE_DELETE_REFUSED,
  },
  {
    name: "force-delete of an attached volume",
    volume: { status: "in-use", attach_status: "attached" },
    attached: true,
    request: act({ "os-force_delete": {} }),
    message: FORCE_DELETE_REFUSED,
  },
  {
    name: "second migration",
    volume: MIGRATING,
    request: act({ "os-migrate_volume": { host: "node@lvm2" } }),
    message: MIGRATE_REFUSED,
  },
  {
    name: "snapshot while migrating",
    volume: MIGRATING,
    request: (id) => ({ method: "post", path: "/v3/demo/snapshots", body: { snapshot: { volume_id: id } } }),
    message: "Invalid volume: Snapshot cannot be created while volume is migrating.",
  },
  {
    name: "snapshot in maintenance",
    volume: LOCKED,
    request: (id) => ({ method: "post", path: "/v3/demo/snapshots", body: { snapshot: { volume_id: id } } }),
    message: "Invalid volume: The snapshot cannot be created when the volume is in maintenance mode.",
  },
  {
    name: "retype while migrating",
    volume: MIGRATING,
    request: act({ "os-retype": { new_type: "gold", migration_policy: "on-demand" } }),
    message: RETYPE_REFUSED,
  },
  {
    name: "retype in maintenance",
    volume: LOCKED,
    request: act({ "os-retype": { new_type: "gold" } }),
    message: RETYPE_REFUSED,
  },
  {
    name: "attach in maintenance",
    volume: LOCKED,
    request: act({
      "os-attach": { instance_uuid: "2e4d7f0c-3e7a-4e6b-9b8f-1c2d3e4f5a6b", mountpoint: "/dev/vdb" },
    }),
    message: "Invalid volume: The volume cannot be attached in maintenance mode.",
  },
  {
    name: "reserve in maintenance",
    volume: LOCKED,
    request: act({ "os-reserve": {} }),
    message: "Invalid volume: Volume status must be available to reserve, but the status is maintenance.",
  },
  {
    name: "detach in maintenance",
    volume: { ...LOCKED, attach_status: "attached" },
    attached: true,
    request: act({ "os-detach": {} }),
    message: "Invalid volume: The volume cannot be detached in maintenance mode.",
  },
  {
    name: "force-detach in maintenance",
    volume: { ...LOCKED, attach_status: "attached" },
    attached: true,
    request: act({ "os-force_detach": {} }),
    message: "Invalid volume: The volume cannot be detached in maintenance mode.",
  },
  {
    name: "update of name and description in maintenance",
    volume: LOCKED,
    request: (id) => ({
      method: "put",
      path: `/v3/demo/volumes/${id}`,
      body: { volume: { name: "new", description: "d" } },
    }),
    message: "Invalid volume: The volume cannot be updated during maintenance.",
  },
  {
    name: "set_bootable in maintenance",
    volume: LOCKED,
    request: act({ "os-set_bootable": { bootable: true } }),
    message: "Invalid volume: The volume cannot be updated during maintenance.",
  },
  {
    name: "metadata create in maintenance",
    volume: LOCKED,
    request: (id) => ({
      method: "post",
      path: `/v3/demo/volumes/${id}/metadata`,
      body: { metadata: { a: "b" } },
    }),
    message: "Invalid volume: Updating volume metadata is not allowed for volumes in maintenance status.",
  },
  {
    name: "metadata replace in maintenance",
    volume: LOCKED,
    request: (id) => ({
      method: "put",
      path: `/v3/demo/volumes/${id}/metadata`,
      body: { metadata: { a: "b" } },
    }),
    message: "Invalid volume: Updating volume metadata is not allowed for volumes in maintenance status.",
  },
  {
    name: "metadata item update in maintenance",
    volume: LOCKED,
    request: (id) => ({
      method: "put",
      path: `/v3/demo/volumes/${id}/metadata/k`,
      body: { meta: { k: "w" } },
    }),
    message: "Invalid volume: Updating volume metadata is not allowed for volumes in maintenance status.",
  },
  {
    name: "metadata delete in maintenance",
    volume: LOCKED,
    request: (id) => ({ method: "delete", path: `/v3/demo/volumes/${id}/metadata/k` }),
    message: "Invalid volume: Deleting volume metadata is not allowed for volumes in maintenance status.",
  },
  {
    name: "extend in maintenance",
    volume: LOCKED,
    request: act({ "os-extend": { new_size: 2 } }),
    message: (id) =>
      `Invalid volume: Volume ${id} status must be '{'status': 'available'}' to extend, currently maintenance.`,
  },
  {
    name: "readonly flag in maintenance",
    volume: LOCKED,
    request: act({ "os-update_readonly_flag": { readonly: true } }),
    message: (id) =>
      `Invalid volume: Volume ${id} status must be available to update readonly flag, but current status is: maintenance.`,
  },
];

describe("refused during a migration or in maintenance; nothing changes", () => {
  test.each(cases)("$name", async (c) => {
    const v = await addVolume(h, c.volume);
    if (c.target) {
      const source = await addVolume(h, MIGRATING);
      await h.t.db("volumes").where({ id: v.id }).update({ migration_target_of: source.id });
    }
    if (c.attached) {
      await addAttachment(h, v.id);
    }
    const before = await stateOf(h, v.id);
    const r = c.request(v.id);
    const res = await send(h, r.method, r.path, r.body, { token: c.token });
    const message = typeof c.message === "function" ? c.message(v.id) : c.message;
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ badRequest: { code: 400, message } });
    await h.flush();
    expect(await stateOf(h, v.id)).toEqual(before);
    expect(h.casts).toEqual([]);
  });
});

describe("not refused", () => {
  test("os-begin_detaching during a migration is a silent no-op (Nova's swap calls it)", async () => {
    const v = await addVolume(h, {
      status: "in-use",
      attach_status: "attached",
      migration_status: "migrating",
    });
    await addAttachment(h, v.id);
    const before = await stateOf(h, v.id);
    const res = await send(h, "post", `/v3/demo/volumes/${v.id}/action`, { "os-begin_detaching": {} });
    expect(res.status).toBe(202);
    expect(await stateOf(h, v.id)).toEqual(before);
  });

  test("an unlocked migrating volume can still be extended and get metadata (lock_volume=false)", async () => {
    const v = await addVolume(h, MIGRATING);
    const meta = await send(
      h,
      "post",
      `/v3/demo/volumes/${v.id}/metadata`,
      { metadata: { a: "b" } },
      { token: MEMBER },
    );
    expect(meta.status).toBe(200);
    const extend = await send(h, "post", `/v3/demo/volumes/${v.id}/action`, { "os-extend": { new_size: 3 } });
    expect(extend.status).toBe(202);
  });
});
