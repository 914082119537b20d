/** /qos-specs: create, list, show, keys, associations, delete; front-end QoS and in-use retypes. */
import { action, addVolume, api, type Harness, MEMBER, startHarness } from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

async function createQos(body: Record<string, unknown>): Promise<{ id: string; name: string }> {
  const res = await api(h, "post", "/v3/demo/qos-specs").send({ qos_specs: body });
  expect(res.status).toBe(200);
  return res.body.qos_specs;
}

async function createType(name: string): Promise<{ id: string }> {
  return (await api(h, "post", "/v3/demo/types").send({ volume_type: { name } })).body.volume_type;
}

test("create, show, list, set and unset keys, in Cinder's shapes", async () => {
  const res = await api(h, "post", "/v3/demo/qos-specs").send({
    qos_specs: { name: " gold-qos ", consumer: "front-end", total_iops_sec: "1000" },
  });
  expect(res.status).toBe(200);
  const id = res.body.qos_specs.id;
  expect(res.body).toEqual({
    qos_specs: { id, name: "gold-qos", consumer: "front-end", specs: { total_iops_sec: "1000" } },
    links: [
      { rel: "self", href: expect.stringMatching(new RegExp(`/v3/demo/qos-specs/${id}$`)) },
      { rel: "bookmark", href: expect.stringMatching(new RegExp(`/demo/qos-specs/${id}$`)) },
    ],
  });
  const plain = await createQos({ name: "plain" });
  expect((await api(h, "get", `/v3/demo/qos-specs/${plain.id}`)).body.qos_specs.consumer).toBe("back-end");

  const set = await api(h, "put", `/v3/demo/qos-specs/${id}`).send({
    qos_specs: { read_bytes_sec: "2048", consumer: "both" },
  });
  expect(set.status).toBe(200);
  expect(set.body).toEqual({ qos_specs: { read_bytes_sec: "2048", consumer: "both" } });
  const shown = await api(h, "get", `/v3/demo/qos-specs/${id}`);
  expect(shown.body.qos_specs).toMatchObject({
    consumer: "both",
    specs: { total_iops_sec: "1000", read_bytes_sec: "2048" },
  });

  const unset = await api(h, "put", `/v3/demo/qos-specs/${id}/delete_keys`).send({
    keys: ["total_iops_sec"],
  });
  expect(unset.status).toBe(202);
  const missing = await api(h, "put", `/v3/demo/qos-specs/${id}/delete_keys`).send({
    keys: ["read_bytes_sec", "nope"],
  });
  expect(missing.status).toBe(404);
  expect(missing.body.itemNotFound.message).toBe(`QoS spec ${id} has no spec with key nope.`);
  // The keys before the missing one are gone, as in Cinder.
  expect((await api(h, "get", `/v3/demo/qos-specs/${id}`)).body.qos_specs.specs).toEqual({});

  const list = await api(h, "get", "/v3/demo/qos-specs");
  expect(list.body.qos_specs.map((q: { name: string }) => q.name)).toEqual(
    expect.arrayContaining(["gold-qos", "plain"]),
  );
  expect(Object.keys(list.body.qos_specs[0]).sort()).toEqual(["consumer", "id", "name", "specs"]);
});

test("refusals: duplicate name, blank name, bad consumer, unknown spec, members", async () => {
  await createQos({ name: "dup" });
  const dup = await api(h, "post", "/v3/demo/qos-specs").send({ qos_specs: { name: "dup" } });
  expect(dup.status).toBe(409);
  expect(dup.body.conflictingRequest.message).toBe("QoS Specs dup already exists.");
  const blank = await api(h, "post", "/v3/demo/qos-specs").send({ qos_specs: { name: "  " } });
  expect(blank.status).toBe(400);
  expect(blank.body.badRequest.message).toBe(
    "An invalid 'name' value was provided. The 'name' can not be empty.",
  );
  const consumer = await api(h, "post", "/v3/demo/qos-specs").send({
    qos_specs: { name: "c", consumer: "nova" },
  });
  expect(consumer.status).toBe(400);
  const unknown = "0c9a3c1e-7f55-4a5e-bb0f-7d8f1f2b4e01";
  const gone = await api(h, "get", `/v3/demo/qos-specs/${unknown}`);
  expect(gone.status).toBe(404);
  expect(gone.body.itemNotFound.message).toBe(`No such QoS spec ${unknown}.`);
  for (const [method, path, rule] of [
    ["get", "/v3/demo/qos-specs", "get_all"],
    ["post", "/v3/demo/qos-specs", "create"],
  ] as const) {
    const res = await api(h, method, path, { token: MEMBER }).send({ qos_specs: { name: "m" } });
    expect(res.status).toBe(403);
    expect(res.body.forbidden.message).toBe(
      `Policy doesn't allow volume_extension:qos_specs_manage:${rule} to be performed.`,
    );
  }
});

test("associate, associations, disassociate, disassociate_all; delete refused while in use unless forced", async () => {
  const q = await createQos({ name: "assoc" });
  const other = await createQos({ name: "assoc-other" });
  const t1 = await createType("qos-t1");
  const t2 = await createType("qos-t2");
  const missing = await api(h, "get", `/v3/demo/qos-specs/${q.id}/associate`);
  expect(missing.status).toBe(400);
  expect(missing.body.badRequest.message).toBe("Volume Type id must not be None.");
  for (const t of [t1, t2]) {
    expect((await api(h, "get", `/v3/demo/qos-specs/${q.id}/associate?vol_type_id=${t.id}`)).status).toBe(
      202,
    );
  }
  const taken = await api(h, "get", `/v3/demo/qos-specs/${other.id}/associate?vol_type_id=${t1.id}`);
  expect(taken.status).toBe(400);
  expect(taken.body.badRequest.message).toBe(
    `Invalid volume type: Type ${t1.id} is already associated with another qos specs: ${q.id}`,
  );
  const assoc = await api(h, "get", `/v3/demo/qos-specs/${q.id}/associations`);
  expect(assoc.body).toEqual({
    qos_associations: [
      { association_type: "volume_type", id: t1.id, name: "qos-t1" },
      { association_type: "volume_type", id: t2.id, name: "qos-t2" },
    ],
  });
  expect((await api(h, "get", `/v3/demo/types/${t1.id}`)).body.volume_type.qos_specs_id).toBe(q.id);

  const inUse = await api(h, "delete", `/v3/demo/qos-specs/${q.id}`);
  expect(inUse.status).toBe(400);
  expect(inUse.body.badRequest.message).toBe("Qos specs still in use.");
  expect((await api(h, "get", `/v3/demo/qos-specs/${q.id}/disassociate?vol_type_id=${t1.id}`)).status).toBe(
    202,
  );
  expect((await api(h, "get", `/v3/demo/qos-specs/${q.id}/associations`)).body.qos_associations).toHaveLength(
    1,
  );
  expect((await api(h, "get", `/v3/demo/qos-specs/${q.id}/disassociate_all`)).status).toBe(202);
  expect((await api(h, "get", `/v3/demo/qos-specs/${q.id}/associations`)).body.qos_associations).toEqual([]);

  await api(h, "get", `/v3/demo/qos-specs/${other.id}/associate?vol_type_id=${t2.id}`);
  expect((await api(h, "delete", `/v3/demo/qos-specs/${other.id}?force=True`)).status).toBe(202);
  expect((await api(h, "get", `/v3/demo/types/${t2.id}`)).body.volume_type.qos_specs_id).toBeNull();
  expect((await api(h, "get", `/v3/demo/qos-specs/${other.id}`)).status).toBe(404);
});

test("an in-use volume may not be retyped to a type with other front-end QoS; an available one may", async () => {
  const fe = await createQos({ name: "fe", consumer: "front-end", total_iops_sec: "500" });
  const be = await createQos({ name: "be", consumer: "back-end" });
  const plainT = await createType("qos-plain");
  const feT = await createType("qos-fe");
  const beT = await createType("qos-be");
  await api(h, "get", `/v3/demo/qos-specs/${fe.id}/associate?vol_type_id=${feT.id}`);
  await api(h, "get", `/v3/demo/qos-specs/${be.id}/associate?vol_type_id=${beT.id}`);

  const inUse = await addVolume(h, { status: "in-use", volume_type_id: plainT.id });
  const refused = await action(h, inUse.id, { "os-retype": { new_type: "qos-fe" } });
  expect(refused.status).toBe(400);
  expect(refused.body.badRequest.message).toMatch(/for in-use volumes front-end qos specs cannot change\.$/);
  expect((await action(h, inUse.id, { "os-retype": { new_type: "qos-be" } })).status).toBe(202);

  const available = await addVolume(h, { volume_type_id: plainT.id });
  expect((await action(h, available.id, { "os-retype": { new_type: "qos-fe" } })).status).toBe(202);
});
