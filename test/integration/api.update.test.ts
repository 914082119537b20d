/** PUT /volumes/{id} and /volumes/{id}/metadata (cinder/api/v3/volumes.py, volume_metadata.py). */
import {
  addVolume,
  api,
  type Harness,
  MEMBER,
  OTHER,
  send,
  startHarness,
  stateOf,
  VOLUME_KEYS_3_0,
  volumeRow,
} from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

const CORE_KEYS = [...VOLUME_KEYS_3_0].sort();

describe("PUT /volumes/{id}", () => {
  test("200 with the volume (no extension attributes); name wins over display_name, text stripped", async () => {
    const v = await addVolume(h, { metadata: { old: "x", readonly: "True" } });
    const res = await send(
      h,
      "put",
      `/v3/demo/volumes/${v.id}`,
      {
        volume: {
          display_name: "legacy",
          name: "  fresh ",
          display_description: " d ",
          metadata: { a: "b" },
        },
      },
      { token: MEMBER },
    );
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.volume).sort()).toEqual(CORE_KEYS);
    expect(res.body.volume).toMatchObject({
      name: "fresh",
      description: "d",
      metadata: { a: "b", readonly: "True" },
    });
    expect(await volumeRow(h, v.id)).toMatchObject({ name: "fresh", description: "d" });
  });

  test("3.0 accepts an empty update; 3.53 wants something to change", async () => {
    const v = await addVolume(h);
    expect((await send(h, "put", `/v3/demo/volumes/${v.id}`, { volume: {} })).status).toBe(200);
    const before = await stateOf(h, v.id);
    const res = await send(h, "put", `/v3/demo/volumes/${v.id}`, { volume: {} }, { version: "3.53" });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(
      "Invalid input for field/attribute volume. Value: {}. {} is not valid under any of the given schemas",
    );
    expect(await stateOf(h, v.id)).toEqual(before);
  });

  test.each([
    [
      { volume: { size: 2 } },
      "Invalid input for field/attribute volume. Value: {'size': 2}. Additional properties are not allowed ('size' was unexpected)",
    ],
    [
      { volume: { metadata: { k: 1 } } },
      "Invalid input for field/attribute k. Value: 1. 1 is not of type 'string'",
    ],
    [
      { volume: { name: "x".repeat(256) } },
      "Invalid input received: name has 256 characters, more than 255.",
    ],
  ])("%j → 400", async (body, message) => {
    const v = await addVolume(h);
    const res = await send(h, "put", `/v3/demo/volumes/${v.id}`, body);
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(message);
  });

  test("another project's volume → 404", async () => {
    const v = await addVolume(h);
    const res = await send(
      h,
      "put",
      `/v3/other/volumes/${v.id}`,
      { volume: { name: "n" } },
      { token: OTHER },
    );
    expect(res.status).toBe(404);
  });
});

describe("/volumes/{id}/metadata", () => {
  const path = (id: string, key?: string) => `/v3/demo/volumes/${id}/metadata${key ? `/${key}` : ""}`;

  test("create merges, update_all replaces, items read, write and delete; admin keys stay", async () => {
    const v = await addVolume(h, { metadata: { a: "1", readonly: "True" } });
    const created = await send(h, "post", path(v.id), { metadata: { b: "2" } }, { token: MEMBER });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ metadata: { a: "1", b: "2" } });
    const replaced = await send(h, "put", path(v.id), { metadata: { c: "3" } }, { token: MEMBER });
    expect(replaced.body).toEqual({ metadata: { c: "3" } });
    expect(await volumeRow(h, v.id)).toMatchObject({ metadata: { c: "3", readonly: "True" } });
    const item = await send(h, "put", path(v.id, "c"), { meta: { c: "4" } }, { token: MEMBER });
    expect(item.status).toBe(200);
    expect(item.body).toEqual({ meta: { c: "4" } });
    expect((await send(h, "get", path(v.id, "c"), undefined, { token: MEMBER })).body).toEqual({
      meta: { c: "4" },
    });
    const deleted = await send(h, "delete", path(v.id, "c"), undefined, { token: MEMBER });
    expect(deleted.status).toBe(200);
    expect(deleted.text).toBe("");
    expect((await send(h, "get", path(v.id))).body).toEqual({ metadata: {} });
    expect(await volumeRow(h, v.id)).toMatchObject({ metadata: { readonly: "True" } });
  });

  test.each([
    ["get", (id: string) => path(id, "nope")],
    ["delete", (id: string) => path(id, "nope")],
    // Admin metadata is not user metadata.
    ["delete", (id: string) => path(id, "readonly")],
  ] as const)("%s of a missing key → 404", async (method, p) => {
    const v = await addVolume(h, { metadata: { readonly: "True" } });
    const res = await send(h, method, p(v.id));
    expect(res.status).toBe(404);
    expect(res.body.itemNotFound.message).toBe(
      `Volume ${v.id} has no metadata with key ${p(v.id).split("/").pop()}.`,
    );
  });

  test.each([
    [{ meta: { other: "x" } }, "Request body and URI mismatch"],
    [
      { meta: { k: "x", j: "y" } },
      "Invalid input for field/attribute meta. Value: {'k': 'x', 'j': 'y'}. {'k': 'x', 'j': 'y'} has too many properties",
    ],
    [{ meta: {} }, "Invalid input for field/attribute meta. Value: {}. {} should be non-empty"],
    [{ metadata: { k: "x" } }, "'meta' is a required property"],
  ])("item PUT %j → 400", async (body, message) => {
    const v = await addVolume(h, { metadata: { k: "v" } });
    const before = await stateOf(h, v.id);
    const res = await send(h, "put", path(v.id, "k"), body);
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(message);
    expect(await stateOf(h, v.id)).toEqual(before);
  });

  test("a bad key → 400", async () => {
    const v = await addVolume(h);
    const res = await send(h, "post", path(v.id), { metadata: { "bad!key": "x" } });
    expect(res.body.badRequest.message).toBe(
      "Invalid input for field/attribute metadata. Value: {'bad!key': 'x'}. 'bad!key' does not match any of the regexes: '^[a-zA-Z0-9-_:. /]{1,255}$'",
    );
  });

  test("3.15: an ETag, and If-Match guards update_all (cinderclient's metadata unset)", async () => {
    const v = await addVolume(h, { metadata: { a: "1", b: "2" } });
    const old = await api(h, "get", path(v.id), { version: "3.14" });
    expect(old.headers["etag"]).toBeUndefined();
    const got = await api(h, "get", path(v.id), { version: "3.15" });
    const etag = got.headers["etag"] as string;
    expect(etag).toMatch(/^[0-9a-f]{32}$/);
    const ok = await api(h, "put", path(v.id), { version: "3.15" })
      .set("If-Match", etag)
      .send({ metadata: { a: "1" } });
    expect(ok.status).toBe(200);
    const before = await stateOf(h, v.id);
    const stale = await api(h, "put", path(v.id), { version: "3.15" })
      .set("If-Match", etag)
      .send({ metadata: {} });
    expect(stale.status).toBe(412);
    expect(await stateOf(h, v.id)).toEqual(before);
  });
});
