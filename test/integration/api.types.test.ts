/** Volume types beyond create/delete: extra specs, update, private types and their access lists. */
import { addVolume, api, type Harness, MEMBER, OTHER, startHarness } from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

async function createType(
  name: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; name: string }> {
  const res = await api(h, "post", "/v3/demo/types").send({ volume_type: { name, ...extra } });
  expect(res.status).toBe(200);
  return res.body.volume_type;
}

describe("extra specs", () => {
  test("set, list, show, update and delete, answered with Cinder's bodies", async () => {
    const t = await createType("specs-1");
    const set = await api(h, "post", `/v3/demo/types/${t.id}/extra_specs`).send({
      extra_specs: { volume_backend_name: "file-2", "capabilities:thin": "<is> True" },
    });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({
      extra_specs: { volume_backend_name: "file-2", "capabilities:thin": "<is> True" },
    });
    const list = await api(h, "get", `/v3/demo/types/${t.id}/extra_specs`);
    expect(list.body).toEqual({
      extra_specs: { volume_backend_name: "file-2", "capabilities:thin": "<is> True" },
    });
    const show = await api(h, "get", `/v3/demo/types/${t.id}/extra_specs/volume_backend_name`);
    expect(show.status).toBe(200);
    expect(show.body).toEqual({ volume_backend_name: "file-2" });

    const put = await api(h, "put", `/v3/demo/types/${t.id}/extra_specs/volume_backend_name`).send({
      volume_backend_name: "file-1",
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ volume_backend_name: "file-1" });
    expect((await api(h, "get", `/v3/demo/types/${t.id}`)).body.volume_type.extra_specs).toEqual({
      volume_backend_name: "file-1",
      "capabilities:thin": "<is> True",
    });

    const del = await api(h, "delete", `/v3/demo/types/${t.id}/extra_specs/capabilities:thin`);
    expect(del.status).toBe(202);
    const again = await api(h, "delete", `/v3/demo/types/${t.id}/extra_specs/capabilities:thin`);
    expect(again.status).toBe(404);
    expect(again.body.itemNotFound.message).toBe(
      `Volume Type ${t.id} has no extra specs with key capabilities:thin.`,
    );
    const missing = await api(h, "get", `/v3/demo/types/${t.id}/extra_specs/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body.itemNotFound.message).toBe(`Volume Type ${t.id} has no extra specs with key nope.`);
  });

  test("members read only the user-visible specs and may change none", async () => {
    const t = await createType("specs-2", {
      extra_specs: { volume_backend_name: "lvm", multiattach: "<is> True" },
    });
    const list = await api(h, "get", `/v3/demo/types/${t.id}/extra_specs`, { token: MEMBER });
    expect(list.body).toEqual({ extra_specs: { multiattach: "<is> True" } });
    const hidden = await api(h, "get", `/v3/demo/types/${t.id}/extra_specs/volume_backend_name`, {
      token: MEMBER,
    });
    expect(hidden.status).toBe(404);
    const typeShow = await api(h, "get", `/v3/demo/types/${t.id}`, { token: MEMBER });
    expect(typeShow.body.volume_type.extra_specs).toEqual({ multiattach: "<is> True" });
    expect(typeShow.body.volume_type).not.toHaveProperty("qos_specs_id");

    for (const [method, path, body, rule] of [
      ["post", "", { extra_specs: { a: "b" } }, "create"],
      ["put", "/multiattach", { multiattach: "x" }, "update"],
      ["delete", "/multiattach", undefined, "delete"],
    ] as const) {
      const res = await api(h, method, `/v3/demo/types/${t.id}/extra_specs${path}`, { token: MEMBER }).send(
        body as object,
      );
      expect(res.status).toBe(403);
      expect(res.body.forbidden.message).toBe(
        `Policy doesn't allow volume_extension:types_extra_specs:${rule} to be performed.`,
      );
    }
    // The body is validated before the policy: a key with a space is 400 even for a member.
    const bad = await api(h, "post", `/v3/demo/types/${t.id}/extra_specs`, { token: MEMBER }).send({
      extra_specs: { "a b": "c" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toMatch(/^Invalid input for field\/attribute extra_specs\./);
  });

  test("refusals: in use, URI mismatch, bad bodies, cacheable with multiattach, unknown type", async () => {
    const t = await createType("specs-3");
    const mismatch = await api(h, "put", `/v3/demo/types/${t.id}/extra_specs/a`).send({ b: "1" });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.badRequest.message).toBe("Request body and URI mismatch");
    const two = await api(h, "put", `/v3/demo/types/${t.id}/extra_specs/a`).send({ a: "1", b: "2" });
    expect(two.status).toBe(400);
    const none = await api(h, "post", `/v3/demo/types/${t.id}/extra_specs`).send({});
    expect(none.status).toBe(400);
    expect(none.body.badRequest.message).toBe("'extra_specs' is a required property");
    const both = await api(h, "post", `/v3/demo/types/${t.id}/extra_specs`).send({
      extra_specs: { multiattach: "<is> True", cacheable: "<is> True" },
    });
    expect(both.status).toBe(400);
    expect(both.body.badRequest.message).toBe("cacheable cannot be set with multiattach.");

    const unknown = "2b6e4c53-2a08-4d52-8a39-8f3a8a1c0d11";
    const gone = await api(h, "post", `/v3/demo/types/${unknown}/extra_specs`).send({
      extra_specs: { a: "b" },
    });
    expect(gone.status).toBe(404);
    expect(gone.body.itemNotFound.message).toBe(`Volume type ${unknown} could not be found.`);
    expect((await api(h, "get", "/v3/demo/types/not-a-uuid/extra_specs")).status).toBe(404);

    await addVolume(h, { volume_type_id: t.id });
    const inUse = await api(h, "post", `/v3/demo/types/${t.id}/extra_specs`).send({
      extra_specs: { a: "b" },
    });
    expect(inUse.status).toBe(400);
    expect(inUse.body.badRequest.message).toBe("Volume Type is currently in use.");
  });
});

describe("update", () => {
  test("name, description and is_public change; the answer is the older view", async () => {
    const t = await createType("upd-1", { description: "first" });
    const res = await api(h, "put", `/v3/demo/types/${t.id}`).send({
      volume_type: { name: "upd-1b", description: "second", is_public: "false" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      volume_type: { id: t.id, name: "upd-1b", is_public: false, extra_specs: {}, description: "second" },
    });
    // A null (or absent) field is left alone.
    const only = await api(h, "put", `/v3/demo/types/${t.id}`).send({ volume_type: { is_public: true } });
    expect(only.body.volume_type).toMatchObject({ name: "upd-1b", description: "second", is_public: true });
  });

  test("refusals in Cinder's order and words", async () => {
    const a = await createType("upd-2");
    await createType("upd-3");
    const cases: [unknown, string, number, string][] = [
      [
        { volume_type: {} },
        "admin:demo",
        400,
        "Specify volume type name, description, is_public or a combination thereof.",
      ],
      [{ volume_type: { name: "   " } }, "admin:demo", 400, "Volume type name can not be empty."],
      [{ volume_type: { name: "upd-3" } }, "admin:demo", 409, "Volume Type upd-3 already exists."],
      [
        { volume_type: { name: "x" } },
        MEMBER,
        403,
        "Policy doesn't allow volume_extension:type_update to be performed.",
      ],
    ];
    for (const [body, token, status, message] of cases) {
      const res = await api(h, "put", `/v3/demo/types/${a.id}`, { token }).send(body as object);
      expect(res.status).toBe(status);
      expect(Object.values(res.body as Record<string, { message: string }>)[0]!.message).toBe(message);
    }
    const bad = await api(h, "put", `/v3/demo/types/${a.id}`).send({ volume_type: { colour: "red" } });
    expect(bad.status).toBe(400);
    const unknown = "2b6e4c53-2a08-4d52-8a39-8f3a8a1c0d12";
    const gone = await api(h, "put", `/v3/demo/types/${unknown}`).send({ volume_type: { name: "z" } });
    expect(gone.status).toBe(404);
  });
});

describe("private types and access", () => {
  test("visible to admins and to the projects given access; the access list and its refusals", async () => {
    const t = await createType("priv-1", { "os-volume-type-access:is_public": false });
    const hidden = await api(h, "get", `/v3/demo/types/${t.id}`, { token: MEMBER });
    expect(hidden.status).toBe(404);
    const memberList = await api(h, "get", "/v3/demo/types", { token: MEMBER });
    expect(memberList.body.volume_types.map((x: { id: string }) => x.id)).not.toContain(t.id);

    const add = await api(h, "post", `/v3/demo/types/${t.id}/action`).send({
      addProjectAccess: { project: "demo" },
    });
    expect(add.status).toBe(202);
    const dup = await api(h, "post", `/v3/demo/types/${t.id}/action`).send({
      addProjectAccess: { project: "demo" },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.conflictingRequest.message).toBe(
      `Volume type access for ${t.id} / demo combination already exists.`,
    );
    const access = await api(h, "get", `/v3/demo/types/${t.id}/os-volume-type-access`);
    expect(access.body).toEqual({ volume_type_access: [{ volume_type_id: t.id, project_id: "demo" }] });

    expect((await api(h, "get", `/v3/demo/types/${t.id}`, { token: MEMBER })).status).toBe(200);
    const listed = await api(h, "get", "/v3/demo/types", { token: MEMBER });
    expect(listed.body.volume_types.map((x: { id: string }) => x.id)).toContain(t.id);
    expect((await api(h, "get", `/v3/other/types/${t.id}`, { token: OTHER })).status).toBe(404);

    // A member of a project with access may create a volume of the type; another project may not.
    const created = await api(h, "post", "/v3/demo/volumes", { token: MEMBER }).send({
      volume: { size: 1, volume_type: "priv-1" },
    });
    expect(created.status).toBe(202);
    const refused = await api(h, "post", "/v3/other/volumes", { token: OTHER }).send({
      volume: { size: 1, volume_type: "priv-1" },
    });
    expect(refused.status).toBe(404);
    expect(refused.body.itemNotFound.message).toBe("Volume type with name priv-1 could not be found.");

    const remove = await api(h, "post", `/v3/demo/types/${t.id}/action`).send({
      removeProjectAccess: { project: "demo" },
    });
    expect(remove.status).toBe(202);
    const removeAgain = await api(h, "post", `/v3/demo/types/${t.id}/action`).send({
      removeProjectAccess: { project: "demo" },
    });
    expect(removeAgain.status).toBe(404);
    expect(removeAgain.body.itemNotFound.message).toBe(
      `Volume type access not found for ${t.id} / demo combination.`,
    );
  });

  test("public types have no access list; members may not change access", async () => {
    const t = await createType("pub-1");
    const list = await api(h, "get", `/v3/demo/types/${t.id}/os-volume-type-access`);
    expect(list.status).toBe(404);
    expect(list.body.itemNotFound.message).toBe("Access list not available for public volume types.");
    const add = await api(h, "post", `/v3/demo/types/${t.id}/action`).send({
      addProjectAccess: { project: "demo" },
    });
    expect(add.status).toBe(400);
    expect(add.body.badRequest.message).toBe(
      "Invalid volume type: Type access modification is not applicable to public volume type.",
    );
    const member = await api(h, "post", `/v3/demo/types/${t.id}/action`, { token: MEMBER }).send({
      addProjectAccess: { project: "demo" },
    });
    expect(member.status).toBe(403);
    expect(member.body.forbidden.message).toBe(
      "Policy doesn't allow volume_extension:volume_type_access:addProjectAccess to be performed.",
    );
    const unknown = await api(h, "post", `/v3/demo/types/${t.id}/action`).send({ frobnicate: {} });
    expect(unknown.status).toBe(400);
    expect(unknown.body.badRequest.message).toMatch(/^There is no such action: frobnicate\./);
  });

  test("admins list private types with is_public=false or none", async () => {
    const t = await createType("priv-2", { "os-volume-type-access:is_public": false });
    const ids = async (q: string): Promise<string[]> =>
      (await api(h, "get", `/v3/demo/types${q}`)).body.volume_types.map((x: { id: string }) => x.id);
    expect(await ids("")).not.toContain(t.id);
    expect(await ids("?is_public=false")).toContain(t.id);
    expect(await ids("?is_public=None")).toContain(t.id);
  });
});
