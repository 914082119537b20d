/**
 * GET /metrics on the in-process app over a real scheduler and two raw-file workers: Prometheus
 * text, counters that follow a real migration, the HTTP histogram by route pattern, verification
 * failures told apart from other errors, evacuation progress, and labels free of tenant data.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";

import type { Express } from "express";
import request from "supertest";

import { createApp } from "../../api/app";
import type { AppConfig } from "../../common/config";
import { silentLogger } from "../../common/logger";
import { insertEvacuation } from "../../db/evacuations";
import { insertMigration } from "../../db/migrationRecords";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { type InProcessStack, startInProcessStack, twoBackendConfig, waitFor } from "../helpers/stack";

const ADMIN = "admin:demo";
const MEMBER = "alice:demo";
const GiB = 1024 ** 3;

let t: TestDatabase;
let stack: InProcessStack;
let config: AppConfig;
let stateDir: string;
let app: Express;

beforeAll(async () => {
  t = await createTestDatabase();
  ({ config, stateDir } = twoBackendConfig("noauth_admin_users = admin"));
  stack = await startInProcessStack(t.db, config);
  app = createApp({ db: t.db, bus: stack.bus, config, logger: silentLogger() });
});
afterAll(async () => {
  await stack.stop();
  await t.drop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format 0.0.4: `# HELP`/`# TYPE` lines and `name{l="v",…} value` samples. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line === "" || line.startsWith("#")) {
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) {
      throw new Error(`not a sample line: ${line}`);
    }
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!;
    }
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

async function scrape(
  token?: string,
): Promise<{ samples: Sample[]; types: Map<string, string>; text: string }> {
  let r = request(app).get("/metrics");
  if (token) {
    r = r.set("X-Auth-Token", token);
  }
  const res = await r.expect(200);
  return { ...parse(res.text), text: res.text };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const s = samples.find(
    (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
  );
  return s?.value;
}

const v3 = (method: "get" | "post", path: string, token = ADMIN) =>
  request(app)[method](`/v3/demo${path}`).set("X-Auth-Token", token);

test("answers Prometheus text with the figures' types and the services up", async () => {
  const res = await request(app).get("/metrics").expect(200);
  expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
  const { samples, types } = parse(res.text);
  expect(types.get("vms_migrations")).toBe("gauge");
  expect(types.get("vms_migrations_finished_total")).toBe("counter");
  expect(types.get("vms_migration_bytes_copied_total")).toBe("counter");
  expect(types.get("vms_migration_copy_bytes_per_second")).toBe("gauge");
  expect(types.get("vms_migration_verification_failures_total")).toBe("counter");
  expect(types.get("vms_http_request_duration_seconds")).toBe("histogram");
  for (const state of ["starting", "queued", "migrating", "completing", "success", "error"]) {
    expect(value(samples, "vms_migrations", { state })).toBeGreaterThanOrEqual(0);
  }
  expect(value(samples, "vms_service_up", { host: "test@file-1", binary: "cinder-volume" })).toBe(1);
  expect(value(samples, "vms_service_up", { host: "test@file-2", binary: "cinder-volume" })).toBe(1);
  expect(value(samples, "vms_service_up", { host: "test", binary: "cinder-scheduler" })).toBe(1);
  expect(value(samples, "vms_service_enabled", { host: "test@file-1", binary: "cinder-volume" })).toBe(1);
});

test("the finished-migrations counter and bytes copied rise after a migration completes", async () => {
  const before = (await scrape()).samples;
  const created = await v3("post", "/volumes")
    .send({ volume: { size: 1, name: "metrics-vol" } })
    .expect(202);
  const id = created.body.volume.id as string;
  const host = await waitFor(async () => {
    const v = (await v3("get", `/volumes/${id}`).expect(200)).body.volume;
    return v.status === "available" ? (v["os-vol-host-attr:host"] as string) : undefined;
  }, "volume available");
  const dest = host.includes("file-1") ? "test@file-2#file-2" : "test@file-1#file-1";
  await v3("post", `/volumes/${id}/action`)
    // force_host_copy: the generic flow copies (a raw-file driver move on one machine copies nothing).
    .send({ "os-migrate_volume": { host: dest, force_host_copy: true, lock_volume: false } })
    .expect(202);
  const m = await waitFor(
    async () => {
      const [row] = (await v3("get", `/migrations?volume_id=${id}`).expect(200)).body.migrations;
      return row?.state === "success" || row?.state === "error" ? row : undefined;
    },
    "migration finished",
    60_000,
  );
  expect(m.state).toBe("success");
  expect(m.flow).toBe("generic");
  expect(m.progress.bytes_done).toBe(GiB);

  const after = (await scrape()).samples;
  const finished = (s: Sample[], outcome: string) =>
    value(s, "vms_migrations_finished_total", { outcome }) ?? 0;
  expect(finished(after, "success")).toBe(finished(before, "success") + 1);
  expect(finished(after, "error")).toBe(finished(before, "error"));
  expect(value(after, "vms_migrations", { state: "success" })).toBe(
    (value(before, "vms_migrations", { state: "success" }) ?? 0) + 1,
  );
  expect(value(after, "vms_migration_bytes_copied_total")).toBe(
    (value(before, "vms_migration_bytes_copied_total") ?? 0) + GiB,
  );
  expect(value(after, "vms_migration_copy_bytes_per_second")).toBe(0);
}, 90_000);

test("the HTTP histogram has a series per route pattern just called, not per URL", async () => {
  const id = "8c0b1b61-55c5-4d4f-9a51-7d7a8d6f4f11";
  await v3("get", `/volumes/${id}`).expect(404);
  await request(app).get(`/no/such/${id}`).expect(404);
  const { samples, text } = await scrape();
  const count = (labels: Record<string, string>) =>
    value(samples, "vms_http_request_duration_seconds_count", labels) ?? 0;
  expect(count({ method: "GET", route: "/v3/volumes/:id", status_code: "404" })).toBeGreaterThanOrEqual(1);
  expect(count({ method: "GET", route: "unmatched", status_code: "404" })).toBeGreaterThanOrEqual(1);
  expect(count({ method: "POST", route: "/v3/volumes", status_code: "202" })).toBeGreaterThanOrEqual(1);
  expect(
    value(samples, "vms_http_request_duration_seconds_bucket", {
      method: "GET",
      route: "/v3/volumes/:id",
      status_code: "404",
      le: "+Inf",
    }),
  ).toBeGreaterThanOrEqual(1);
  expect(text).not.toContain(id);
});

test("verification failures count checksum mismatches and nothing else", async () => {
  const before = value((await scrape()).samples, "vms_migration_verification_failures_total") ?? 0;
  const [volume] = (await t.db("volumes").select("id", "host").limit(1)) as { id: string; host: string }[];
  const sha = (c: string) => c.repeat(64);
  const errors = {
    match: [
      `Volume migration failed: checksum mismatch: source ${sha("a")}, destination ${sha("b")}; the source is kept`,
      `Volume migration failed: segment 2 (bytes 268435456–402653184): source digest ${sha("c")}, destination received ${sha("d")}`,
      `Volume migration failed: segment 0 (bytes 0–134217728): source digest ${sha("e")}, destination reads back ${sha("f")}`,
    ],
    other: [
      "Volume migration failed: segment 1 (bytes 134217728–268435456): a side reported no digest ()",
      "Volume migration failed: the migration is no longer migrating; the copy stops",
      "Migration cancelled by an admin at 2026-01-01T00:00:00.000Z",
      "No valid backend was found. Cannot place volume x on test@file-2#nowhere",
    ],
  };
  for (const [i, error] of [...errors.match, ...errors.other].entries()) {
    const m = await insertMigration(t.db, {
      volume_id: volume!.id,
      source_host: volume!.host,
      requested_dest: "test@file-2",
      force_host_copy: false,
      lock_volume: false,
      user_id: "admin",
    });
    await t
      .db("migrations")
      .where({ id: m.id })
      .update({ state: "error", error, finished_at: t.db.fn.now() });
    if (i === 0) {
      // A matching text on a row that did not end in error is no failure.
      const live = await insertMigration(t.db, {
        volume_id: volume!.id,
        source_host: volume!.host,
        requested_dest: "test@file-2",
        force_host_copy: false,
        lock_volume: false,
        user_id: "admin",
      });
      await t.db("migrations").where({ id: live.id }).update({ state: "completing", error });
    }
  }
  const after = value((await scrape()).samples, "vms_migration_verification_failures_total");
  expect(after).toBe(before + errors.match.length);
});

test("evacuation progress per evacuation: volumes by state, bytes done and total", async () => {
  const e = await insertEvacuation(
    t.db,
    {
      status: "running",
      source: "test@file-1",
      destination: null,
      max_parallel: 2,
      max_parallel_per_host: 2,
      max_parallel_per_pool: 2,
      order: "smallest_first",
      include_in_use: false,
      disable_source: false,
      bandwidth_limit: null,
      max_retries: 1,
      disabled_services: null,
      project_id: "demo",
      user_id: "admin",
    },
    [
      {
        position: 0,
        volume_id: randomUUID(),
        size: 1,
        from_host: "test@file-1#file-1",
        to_host: "test@file-2#file-2",
        state: "succeeded",
        reason: null,
      },
      {
        position: 1,
        volume_id: randomUUID(),
        size: 2,
        from_host: "test@file-1#file-1",
        to_host: "test@file-2#file-2",
        state: "running",
        reason: null,
      },
      {
        position: 2,
        volume_id: randomUUID(),
        size: 4,
        from_host: "test@file-1#file-1",
        to_host: "test@file-2#file-2",
        state: "pending",
        reason: null,
      },
      {
        position: 3,
        volume_id: randomUUID(),
        size: 8,
        from_host: "test@file-1#file-1",
        to_host: null,
        state: "skipped",
        reason: "has snapshots",
      },
    ],
  );
  const [volume] = (await t.db("volumes").select("id", "host").limit(1)) as { id: string; host: string }[];
  const m = await insertMigration(t.db, {
    volume_id: volume!.id,
    source_host: volume!.host,
    requested_dest: "test@file-2",
    force_host_copy: false,
    lock_volume: false,
    user_id: "admin",
  });
  await t
    .db("migrations")
    .where({ id: m.id })
    .update({ state: "migrating", bytes_done: GiB / 2, rate_bps: 1000, evacuation_id: e.id });
  await t.db("evacuation_items").where({ evacuation_id: e.id, position: 1 }).update({ migration_id: m.id });

  const { samples } = await scrape();
  const volumes = (state: string) => value(samples, "vms_evacuation_volumes", { evacuation: e.id, state });
  expect([volumes("succeeded"), volumes("running"), volumes("pending"), volumes("skipped")]).toEqual([
    1, 1, 1, 1,
  ]);
  expect([volumes("failed"), volumes("cancelled")]).toEqual([0, 0]);
  expect(value(samples, "vms_evacuation_bytes", { evacuation: e.id })).toBe(7 * GiB);
  expect(value(samples, "vms_evacuation_bytes_done", { evacuation: e.id })).toBe(GiB + GiB / 2);
  expect(value(samples, "vms_evacuation_info", { evacuation: e.id, status: "running" })).toBe(1);
  expect(value(samples, "vms_evacuations", { status: "running" })).toBeGreaterThanOrEqual(1);
  expect(value(samples, "vms_migration_copy_bytes_per_second")).toBe(1000);
});

test("labels carry no tenant or admin-only data, whoever scrapes", async () => {
  const anonymous = await scrape();
  const member = await scrape(MEMBER);
  const allowed = new Set([
    "state",
    "outcome",
    "status",
    "evacuation",
    "source",
    "host",
    "binary",
    "method",
    "route",
    "status_code",
    "le",
  ]);
  for (const s of [...anonymous.samples, ...member.samples]) {
    for (const label of Object.keys(s.labels)) {
      expect(allowed).toContain(label);
    }
  }
  const volumes = (await t.db("volumes").select("id", "name", "project_id", "user_id")) as Record<
    string,
    string | null
  >[];
  const migrations = (await t.db("migrations").select("id", "error", "user_id")) as Record<
    string,
    string | null
  >[];
  const secrets = new Set<string>();
  for (const row of [...volumes, ...migrations]) {
    for (const v of Object.values(row)) {
      if (v) {
        secrets.add(v);
      }
    }
  }
  expect(secrets.size).toBeGreaterThan(5);
  for (const text of [anonymous.text, member.text]) {
    const values = parse(text).samples.flatMap((s) => Object.values(s.labels));
    for (const secret of secrets) {
      expect(values).not.toContain(secret);
      expect(text).not.toContain(`"${secret}"`);
    }
  }
  // Same series for a member as for anyone: the endpoint does not vary with the caller.
  const names = (x: { samples: Sample[] }) =>
    x.samples
      .filter((s) => s.name.startsWith("vms_") && !s.name.startsWith("vms_http"))
      .map((s) => JSON.stringify([s.name, s.labels]));
  expect(names(member).sort()).toEqual(names(anonymous).sort());
});
