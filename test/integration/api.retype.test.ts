/**
 * os-retype, the API half (cinder-behaviour §1.4, Cinder's retype tests of §6): schema, type
 * lookup, size limits, the multiattach rule, the compare-and-swap to `retyping`, and the cast to
 * the scheduler. Every refusal leaves the volume, its migrations and the bus untouched.
 */
import type { NewVolume } from "../../db/volumes";
import {
  action,
  addVolume,
  type Harness,
  MEMBER,
  OTHER,
  startHarness,
  stateOf,
  volumeRow,
} from "./api.harness";

let h: Harness;
const GOLD = "00000000-0000-4000-8000-0000000000aa";
const MULTI = "00000000-0000-4000-8000-0000000000bb";
const SMALL = "00000000-0000-4000-8000-0000000000cc";
const PRIVATE = "00000000-0000-4000-8000-0000000000dd";

beforeAll(async () => {
  h = await startHarness();
  await h.t.db("volume_types").insert([
    { id: GOLD, name: "gold" },
    { id: MULTI, name: "multi" },
    { id: SMALL, name: "small" },
    { id: PRIVATE, name: "hidden", is_public: false },
  ]);
  await h.t.db("volume_type_extra_specs").insert([
    { volume_type_id: MULTI, key: "multiattach", value: "<is> True" },
    { volume_type_id: SMALL, key: "provisioning:max_vol_size", value: "1" },
    { volume_type_id: SMALL, key: "provisioning:min_vol_size", value: "1" },
  ]);
});
afterAll(async () => h.close());
beforeEach(() => {
  h.casts.length = 0;
});

const RETYPE_REFUSED =
  "Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active " +
  "migration or a consistency group, requested type has to be different that the one from the volume, " +
  "and for in-use volumes front-end qos specs cannot change.";

const retype = (body: unknown) => ({ "os-retype": body });

describe("accepted", () => {
  test.each([
    ["gold", "on-demand", "on-demand"],
    [GOLD, "never", "never"],
    ["gold", undefined, "never"],
  ])("new_type %p, policy %p → 202, retyping, cast %p", async (newType, policy, sent) => {
    const v = await addVolume(h, { status: "in-use", attach_status: "attached" });
    const res = await action(
      h,
      v.id,
      retype({ new_type: newType, ...(policy ? { migration_policy: policy } : {}) }),
      {
        token: MEMBER,
      },
    );
    expect(res.status).toBe(202);
    expect(res.text).toBe("");
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "retyping", previous_status: "in-use" });
    await h.flush();
    expect(h.casts).toEqual([
      {
        topic: "cinder-scheduler",
        method: "retype",
        args: { volume_id: v.id, new_type_id: GOLD, migration_policy: sent, migration_id: null },
      },
    ]);
  });

  test("to a multiattach type while available: the flag follows the type", async () => {
    const v = await addVolume(h);
    expect((await action(h, v.id, retype({ new_type: "multi" }))).status).toBe(202);
    expect(await volumeRow(h, v.id)).toMatchObject({ status: "retyping", multiattach: true });
  });

  test("private types are found too (Cinder looks the type up elevated)", async () => {
    const v = await addVolume(h);
    expect((await action(h, v.id, retype({ new_type: "hidden" }), { token: MEMBER })).status).toBe(202);
  });

  test("after a finished migration (success or error) a retype is allowed", async () => {
    const v = await addVolume(h, { migration_status: "error" });
    expect((await action(h, v.id, retype({ new_type: "gold" }))).status).toBe(202);
  });
});

interface Refusal {
  name: string;
  body: unknown;
  volume?: Partial<NewVolume>;
  token?: string;
  status: number;
  message: string;
}

const refusals: Refusal[] = [
  {
    name: "null body",
    body: null,
    status: 400,
    message: "Invalid input for field/attribute os-retype. Value: None. None is not of type 'object'",
  },
  {
    name: "missing new_type",
    body: { migration_policy: "never" },
    status: 400,
    message:
      "Invalid input for field/attribute os-retype. Value: {'migration_policy': 'never'}. 'new_type' is a required property",
  },
  {
    name: "bad policy",
    body: { new_type: "gold", migration_policy: "always" },
    status: 400,
    message:
      "Invalid input for field/attribute migration_policy. Value: always. 'always' is not one of ['on-demand', 'never']",
  },
  {
    // Cinder's enum has no None, so an explicit null fails although the type allows it.
    name: "null policy",
    body: { new_type: "gold", migration_policy: null },
    status: 400,
    message:
      "Invalid input for field/attribute migration_policy. Value: None. None is not one of ['on-demand', 'never']",
  },
  {
    name: "unknown type by name",
    body: { new_type: "platinum" },
    status: 404,
    message: "Volume type with name platinum could not be found.",
  },
  {
    name: "unknown type by id",
    body: { new_type: "00000000-0000-4000-8000-0000000000ff" },
    status: 404,
    message: "Volume type 00000000-0000-4000-8000-0000000000ff could not be found.",
  },
  {
    name: "same type",
    body: { new_type: "__DEFAULT__" },
    status: 400,
    message: RETYPE_REFUSED,
  },
  {
    name: "status error",
    body: { new_type: "gold" },
    volume: { status: "error" },
    status: 400,
    message: RETYPE_REFUSED,
  },
  {
    name: "already retyping",
    body: { new_type: "gold" },
    volume: { status: "retyping" },
    status: 400,
    message: RETYPE_REFUSED,
  },
  {
    name: "migrating",
    body: { new_type: "gold" },
    volume: { migration_status: "starting" },
    status: 400,
    message: RETYPE_REFUSED,
  },
  {
    name: "in a group",
    body: { new_type: "gold" },
    volume: { group_id: "00000000-0000-4000-8000-000000000123" },
    status: 400,
    message: RETYPE_REFUSED,
  },
  {
    name: "multiattach change on an in-use volume",
    body: { new_type: "multi" },
    volume: { status: "in-use", attach_status: "attached" },
    status: 400,
    message:
      "Invalid input received: Invalid volume_type passed, retypes affecting multiattach are only allowed on " +
      "available volumes, the specified volume however currently has a status of: in-use.",
  },
  {
    name: "larger than the type allows",
    body: { new_type: "small" },
    volume: { size: 2 },
    status: 400,
    message:
      "Invalid input received: Specified volume size of '2' is greater than the maximum allowable size of '1' for volume type 'small'.",
  },
  {
    name: "another project's volume",
    body: { new_type: "gold" },
    token: OTHER,
    status: 404,
    message: "",
  },
];

describe("refusals change nothing", () => {
  test.each(refusals)("$name → $status", async (c) => {
    const v = await addVolume(h, c.volume ?? {});
    const before = await stateOf(h, v.id);
    const res = await action(h, v.id, retype(c.body), {
      token: c.token,
      project: c.token === OTHER ? "other" : "demo",
    });
    expect(res.status).toBe(c.status);
    const message = c.message || `Volume ${v.id} could not be found.`;
    expect(Object.values(res.body)).toEqual([{ code: c.status, message }]);
    await h.flush();
    expect(await stateOf(h, v.id)).toEqual(before);
    expect(h.casts).toEqual([]);
  });
});

describe("when the bus refuses the cast", () => {
  let broken: Harness;
  beforeAll(async () => {
    broken = await startHarness();
    await broken.t.db("volume_types").insert({ id: MULTI, name: "multi" });
    await broken.t
      .db("volume_type_extra_specs")
      .insert({ volume_type_id: MULTI, key: "multiattach", value: "<is> True" });
    await broken.bus.close();
  });
  afterAll(async () => broken.t.drop());

  test("500, and the volume gets its status and multiattach flag back", async () => {
    const v = await addVolume(broken);
    const res = await action(broken, v.id, retype({ new_type: "multi" }));
    expect(res.status).toBe(500);
    expect(await volumeRow(broken, v.id)).toMatchObject({ status: "available", multiattach: false });
  });
});
