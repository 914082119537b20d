/**
 * The admin migrations resource (issue 5), read side: list/show shape and filters, and the
 * refusals (403/404) that change nothing. No workers here: rows are written as workers leave them.
 */
import { randomUUID } from "node:crypto";

import { api, type Harness, MEMBER } from "./api.harness";
import { addMigration, GiB, migrationAction, rowOf, startMigrationsHarness } from "./migrations.fixtures";

let h: Harness;

beforeAll(async () => {
  h = await startMigrationsHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(async () => {
  await h.t.db("migrations").del();
});

const VIEW_KEYS = [
  "id",
  "volume_id",
  "kind",
  "state",
  "flow",
  "source_host",
  "dest_host",
  "requested_dest",
  "temp_volume_id",
  "progress",
  "bps_limit",
  "compression",
  "transport",
  "checksums",
  "error",
  "created_at",
  "started_at",
  "finished_at",
  "updated_at",
  "cancel_requested_at",
  "queue_position",
].sort();

describe("GET /migrations", () => {
  test("lists every migration newest first with progress, effective limit and timestamps", async () => {
    const started = new Date(Date.now() - 60_000);
    const running = await addMigration(
      h,
      {
        state: "migrating",
        flow: "generic",
        bytes_total: GiB,
        bytes_done: GiB / 4,
        rate_bps: 10_000_000,
        eta_seconds: 81,
        started_at: started,
        temp_volume_id: randomUUID(),
      },
      { ageMs: 2000 },
    );
    const done = await addMigration(
      h,
      {
        state: "success",
        flow: "generic",
        bytes_total: GiB,
        bytes_done: GiB,
        bps_limit: 2_000_000,
        source_checksum: "a".repeat(64),
        dest_checksum: "a".repeat(64),
        finished_at: new Date(),
      },
      { ageMs: 1000 },
    );
    const res = await api(h, "get", "/v3/demo/migrations").expect(200);
    const list = res.body.migrations as Record<string, unknown>[];
    expect(list.map((m) => m["id"])).toEqual([done.id, running.id]);
    for (const m of list) {
      expect(Object.keys(m).sort()).toEqual(VIEW_KEYS);
    }
    expect(list[1]).toMatchObject({
      volume_id: running.volume_id,
      kind: "migrate",
      state: "migrating",
      flow: "generic",
      source_host: "node@lvm#lvm",
      dest_host: "node@lvm2#lvm2",
      requested_dest: "node@lvm2",
      temp_volume_id: running.temp_volume_id,
      progress: { bytes_done: GiB / 4, bytes_total: GiB, percent: 25, rate_bps: 10_000_000, eta_seconds: 81 },
      // No limit of its own: the source backend's volume_copy_bps_limit.
      bps_limit: 5_000_000,
      checksums: { source: null, dest: null },
      error: null,
      started_at: started.toISOString(),
      finished_at: null,
      cancel_requested_at: null,
      queue_position: null,
    });
    expect(list[1]!["created_at"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(list[0]).toMatchObject({
      state: "success",
      progress: { bytes_done: GiB, bytes_total: GiB, percent: 100, eta_seconds: 0 },
      bps_limit: 2_000_000,
      checksums: { source: "a".repeat(64), dest: "a".repeat(64) },
    });
    // The same resource without the project id in the URL (3.67 style).
    const bare = await api(h, "get", "/v3/migrations").expect(200);
    expect(bare.body).toEqual(res.body);
  });

  test("percent has one decimal; queued migrations show their place in their backend's queue", async () => {
    await addMigration(h, { state: "migrating", bytes_total: 3000, bytes_done: 1000 }, { ageMs: 5000 });
    const q1 = await addMigration(h, { state: "queued" }, { ageMs: 4000 });
    const other = await addMigration(h, { state: "queued" }, { ageMs: 3000, sourceHost: "node@lvm3#lvm3" });
    const q2 = await addMigration(h, { state: "queued" }, { ageMs: 2000 });
    const list = (await api(h, "get", "/v3/demo/migrations").expect(200)).body.migrations as {
      id: string;
      state: string;
      queue_position: number | null;
      progress: { percent: number | null };
      bps_limit: number | null;
    }[];
    const byId = new Map(list.map((m) => [m.id, m]));
    expect(byId.get(q1.id)?.queue_position).toBe(1);
    expect(byId.get(q2.id)?.queue_position).toBe(2);
    expect(byId.get(other.id)?.queue_position).toBe(1);
    // A backend this API process does not know: only the row's own limit can be shown.
    expect(byId.get(other.id)?.bps_limit).toBeNull();
    expect(list.find((m) => m.state === "migrating")?.progress.percent).toBe(33.3);
    expect(byId.get(q1.id)?.progress.percent).toBeNull();
  });

  test("filters by volume_id, state and active", async () => {
    const a = await addMigration(h, { state: "migrating" });
    const b = await addMigration(h, { state: "error", error: "boom" });
    const c = await addMigration(h, { state: "queued" });
    const ids = async (q: string): Promise<string[]> =>
      ((await api(h, "get", `/v3/demo/migrations${q}`).expect(200)).body.migrations as { id: string }[])
        .map((m) => m.id)
        .sort();
    expect(await ids(`?volume_id=${b.volume_id}`)).toEqual([b.id]);
    expect(await ids("?state=queued")).toEqual([c.id]);
    expect(await ids("?state=error")).toEqual([b.id]);
    expect(await ids("?active=true")).toEqual([a.id, c.id].sort());
    expect(await ids("?active=false")).toEqual([a.id, b.id, c.id].sort());
    expect(await ids(`?active=true&volume_id=${a.volume_id}`)).toEqual([a.id]);
    expect(await ids("?volume_id=not-a-uuid")).toEqual([]);
  });

  test("a state outside the union or a non-boolean active is a 400", async () => {
    const bad = await api(h, "get", "/v3/demo/migrations?state=running").expect(400);
    expect(bad.body).toEqual({
      badRequest: {
        code: 400,
        message:
          "Invalid input received: state 'running' is not one of starting, queued, migrating, completing, success, error.",
      },
    });
    const active = await api(h, "get", "/v3/demo/migrations?active=maybe").expect(400);
    expect(active.body.badRequest.message).toBe("Value 'maybe' for 'active' is not a boolean.");
  });
});

describe("GET /migrations/{id}", () => {
  test("shows one migration", async () => {
    const m = await addMigration(h, { state: "queued" });
    const res = await api(h, "get", `/v3/demo/migrations/${m.id}`).expect(200);
    expect(Object.keys(res.body)).toEqual(["migration"]);
    expect(Object.keys(res.body.migration).sort()).toEqual(VIEW_KEYS);
    expect(res.body.migration).toMatchObject({ id: m.id, state: "queued", queue_position: 1 });
    await api(h, "get", `/v3/migrations/${m.id}`).expect(200);
  });

  test.each([
    ["unknown", "4d7c0b4e-3f38-4f7e-9c55-7f3d2b9f2c11"],
    ["malformed", "not-a-uuid"],
  ])("an %s id is a 404 itemNotFound", async (_what, id) => {
    const res = await api(h, "get", `/v3/demo/migrations/${id}`).expect(404);
    expect(res.body).toEqual({ itemNotFound: { code: 404, message: `Migration ${id} could not be found.` } });
  });
});

describe("admin only", () => {
  test("members get 403 in Cinder's fault format and nothing changes", async () => {
    const m = await addMigration(h, { state: "migrating" });
    const before = await rowOf(h, m.id);
    const forbidden = (rule: string) => ({
      forbidden: {
        code: 403,
        message: `Policy doesn't allow volume_extension:migrations:${rule} to be performed.`,
      },
    });
    expect((await api(h, "get", "/v3/demo/migrations", { token: MEMBER }).expect(403)).body).toEqual(
      forbidden("get_all"),
    );
    expect((await api(h, "get", `/v3/migrations/${m.id}`, { token: MEMBER }).expect(403)).body).toEqual(
      forbidden("get"),
    );
    expect((await migrationAction(h, m.id, { cancel: {} }, MEMBER).expect(403)).body).toEqual(
      forbidden("cancel"),
    );
    expect(
      (await migrationAction(h, m.id, { set_bandwidth_limit: { bps: GiB } }, MEMBER, "").expect(403)).body,
    ).toEqual(forbidden("set_bandwidth_limit"));
    expect(await rowOf(h, m.id)).toEqual(before);
  });

  test("the body is validated before the policy, as for Cinder's actions", async () => {
    const m = await addMigration(h, { state: "migrating" });
    const res = await migrationAction(h, m.id, { cancel: { now: true } }, MEMBER).expect(400);
    expect(res.body.badRequest.message).toBe(
      "Invalid input for field/attribute cancel. Value: {'now': True}. Additional properties are not allowed ('now' was unexpected)",
    );
  });
});
