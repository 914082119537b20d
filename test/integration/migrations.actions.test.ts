/**
 * The admin migrations resource (issue 5), actions: cancel and set_bandwidth_limit by
 * compare-and-swap on the row, and the refusals (400/404/409) that change nothing. The workers'
 * side of both is in worker.control.test.ts.
 */
import { randomUUID } from "node:crypto";

import type { MigrationRow } from "../../db/migrationRecords";
import { ADMIN, api, type Harness } from "./api.harness";
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

describe("cancel", () => {
  test.each(["starting", "queued", "migrating"] as const)(
    "a %s migration records the request (202), keeping the first request's time",
    async (state) => {
      const m = await addMigration(h, { state, flow: state === "migrating" ? "generic" : null });
      await migrationAction(h, m.id, { cancel: {} }).expect(202);
      const first = (await rowOf(h, m.id)) as MigrationRow;
      expect(first.state).toBe(state);
      expect(first.cancel_requested_at).toBeInstanceOf(Date);
      expect(Math.abs(first.cancel_requested_at!.getTime() - Date.now())).toBeLessThan(10_000);
      await migrationAction(h, m.id, { cancel: {} }, ADMIN, "").expect(202);
      expect(((await rowOf(h, m.id)) as MigrationRow).cancel_requested_at).toEqual(first.cancel_requested_at);
    },
  );

  test.each(["completing", "success", "error"] as const)(
    "a %s migration cannot be cancelled: 409 and nothing changes",
    async (state) => {
      const m = await addMigration(h, { state, flow: "generic" });
      const before = await rowOf(h, m.id);
      const res = await migrationAction(h, m.id, { cancel: {} }).expect(409);
      expect(res.body).toEqual({
        conflictingRequest: { code: 409, message: `Migration ${m.id} is ${state} and cannot be cancelled.` },
      });
      expect(await rowOf(h, m.id)).toEqual(before);
    },
  );

  test("a Nova swap (attached volume) cannot be cancelled from here", async () => {
    const m = await addMigration(h, { state: "migrating", flow: "compute" });
    const res = await migrationAction(h, m.id, { cancel: {} }).expect(409);
    expect(res.body.conflictingRequest.message).toBe(
      `Migration ${m.id} is moved by Nova's swap volume (attached volume) and cannot be cancelled.`,
    );
    expect(((await rowOf(h, m.id)) as MigrationRow).cancel_requested_at).toBeNull();
  });

  test("unknown and malformed ids are 404s", async () => {
    const id = randomUUID();
    expect((await migrationAction(h, id, { cancel: {} }).expect(404)).body.itemNotFound.message).toBe(
      `Migration ${id} could not be found.`,
    );
    await migrationAction(h, "nope", { cancel: {} }).expect(404);
  });
});

describe("set_bandwidth_limit", () => {
  test("sets and clears the migration's own limit while it is not finished", async () => {
    const m = await addMigration(h, { state: "migrating", flow: "generic" });
    await migrationAction(h, m.id, { set_bandwidth_limit: { bps: 20 * 1024 * 1024 } }).expect(202);
    expect(((await rowOf(h, m.id)) as { bps_limit: string }).bps_limit).toBe(String(20 * 1024 * 1024));
    const shown = await api(h, "get", `/v3/demo/migrations/${m.id}`).expect(200);
    expect(shown.body.migration.bps_limit).toBe(20 * 1024 * 1024);
    await migrationAction(h, m.id, { set_bandwidth_limit: { bps: null } }).expect(202);
    expect(((await rowOf(h, m.id)) as { bps_limit: unknown }).bps_limit).toBeNull();
    const queued = await addMigration(h, { state: "queued" });
    await migrationAction(h, queued.id, { set_bandwidth_limit: { bps: 1048576 } }).expect(202);
    expect(((await rowOf(h, queued.id)) as { bps_limit: string }).bps_limit).toBe("1048576");
  });

  test.each(["success", "error"] as const)(
    "a %s migration answers 409 and keeps its limit",
    async (state) => {
      const m = await addMigration(h, { state, bps_limit: 3_000_000 });
      const before = await rowOf(h, m.id);
      const res = await migrationAction(h, m.id, { set_bandwidth_limit: { bps: GiB } }).expect(409);
      expect(res.body).toEqual({
        conflictingRequest: {
          code: 409,
          message: `Migration ${m.id} is ${state}; its bandwidth limit cannot be changed.`,
        },
      });
      expect(await rowOf(h, m.id)).toEqual(before);
    },
  );

  test.each([
    [
      { bps: 1000 },
      "Invalid input for field/attribute bps. Value: 1000. 1000 is less than the minimum of 1048576",
    ],
    [
      { bps: "fast" },
      "Invalid input for field/attribute bps. Value: fast. 'fast' is not of type 'integer', 'null'",
    ],
    [
      { bps: 2e6 + 0.5 },
      "Invalid input for field/attribute bps. Value: 2000000.5. 2000000.5 is not of type 'integer', 'null'",
    ],
    [{}, "Invalid input for field/attribute set_bandwidth_limit. Value: {}. 'bps' is a required property"],
    [
      { bps: GiB, burst: 1 },
      "Invalid input for field/attribute set_bandwidth_limit. Value: {'bps': 1073741824, 'burst': 1}. Additional properties are not allowed ('burst' was unexpected)",
    ],
  ])("body %j is a 400 that changes nothing", async (params, message) => {
    const m = await addMigration(h, { state: "migrating" });
    const before = await rowOf(h, m.id);
    const res = await migrationAction(h, m.id, { set_bandwidth_limit: params }).expect(400);
    expect(res.body).toEqual({ badRequest: { code: 400, message } });
    expect(await rowOf(h, m.id)).toEqual(before);
  });
});

describe("action bodies", () => {
  test.each([
    [{}, "Malformed request body"],
    [{ cancel: {}, set_bandwidth_limit: { bps: null } }, "Malformed request body"],
    [[{ cancel: {} }], "Malformed request body"],
    [
      { pause: {} },
      "There is no such action: pause. Verify the request body and Content-Type header and try again.",
    ],
    ['{"cancel": ', "Malformed request body"],
    [{ cancel: null }, "Invalid input for field/attribute cancel. Value: None. None is not of type 'object'"],
  ])("%j is a 400", async (body, message) => {
    const m = await addMigration(h, { state: "migrating" });
    const before = await rowOf(h, m.id);
    const r = api(h, "post", `/v3/demo/migrations/${m.id}/action`);
    const res = await (
      typeof body === "string" ? r.set("Content-Type", "application/json").send(body) : r.send(body as object)
    ).expect(400);
    expect(res.body).toEqual({ badRequest: { code: 400, message } });
    expect(await rowOf(h, m.id)).toEqual(before);
  });
});
