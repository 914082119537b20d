/**
 * os-migrate_volume_completion (cinder-behaviour §1.3 and the completion tests of §6): Nova's
 * callback. Refusals leave both volumes untouched and call nobody; a migration's completion is a
 * synchronous call to the source volume's service answered with 200 {"save_volume_id"}.
 */
import { randomUUID } from "node:crypto";

import { action, addAttachment, addVolume, type Harness, MEMBER, startHarness, stateOf } from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());
beforeEach(() => {
  h.casts.length = 0;
});

/** A source mid-migration and its temp volume (target:<source>). */
async function pair(): Promise<{ src: string; dst: string }> {
  const src = await addVolume(h, {
    migration_status: "migrating",
    status: "in-use",
    attach_status: "attached",
  });
  const dst = await addVolume(h, { host: "node@lvm2#lvm2" });
  await h.t.db("volumes").where({ id: dst.id }).update({ migration_target_of: src.id });
  return { src: src.id, dst: dst.id };
}

const completion = (newVolume: unknown, extra: Record<string, unknown> = {}) => ({
  "os-migrate_volume_completion": { new_volume: newVolume, ...extra },
});

describe("refusals change nothing and call nobody", () => {
  type Setup = () => Promise<{ src: string; dst: string }>;
  const cases: [
    string,
    Setup,
    (p: { src: string; dst: string }) => unknown,
    number,
    (p: { src: string; dst: string }) => string,
    string?,
  ][] = [
    [
      "non-admin",
      pair,
      (p) => completion(p.dst),
      403,
      () =>
        "Policy doesn't allow volume_extension:volume_admin_actions:migrate_volume_completion to be performed.",
      MEMBER,
    ],
    [
      "missing new_volume (schema before policy)",
      pair,
      () => ({ "os-migrate_volume_completion": {} }),
      400,
      () =>
        "Invalid input for field/attribute os-migrate_volume_completion. Value: {}. 'new_volume' is a required property",
      MEMBER,
    ],
    [
      "new_volume not a uuid",
      pair,
      () => completion("abc"),
      400,
      () => "Invalid input for field/attribute new_volume. Value: abc. 'abc' is not a 'uuid'",
    ],
    [
      "error of a wrong type",
      pair,
      (p) => completion(p.dst, { error: 1 }),
      400,
      () => "Invalid input for field/attribute error. Value: 1. 1 is not of type 'string', 'null', 'boolean'",
    ],
    [
      "unknown key",
      pair,
      (p) => completion(p.dst, { foo: 1 }),
      400,
      (p) =>
        `Invalid input for field/attribute os-migrate_volume_completion. Value: {'new_volume': '${p.dst}', 'foo': 1}. Additional properties are not allowed ('foo' was unexpected)`,
    ],
    [
      "empty action key",
      pair,
      (p) => ({ "": { new_volume: p.dst } }),
      400,
      () => "There is no such action: . Verify the request body and Content-Type header and try again.",
    ],
    [
      "unknown new volume",
      pair,
      () => completion("9b0b1c1e-0000-4000-8000-000000000000"),
      404,
      () => "Volume 9b0b1c1e-0000-4000-8000-000000000000 could not be found.",
    ],
    [
      "source not mid-migration",
      async () => {
        const p = await pair();
        await h.t.db("volumes").where({ id: p.src }).update({ migration_status: null });
        return p;
      },
      (p) => completion(p.dst),
      400,
      () => "Invalid volume: Source volume not mid-migration.",
    ],
    [
      "destination not mid-migration",
      async () => {
        const p = await pair();
        await h.t.db("volumes").where({ id: p.dst }).update({ migration_target_of: null });
        return p;
      },
      (p) => completion(p.dst),
      400,
      () => "Invalid volume: Destination volume not mid-migration.",
    ],
    [
      "destination is another volume's target",
      async () => {
        const p = await pair();
        const other = await pair();
        return { src: p.src, dst: other.dst };
      },
      (p) => completion(p.dst),
      400,
      (p) =>
        expect.stringMatching(
          new RegExp(
            `^Invalid volume: Destination has migration_status target:[0-9a-f-]{36}, expected target:${p.src}\\.$`,
          ),
        ) as unknown as string,
    ],
    [
      "destination migrating but no target",
      async () => {
        const p = await pair();
        await h.t
          .db("volumes")
          .where({ id: p.dst })
          .update({ migration_target_of: null, migration_status: "migrating" });
        return p;
      },
      (p) => completion(p.dst),
      400,
      (p) => `Invalid volume: Destination has migration_status migrating, expected target:${p.src}.`,
    ],
  ];

  // Objects, not tuples: a tuple shorter than the callback's arity makes jest pass `done`.
  const table = cases.map(([name, setup, body, status, message, token]) => ({
    name,
    setup,
    body,
    status,
    message,
    token,
  }));
  test.each(table)("$name", async ({ setup, body, status, message, token }) => {
    const p = await setup();
    const before = [await stateOf(h, p.src), await stateOf(h, p.dst)];
    const res = await action(h, p.src, body(p), { token });
    expect(res.status).toBe(status);
    expect(Object.values(res.body)).toEqual([{ code: status, message: message(p) }]);
    await h.flush();
    expect([await stateOf(h, p.src), await stateOf(h, p.dst)]).toEqual(before);
    expect(h.casts).toEqual([]);
  });
});

describe("during a migration: a synchronous call to the source's service", () => {
  test.each([
    [undefined, false],
    [false, false],
    [true, true],
    [null, false],
    ["True", true],
    ["1", true],
    // Cinder passes the raw string on, so "false" would roll the migration back there.
    ["false", false],
    ["no", false],
  ])("error %p → %p; 200 with the source id", async (error, expected) => {
    const p = await pair();
    const res = await action(h, p.src, completion(p.dst, error === undefined ? {} : { error }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ save_volume_id: p.src });
    expect(h.casts).toEqual([
      {
        topic: "cinder-volume.node@lvm",
        method: "migrate_volume_completion",
        args: { volume_id: p.src, new_volume_id: p.dst, error: expected },
      },
    ]);
  });
});

describe("without any migration (a plain Nova swap)", () => {
  test("the attachments move to the new volume, read-write, and the new id is returned", async () => {
    const old = await addVolume(h, {
      status: "in-use",
      attach_status: "attached",
      metadata: { attached_mode: "ro" },
    });
    const instance = randomUUID();
    await addAttachment(h, old.id, { instance_uuid: instance, attach_mode: "ro" });
    const fresh = await addVolume(h);
    const res = await action(h, old.id, completion(fresh.id));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ save_volume_id: fresh.id });
    expect(h.casts).toEqual([]);

    const after = (await stateOf(h, old.id)) as {
      volume: Record<string, unknown>;
      attachments: Record<string, unknown>[];
    };
    expect(after.volume).toMatchObject({ status: "available", attach_status: "detached", metadata: {} });
    expect(after.attachments).toEqual([
      expect.objectContaining({ attach_status: "detached", deleted: true }),
    ]);
    const moved = (await stateOf(h, fresh.id)) as typeof after;
    expect(moved.volume).toMatchObject({
      status: "in-use",
      attach_status: "attached",
      metadata: { readonly: "False", attached_mode: "rw" },
    });
    expect(moved.attachments).toEqual([
      expect.objectContaining({
        instance_uuid: instance,
        attached_host: "compute-1",
        mountpoint: "/dev/vdb",
        attach_mode: "rw",
        attach_status: "attached",
        deleted: false,
      }),
    ]);
  });

  test("with error nothing moves; the new id is still returned", async () => {
    const old = await addVolume(h, { status: "in-use", attach_status: "attached" });
    await addAttachment(h, old.id);
    const fresh = await addVolume(h);
    const before = [await stateOf(h, old.id), await stateOf(h, fresh.id)];
    const res = await action(h, old.id, completion(fresh.id, { error: true }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ save_volume_id: fresh.id });
    expect([await stateOf(h, old.id), await stateOf(h, fresh.id)]).toEqual(before);
  });
});

describe("when the source's service fails", () => {
  let failing: Harness;
  beforeAll(async () => {
    failing = await startHarness();
    await failing.bus.serve("cinder-volume.node@lvm", {
      migrate_volume_completion: async () => {
        throw new Error("boom");
      },
    });
  });
  afterAll(async () => failing.close());

  test("500 with Cinder's generic message", async () => {
    const src = await addVolume(failing, { migration_status: "migrating" });
    const dst = await addVolume(failing);
    await failing.t.db("volumes").where({ id: dst.id }).update({ migration_target_of: src.id });
    const res = await action(failing, src.id, completion(dst.id));
    expect(res.status).toBe(500);
    expect(res.body.computeFault.code).toBe(500);
  });
});
