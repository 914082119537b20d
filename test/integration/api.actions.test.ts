/**
 * os-extend, os-update_readonly_flag, os-set_bootable and os-force_delete: accepted paths with
 * their casts and answers, refusals with Cinder's messages and nothing changed.
 */
import { insertSnapshot } from "../../db/snapshots";
import {
  action,
  addVolume,
  api,
  type Harness,
  MEMBER,
  startHarness,
  stateOf,
  volumeRow,
} from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.t.db("volume_types").insert({ id: "00000000-0000-4000-8000-0000000000cc", name: "small" });
  await h.t.db("volume_type_extra_specs").insert({
    volume_type_id: "00000000-0000-4000-8000-0000000000cc",
    key: "provisioning:max_vol_size",
    value: "5",
  });
});
afterAll(async () => h.close());
beforeEach(() => {
  h.casts.length = 0;
});

const BOOL_ENUM =
  "[True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't', False, 'False', " +
  "'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f']";

async function refused(
  volume: Parameters<typeof addVolume>[1],
  body: unknown,
  status: number,
  message: string | ((id: string) => string),
  opts: { token?: string; version?: string } = {},
): Promise<void> {
  const v = await addVolume(h, volume);
  const before = await stateOf(h, v.id);
  const res = await action(h, v.id, body, opts);
  expect(res.status).toBe(status);
  expect(Object.values(res.body)).toEqual([
    { code: status, message: typeof message === "function" ? message(v.id) : message },
  ]);
  await h.flush();
  expect(await stateOf(h, v.id)).toEqual(before);
  expect(h.casts).toEqual([]);
}

describe("os-extend", () => {
  test("owner extends an available volume: extending, previous status kept, cast to its service", async () => {
    const v = await addVolume(h);
    const res = await action(h, v.id, { "os-extend": { new_size: "3" } }, { token: MEMBER });
    expect(res.status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({
      status: "extending",
      previous_status: "available",
      size: 1,
    });
    await h.flush();
    expect(h.casts).toEqual([
      { topic: "cinder-volume.node@lvm", method: "extend_volume", args: { volume_id: v.id, new_size: 3 } },
    ]);
  });

  test("an in-use volume from 3.42", async () => {
    const v = await addVolume(h, { status: "in-use", attach_status: "attached" });
    expect((await action(h, v.id, { "os-extend": { new_size: 2 } }, { version: "3.42" })).status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "extending", previous_status: "in-use" });
  });

  test.each([
    [{}, 400, "Invalid input for field/attribute os-extend. Value: {}. 'new_size' is a required property"],
    [
      { new_size: 0 },
      400,
      "Invalid input for field/attribute new_size. Value: 0. 0 is less than the minimum of 1",
    ],
    [
      { new_size: "two" },
      400,
      "Invalid input for field/attribute new_size. Value: two. 'two' does not match '^[0-9]+$'",
    ],
    [
      { new_size: 1 },
      400,
      "Invalid input received: New size for extend must be greater than current size. (current: 1, extended: 1).",
    ],
  ])("%j → %i", async (body, status, message) => {
    await refused({}, { "os-extend": body }, status, message);
  });

  test("larger than the type allows", async () => {
    await refused(
      { volume_type_id: "00000000-0000-4000-8000-0000000000cc" },
      { "os-extend": { new_size: 6 } },
      400,
      "Invalid input received: Specified volume size of '6' is greater than the maximum allowable size of '5' for volume type 'small'.",
    );
  });

  test.each([
    [{ status: "in-use" as const }, "3.41", "available", "in-use"],
    [{ status: "error" as const }, "3.42", "available", "error"],
    [{ status: "extending" as const }, "3.0", "available", "extending"],
  ])("status %j at %s → 400", async (volume, version, expected, current) => {
    await refused(
      volume,
      { "os-extend": { new_size: 2 } },
      400,
      (id) =>
        `Invalid volume: Volume ${id} status must be '{'status': '${expected}'}' to extend, currently ${current}.`,
      { version },
    );
  });
});

describe("os-update_readonly_flag", () => {
  test.each([
    [true, "True"],
    ["false", "False"],
    ["1", "True"],
  ])("readonly %p → metadata readonly %p, shown by show", async (flag, stored) => {
    const v = await addVolume(h, { metadata: { k: "v" } });
    const res = await action(h, v.id, { "os-update_readonly_flag": { readonly: flag } }, { token: MEMBER });
    expect(res.status).toBe(202);
    const shown = await api(h, "get", `/v3/demo/volumes/${v.id}`, { token: MEMBER });
    expect(shown.body.volume.metadata).toEqual({ k: "v", readonly: stored });
    // It is admin metadata: the user metadata API does not list it.
    const meta = await api(h, "get", `/v3/demo/volumes/${v.id}/metadata`, { token: MEMBER });
    expect(meta.body).toEqual({ metadata: { k: "v" } });
  });

  test.each([
    [
      { readonly: "maybe" },
      `Invalid input for field/attribute readonly. Value: maybe. 'maybe' is not one of ${BOOL_ENUM}`,
    ],
    [
      { readonly: null },
      "Invalid input for field/attribute readonly. Value: None. None is not of type 'boolean', 'string'",
    ],
    [
      {},
      "Invalid input for field/attribute os-update_readonly_flag. Value: {}. 'readonly' is a required property",
    ],
  ])("%j → 400", async (body, message) => {
    await refused({}, { "os-update_readonly_flag": body }, 400, message);
  });

  test("an in-use volume → 400", async () => {
    await refused(
      { status: "in-use" },
      { "os-update_readonly_flag": { readonly: true } },
      400,
      (id) =>
        `Invalid volume: Volume ${id} status must be available to update readonly flag, but current status is: in-use.`,
    );
  });
});

describe("os-set_bootable", () => {
  test("200 with no body; bootable shown as a string", async () => {
    const v = await addVolume(h, { status: "in-use" });
    const res = await action(h, v.id, { "os-set_bootable": { bootable: "True" } }, { token: MEMBER });
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
    const shown = await api(h, "get", `/v3/demo/volumes/${v.id}`, { token: MEMBER });
    expect(shown.body.volume.bootable).toBe("true");
    await action(h, v.id, { "os-set_bootable": { bootable: false } });
    expect(await volumeRow(h, v.id)).toMatchObject({ bootable: false });
  });

  test("a bad value → 400", async () => {
    await refused(
      {},
      { "os-set_bootable": { bootable: 1 } },
      400,
      "Invalid input for field/attribute bootable. Value: 1. 1 is not of type 'boolean', 'string'",
    );
  });
});

describe("os-force_delete", () => {
  test.each(["error_deleting", "creating", "attaching", "maintenance", "deleting"] as const)(
    "from %s: deleting, cast to its service",
    async (status) => {
      const v = await addVolume(h, { status });
      const res = await action(h, v.id, { "os-force_delete": {} });
      expect(res.status).toBe(202);
      expect(await volumeRow(h, v.id)).toMatchObject({ status: "deleting" });
      await h.flush();
      expect(h.casts).toEqual([
        { topic: "cinder-volume.node@lvm", method: "delete_volume", args: { volume_id: v.id } },
      ]);
    },
  );

  test("an unplaced volume is gone at once", async () => {
    const v = await addVolume(h, { status: "creating", host: null });
    expect((await action(h, v.id, { "os-force_delete": null })).status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ deleted: true, status: "deleted" });
  });

  test("members are refused", async () => {
    await refused(
      { status: "error" },
      { "os-force_delete": {} },
      403,
      "Policy doesn't allow volume_extension:volume_admin_actions:force_delete to be performed.",
      { token: MEMBER },
    );
  });

  test("a volume with a snapshot is refused", async () => {
    const v = await addVolume(h, { status: "error" });
    await insertSnapshot(h.t.db, {
      volume_id: v.id,
      name: "s",
      description: null,
      status: "available",
      volume_size: 1,
      project_id: "demo",
      user_id: "alice",
    });
    const before = await stateOf(h, v.id);
    const res = await action(h, v.id, { "os-force_delete": {} });
    expect(res.status).toBe(400);
    expect(await stateOf(h, v.id)).toEqual(before);
  });
});
