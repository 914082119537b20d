/** /types/{id}/encryption (cinder/api/contrib/volume_type_encryption.py). */
import { randomUUID } from "node:crypto";

import { addVolume, ADMIN, api, type Harness, MEMBER, startHarness } from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

const SPECS = {
  provider: "LuksEncryptor",
  key_size: 256,
  cipher: "aes-xts-plain64",
  control_location: "front-end",
};

async function newType(): Promise<string> {
  const r = await api(h, "post", "/v3/demo/types").send({ volume_type: { name: `enc-${randomUUID()}` } });
  expect(r.status).toBe(200);
  return r.body.volume_type.id as string;
}

const enc = (typeId: string, suffix = "", token = ADMIN) =>
  ({
    get: () => api(h, "get", `/v3/demo/types/${typeId}/encryption${suffix}`, { token }),
    post: (body: unknown) =>
      api(h, "post", `/v3/demo/types/${typeId}/encryption${suffix}`, { token }).send(body as object),
    put: (body: unknown) =>
      api(h, "put", `/v3/demo/types/${typeId}/encryption${suffix}`, { token }).send(body as object),
    delete: () => api(h, "delete", `/v3/demo/types/${typeId}/encryption${suffix}`, { token }),
  }) as const;

test("create, show, show one item, update, delete: Cinder's shapes and statuses", async () => {
  const typeId = await newType();
  expect((await enc(typeId).get()).body).toEqual({});

  const created = await enc(typeId).post({ encryption: { ...SPECS, key_size: "256" } });
  expect(created.status).toBe(200);
  expect(created.body).toEqual({
    encryption: { ...SPECS, volume_type_id: typeId, encryption_id: expect.any(String) },
  });

  const shown = await enc(typeId).get();
  expect(shown.status).toBe(200);
  expect(shown.body).toEqual({
    ...SPECS,
    volume_type_id: typeId,
    encryption_id: created.body.encryption.encryption_id,
    deleted: false,
    created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
    updated_at: null,
    deleted_at: null,
  });

  const update = { key_size: 128, provider: "SomeProvider", control_location: "back-end" };
  const updated = await enc(typeId, "/provider").put({ encryption: update });
  expect(updated.status).toBe(200);
  expect(updated.body).toEqual({ encryption: update });
  expect((await enc(typeId).get()).body).toMatchObject({ ...update, cipher: "aes-xts-plain64" });
  expect((await enc(typeId, "/cipher").get()).body).toEqual({ cipher: "aes-xts-plain64" });
  expect((await enc(typeId, "/key_size").get()).body).toEqual({ key_size: 128 });
  const noKey = await enc(typeId, "/nonsense").get();
  expect(noKey.status).toBe(404);
  expect(noKey.body.itemNotFound.message).toBe(`Volume type encryption for type ${typeId} does not exist.`);

  expect((await enc(typeId, "/provider").delete()).status).toBe(202);
  expect((await enc(typeId).get()).body).toEqual({});
  const again = await enc(typeId, "/provider").delete();
  expect(again.status).toBe(404);
  expect(again.body.itemNotFound.message).toBe(`Volume type encryption for type ${typeId} does not exist.`);
  // A type may be encrypted again once its encryption was deleted.
  expect((await enc(typeId).post({ encryption: SPECS })).status).toBe(200);
});

test("one encryption per type; unknown types are 404; update without one is 404", async () => {
  const typeId = await newType();
  expect((await enc(typeId).post({ encryption: SPECS })).status).toBe(200);
  const twice = await enc(typeId).post({ encryption: SPECS });
  expect(twice.status).toBe(400);
  expect(twice.body.badRequest.message).toBe(`Volume type encryption for type ${typeId} already exists.`);

  const unknown = randomUUID();
  const missing = await enc(unknown).post({ encryption: SPECS });
  expect(missing.status).toBe(404);
  expect(missing.body.itemNotFound.message).toBe(`Volume type ${unknown} could not be found.`);
  expect((await enc(unknown).get()).status).toBe(404);

  const bare = await newType();
  const noEncryption = await enc(bare, "/x").put({ encryption: { cipher: null } });
  expect(noEncryption.status).toBe(404);
  expect(noEncryption.body.itemNotFound.message).toBe(
    `Volume type encryption for type ${bare} does not exist.`,
  );
});

test("bodies are validated (before the policy), with Cinder's messages", async () => {
  const typeId = await newType();
  const cases: [unknown, string][] = [
    [{ encryption: { control_location: "front-end" } }, "'provider' is a required property"],
    [{ encryption: { provider: "p" } }, "'control_location' is a required property"],
    [{ encryption: { ...SPECS, control_location: "middle" } }, "is not one of ['front-end', 'back-end']"],
    [{ encryption: { ...SPECS, key_size: "big" } }, "Invalid input received: key_size must be an integer."],
    [{ encryption: { ...SPECS, key_size: -1 } }, "-1 is less than the minimum of 0"],
    [{ encryption: { ...SPECS, key_size: "-1" } }, "-1 is less than the minimum of 0"],
    [{ encryption: { ...SPECS, key_size: "99999999999" } }, "is greater than the maximum of 2147483647"],
    [{ encryption: { ...SPECS, key_size: 99999999999 } }, "is greater than the maximum of 2147483647"],
    [{ nope: {} }, "'encryption' is a required property"],
  ];
  for (const [body, message] of cases) {
    for (const token of [ADMIN, MEMBER]) {
      const r = await enc(typeId, "", token).post(body);
      expect([r.status, r.body.badRequest?.message]).toEqual([400, expect.stringContaining(message)]);
    }
  }
  const badUpdate = await enc(typeId, "/x").put({ encryption: { control_location: "middle" } });
  expect(badUpdate.status).toBe(400);
});

test("members are refused (volume_type_encryption policies are admin_api)", async () => {
  const typeId = await newType();
  expect((await enc(typeId).post({ encryption: SPECS })).status).toBe(200);
  const cases = [
    [enc(typeId, "", MEMBER).get(), "get"],
    [enc(typeId, "/cipher", MEMBER).get(), "get"],
    [enc(typeId, "", MEMBER).post({ encryption: SPECS }), "create"],
    [enc(typeId, "/x", MEMBER).put({ encryption: { cipher: null } }), "update"],
    [enc(typeId, "/x", MEMBER).delete(), "delete"],
  ] as const;
  for (const [req, rule] of cases) {
    const r = await req;
    expect(r.status).toBe(403);
    expect(r.body.forbidden.message).toBe(
      `Policy doesn't allow volume_extension:volume_type_encryption:${rule} to be performed.`,
    );
  }
});

test("refused while a volume has the type, in Cinder's words; such a type takes no new volume", async () => {
  const typeId = await newType();
  expect((await enc(typeId).post({ encryption: SPECS })).status).toBe(200);
  const create = await api(h, "post", "/v3/demo/volumes").send({ volume: { size: 1, volume_type: typeId } });
  expect(create.status).toBe(400);
  expect(create.body.badRequest.message).toMatch(/^Invalid input received: volume type enc-.* is encrypted/);

  const plain = await addVolume(h);
  const retype = await api(h, "post", `/v3/demo/volumes/${plain.id}/action`).send({
    "os-retype": { new_type: typeId, migration_policy: "on-demand" },
  });
  expect(retype.status).toBe(400);
  expect(retype.body.badRequest.message).toMatch(/is encrypted, and this service has no key manager/);
  expect(h.casts.some((c) => c.method === "retype")).toBe(false);

  const used = await newType();
  await addVolume(h, { volume_type_id: used });
  const c = await enc(used).post({ encryption: SPECS });
  expect([c.status, c.body.badRequest?.message]).toEqual([
    400,
    "Cannot create encryption specs. Volume type in use.",
  ]);
  await h.t.db("volumes").where({ volume_type_id: used }).update({ volume_type_id: typeId });
  const u = await enc(typeId, "/x").put({ encryption: { cipher: null } });
  expect([u.status, u.body.badRequest?.message]).toEqual([
    400,
    "Cannot update encryption specs. Volume type in use.",
  ]);
  const d = await enc(typeId, "/x").delete();
  expect([d.status, d.body.badRequest?.message]).toEqual([
    400,
    "Cannot delete encryption specs. Volume type in use.",
  ]);
  expect((await enc(typeId).get()).body).toMatchObject({ cipher: "aes-xts-plain64" });
});

test("a type id that is no uuid names nothing: 404 on every method, never a 500 (found by the fuzzer)", async () => {
  const bad = encodeURIComponent("ᙸ𘥂-not-a-uuid");
  for (const r of [
    await enc(bad, `/${randomUUID()}`).delete(),
    await enc(bad, `/${randomUUID()}`).put({ encryption: { cipher: "x" } }),
    await enc(bad).get(),
    await enc(bad).post({ encryption: SPECS }),
  ]) {
    expect(r.status).toBe(404);
  }
});
