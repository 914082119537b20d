/** os-quota-sets, os-quota-class-sets, /limits, and the 413s of what consumes quota. */
import {
  action,
  addVolume,
  addVolumeService,
  api,
  DEFAULT_TYPE_ID,
  type Harness,
  MEMBER,
  OTHER,
  startHarness,
} from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await addVolumeService(h, "node@lvm");
});
afterAll(async () => h.close());

const DEFAULTS = {
  volumes: 10,
  per_volume_gigabytes: -1,
  snapshots: 10,
  gigabytes: 1000,
  backups: 10,
  backup_gigabytes: 1000,
  groups: 10,
  volumes___DEFAULT__: -1,
  snapshots___DEFAULT__: -1,
  gigabytes___DEFAULT__: -1,
};

describe("os-quota-sets", () => {
  test("show and defaults: every resource, per volume type too, with the project id", async () => {
    const show = await api(h, "get", "/v3/demo/os-quota-sets/fresh");
    expect(show.status).toBe(200);
    expect(show.body).toEqual({ quota_set: { ...DEFAULTS, id: "fresh" } });
    const defaults = await api(h, "get", "/v3/demo/os-quota-sets/fresh/defaults");
    expect(defaults.body).toEqual({ quota_set: { ...DEFAULTS, id: "fresh" } });
  });

  test("members read their own project's quotas only", async () => {
    expect((await api(h, "get", "/v3/demo/os-quota-sets/demo", { token: MEMBER })).status).toBe(200);
    const other = await api(h, "get", "/v3/demo/os-quota-sets/other", { token: MEMBER });
    expect(other.status).toBe(403);
    expect(other.body.forbidden.message).toBe(
      "Policy doesn't allow volume_extension:quotas:show to be performed.",
    );
    const update = await api(h, "put", "/v3/demo/os-quota-sets/demo", { token: MEMBER }).send({
      quota_set: { volumes: 5 },
    });
    expect(update.status).toBe(403);
    expect(update.body.forbidden.message).toBe(
      "Policy doesn't allow volume_extension:quotas:update to be performed.",
    );
  });

  test("usage counts what consumes quota; a migration's temp volume and a retired source do not", async () => {
    const p = "usage-p";
    const source = await addVolume(h, { project_id: p, size: 2 });
    await addVolume(h, { project_id: p, size: 2, use_quota: false, migration_target_of: source.id });
    await addVolume(h, { project_id: p, size: 3, status: "deleting", use_quota: false });
    await h.t.db("snapshots").insert({
      id: "6f1d1c5e-4d5b-4b11-9f43-2f6c0d7c1a01",
      volume_id: source.id,
      status: "available",
      volume_size: 2,
      project_id: p,
      user_id: "alice",
    });
    const res = await api(h, "get", `/v3/demo/os-quota-sets/${p}?usage=True`);
    expect(res.status).toBe(200);
    expect(res.body.quota_set).toMatchObject({
      id: p,
      volumes: { limit: 10, in_use: 1, reserved: 0 },
      gigabytes: { limit: 1000, in_use: 4, reserved: 0 },
      snapshots: { limit: 10, in_use: 1, reserved: 0 },
      volumes___DEFAULT__: { limit: -1, in_use: 1, reserved: 0 },
      gigabytes___DEFAULT__: { limit: -1, in_use: 4, reserved: 0 },
      backups: { limit: 10, in_use: 0, reserved: 0 },
    });
  });

  test("update answers the limits without an id; refusals in Cinder's words; delete resets", async () => {
    const p = "upd-p";
    await addVolume(h, { project_id: p });
    await addVolume(h, { project_id: p });
    const ok = await api(h, "put", `/v3/demo/os-quota-sets/${p}`).send({
      quota_set: { tenant_id: p, volumes: "5", gigabytes: 20 },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ quota_set: { ...DEFAULTS, volumes: 5, gigabytes: 20 } });

    const cases: [Record<string, unknown>, string][] = [
      [
        { volumes: 1 },
        "Quota volumes limit must be equal or greater than existing resources. Current usage is 2 and the requested limit is 1.",
      ],
      [{ frobs: 1 }, "Invalid input received: Bad key(s) in quota set: frobs"],
      [{ volumes: -2 }, "volumes must be >= -1"],
      [{ volumes: "many" }, "volumes must be an integer"],
    ];
    for (const [set, message] of cases) {
      const res = await api(h, "put", `/v3/demo/os-quota-sets/${p}`).send({ quota_set: set });
      expect(res.status).toBe(400);
      expect(res.body.badRequest.message).toBe(message);
    }
    expect((await api(h, "put", `/v3/demo/os-quota-sets/${p}`).send({ quota_set: {} })).status).toBe(400);

    const del = await api(h, "delete", `/v3/demo/os-quota-sets/${p}`);
    expect(del.status).toBe(200);
    expect((await api(h, "get", `/v3/demo/os-quota-sets/${p}`)).body.quota_set.volumes).toBe(10);
  });
});

describe("413 when quota is exceeded", () => {
  test("volume create: count, gigabytes, per-volume size, the type's own counter", async () => {
    const token = "carol:q413";
    await api(h, "put", "/v3/demo/os-quota-sets/q413").send({ quota_set: { volumes: 1, gigabytes: 3 } });
    const create = (size: number, type?: string) =>
      api(h, "post", "/v3/q413/volumes", { token }).send({ volume: { size, volume_type: type } });

    const big = await create(5);
    expect(big.status).toBe(413);
    expect(big.headers["retry-after"]).toBe("0");
    expect(big.body).toEqual({
      overLimit: {
        code: 413,
        message:
          "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 5G, quota is 3G and 0G has been consumed.",
        retryAfter: "0",
      },
    });
    expect((await create(1)).status).toBe(202);
    const second = await create(1);
    expect(second.status).toBe(413);
    expect(second.body.overLimit.message).toBe(
      "Maximum number of volumes allowed (1) exceeded for quota 'volumes'.",
    );

    await api(h, "put", "/v3/demo/os-quota-sets/q413").send({
      quota_set: { volumes: 10, per_volume_gigabytes: 1, volumes___DEFAULT__: 1 },
    });
    const perVolume = await create(2);
    expect(perVolume.body.overLimit.message).toBe(
      "Requested volume size 2G is larger than maximum allowed limit 1G.",
    );
    const perType = await create(1);
    expect(perType.body.overLimit.message).toBe(
      "Maximum number of volumes allowed (1) exceeded for quota 'volumes___DEFAULT__'.",
    );
    expect(await h.t.db("volumes").where({ project_id: "q413" }).count<{ count: string }[]>("*")).toEqual([
      { count: "1" },
    ]);
  });

  test("snapshots, extend and retype are held to the quota too", async () => {
    const p = "q413b";
    const v = await addVolume(h, { project_id: p, size: 2 });
    await api(h, "put", `/v3/demo/os-quota-sets/${p}`).send({ quota_set: { snapshots: 0, gigabytes: 3 } });
    const snap = await api(h, "post", `/v3/${p}/snapshots`, { token: `carol:${p}` }).send({
      snapshot: { volume_id: v.id },
    });
    expect(snap.status).toBe(413);
    expect(snap.body.overLimit.message).toBe("Maximum number of snapshots allowed (0) exceeded");

    const extend = await action(
      h,
      v.id,
      { "os-extend": { new_size: 4 } },
      { token: `carol:${p}`, project: p },
    );
    expect(extend.status).toBe(413);
    expect(extend.body.overLimit.message).toBe(
      "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 2G, quota is 3G and 2G has been consumed.",
    );

    const t = (await api(h, "post", "/v3/demo/types").send({ volume_type: { name: "tight" } })).body
      .volume_type;
    await api(h, "put", `/v3/demo/os-quota-sets/${p}`).send({ quota_set: { volumes_tight: 0 } });
    const retype = await action(
      h,
      v.id,
      { "os-retype": { new_type: "tight" } },
      { token: `carol:${p}`, project: p },
    );
    expect(retype.status).toBe(413);
    expect(retype.body.overLimit.message).toBe(
      "Maximum number of volumes allowed (0) exceeded for quota 'volumes_tight'.",
    );
    const row = await h.t.db("volumes").where({ id: v.id }).first();
    expect(row).toMatchObject({ status: "available", size: 2, volume_type_id: DEFAULT_TYPE_ID });
    expect(t.id).toBeDefined();
  });
});

describe("quota classes and limits", () => {
  test("the default class overrides the configured defaults; members may not read classes", async () => {
    const show = await api(h, "get", "/v3/demo/os-quota-class-sets/default");
    expect(show.status).toBe(200);
    expect(show.body.quota_class_set).toMatchObject({ id: "default", volumes: 10, gigabytes: 1000 });
    const upd = await api(h, "put", "/v3/demo/os-quota-class-sets/default").send({
      quota_class_set: { volumes: 7 },
    });
    expect(upd.status).toBe(200);
    expect(upd.body.quota_class_set).toMatchObject({ volumes: 7, gigabytes: 1000 });
    expect(upd.body.quota_class_set).not.toHaveProperty("id");
    expect((await api(h, "get", "/v3/demo/os-quota-sets/classy")).body.quota_set.volumes).toBe(7);
    const bad = await api(h, "put", "/v3/demo/os-quota-class-sets/default").send({
      quota_class_set: { nope: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toBe("Invalid input received: Bad key(s) in quota class set: nope");
    const member = await api(h, "get", "/v3/demo/os-quota-class-sets/default", { token: MEMBER });
    expect(member.status).toBe(403);
    expect(member.body.forbidden.message).toBe(
      "Policy doesn't allow volume_extension:quota_classes:get to be performed.",
    );
    await api(h, "put", "/v3/demo/os-quota-class-sets/default").send({ quota_class_set: { volumes: 10 } });
  });

  test("GET /limits: absolute limits and usage of the caller's project (admins may name one from 3.39)", async () => {
    const p = "limits-p";
    await addVolume(h, { project_id: p, size: 4 });
    await api(h, "put", `/v3/demo/os-quota-sets/${p}`).send({ quota_set: { volumes: 3 } });
    const res = await api(h, "get", `/v3/${p}/limits`, { token: `dave:${p}` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      limits: {
        rate: [],
        absolute: {
          maxTotalVolumeGigabytes: 1000,
          maxTotalBackupGigabytes: 1000,
          maxTotalVolumes: 3,
          maxTotalSnapshots: 10,
          maxTotalBackups: 10,
          totalVolumesUsed: 1,
          totalGigabytesUsed: 4,
          totalSnapshotsUsed: 0,
          totalBackupsUsed: 0,
          totalBackupGigabytesUsed: 0,
        },
      },
    });
    const admin = await api(h, "get", `/v3/demo/limits?project_id=${p}`, { version: "3.39" });
    expect(admin.body.limits.absolute.maxTotalVolumes).toBe(3);
    const old = await api(h, "get", `/v3/demo/limits?project_id=${p}`);
    expect(old.body.limits.absolute.maxTotalVolumes).toBe(10);
    const member = await api(h, "get", `/v3/other/limits?project_id=${p}`, { token: OTHER, version: "3.39" });
    expect(member.body.limits.absolute.totalVolumesUsed).toBe(0);
  });
});
