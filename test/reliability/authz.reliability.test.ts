/**
 * Authorisation (issue 14, item 4) against the real all-in-one process with static tokens: every
 * route × caller from one table (authzTable.ts) with Cinder's expected status, admin-only fields
 * hidden from members in every view, and no token or password in what the process logged.
 *
 * Every copy is throttled to 1 MiB/s with one migration per source backend at a time, so each
 * migration or evacuation made here stays queued or running for the whole file: rows that need an
 * active one (cancel, pause…) find it so whatever the machine's speed.
 */
import { IDENTITIES, type Row, TABLE, type Vars, type Who } from "./authzTable";
import { World } from "./authzWorld";
import { recordFigure } from "./figures";
import { type Identity, OTHER_PROJECT, PROJECT, type ReliabilityStack, startStack, TOKENS } from "./stack";

const VERSION = "3.71";
const PASSWORD = "rel-keystone-pw-3c9d1e";
const DUMMY = "00000000-0000-4000-8000-00000000dead";
/** Admin-only keys of the volume detail view at 3.71 (cinder/api/v3/views/volumes.py, extensions). */
const ADMIN_VOLUME_KEYS = [
  "migration_status",
  "provider_id",
  "cluster_name",
  "os-vol-host-attr:host",
  "os-vol-mig-status-attr:migstat",
  "os-vol-mig-status-attr:name_id",
];
/** What a member's event stream may say of a migration of its volume (README, api/routes/events.ts). */
const MEMBER_MIGRATION_KEYS = [
  "id",
  "volume_id",
  "state",
  "progress",
  "created_at",
  "started_at",
  "finished_at",
  "updated_at",
];

type Json = Record<string, unknown>;
interface Answer {
  status: number;
  body: Json;
  text: string;
}

const adminKeysIn = (v: Json): string[] => ADMIN_VOLUME_KEYS.filter((k) => k in v);

let stack: ReliabilityStack;
let world: World;

/** One request as `who`; an event stream is closed once its headers came. */
async function send(who: Who, method: string, url: string, body?: unknown): Promise<Answer> {
  const token: Identity = who === "cross" ? "other" : who;
  const headers: Record<string, string> = { ...stack.headers(token, VERSION) };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const res = await fetch(`${stack.base}${url}`, { method, headers, body: payload });
  if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
    await res.body?.cancel();
    return { status: res.status, body: {}, text: "" };
  }
  const text = await res.text();
  let parsed: Json;
  try {
    parsed = text.startsWith("{") ? (JSON.parse(text) as Json) : {};
  } catch {
    parsed = {};
  }
  return { status: res.status, body: parsed, text };
}

/** `/v3/<project>` of a caller: its own project for `cross`, `demo` for everyone else. */
const v3 = (who: Who, p: string): string => `/v3/${who === "cross" ? OTHER_PROJECT : PROJECT}${p}`;

async function get(who: Who, p: string): Promise<Json> {
  const a = await send(who, "GET", v3(who, p));
  expect(a.status).toBe(200);
  return a.body;
}

beforeAll(async () => {
  stack = await startStack({
    logLevel: "debug",
    extra: [
      "quota_volumes = -1",
      "quota_gigabytes = -1",
      "quota_snapshots = -1",
      "volume_copy_bps_limit = 1048576",
      "max_concurrent_migrations = 1",
      // Read by nothing under auth_strategy = static: here only so the log check has a password.
      "[keystone_authtoken]",
      `password = ${PASSWORD}`,
    ].join("\n"),
  });
  world = new World(async (method, p, body, status) => {
    const a = await send("admin", method, v3("admin", p), body);
    if (a.status !== status) {
      throw new Error(`set-up ${method} ${p} answered ${a.status}, not ${status}: ${a.text.slice(0, 300)}`);
    }
    return a.body;
  }, stack.stateDir);
  await world.setUp();
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

const fill = (s: string, vars: Vars): string => s.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);

/** The route a row exercises: method, path template and, for an action, its name. */
function route(row: Row): string {
  const action = row.path.endsWith("/action") ? ` ${Object.keys(row.body as Json)[0]}` : "";
  return `${row.method} ${row.bare ? "/v3" : ""}${row.path.split("?")[0]}${action}`;
}

/** The row itself, for the mismatch table (rows of one route differ by query or body). */
function label(row: Row): string {
  const query = row.path.includes("?") ? `?${row.path.split("?")[1]}` : "";
  const body = row.body === undefined ? "" : ` ${JSON.stringify(row.body).slice(0, 36)}`;
  return `${route(row)}${query}${body}`;
}

interface Cell {
  route: string;
  who: Who;
  expected: number;
  got: number;
  detail: string;
}

async function runCell(row: Row, who: Who): Promise<Cell> {
  let vars: Vars = { ...world.ids, uniq: Math.random().toString(36).slice(2, 10) };
  if (row.fresh) {
    // Callers refused before any lookup get a dummy id, so that if one got through, nothing another
    // row shares would break (and the dummy's 404 still differs from the expected 400/401).
    const refusedFirst = row.expect[who] === 401 || (who === "other" && !row.bare);
    vars = refusedFirst
      ? Object.fromEntries(Object.keys(vars).map((k) => [k, k === "uniq" ? vars[k]! : DUMMY]))
      : { ...vars, ...(await world[row.fresh]()) };
  }
  const p = fill(row.path, vars);
  const url = row.root ? p : row.bare ? `/v3${p}` : v3(who, p);
  const body =
    row.body === undefined ? undefined : (JSON.parse(fill(JSON.stringify(row.body), vars)) as unknown);
  const a = await send(who, row.method, url, body);
  if (row.after) {
    await world[row.after]();
  }
  return { route: label(row), who, expected: row.expect[who], got: a.status, detail: a.text.slice(0, 100) };
}

test("every route × caller answers what Cinder's default policy says", async () => {
  const cells: Cell[] = [];
  for (const row of TABLE) {
    for (const who of IDENTITIES) {
      cells.push(await runCell(row, who));
    }
  }
  const wrong = cells.filter((c) => c.got !== c.expected);
  if (wrong.length) {
    const lines = wrong.map(
      (c) => `${c.route.padEnd(72)} ${c.who.padEnd(7)} ${c.expected} ${c.got}  ${c.detail}`,
    );
    console.log(`authorisation mismatches (route, caller, expected, got):\n${lines.join("\n")}`);
  }
  const routes = new Set(TABLE.map(route)).size;
  recordFigure({
    section: "authorisation",
    name: "cells checked",
    value: cells.length,
    note: `${TABLE.length} rows × ${IDENTITIES.length} callers`,
  });
  recordFigure({ section: "authorisation", name: "mismatches", value: wrong.length, note: "target 0" });
  recordFigure({
    section: "authorisation",
    name: "routes covered",
    value: routes,
    note: "method, path template and action name",
  });
  expect(wrong).toEqual([]);
});

describe("admin-only fields", () => {
  const volumes = (b: Json): Json[] => b["volumes"] as Json[];

  test("volumes: members see none in show, detail, create and update; admins see them all", async () => {
    const { migVol, viewVol, vol } = world.ids;
    for (const id of [migVol, viewVol]) {
      expect(adminKeysIn((await get("admin", `/volumes/${id}`))["volume"] as Json)).toEqual(
        ADMIN_VOLUME_KEYS,
      );
      const mine = (await get("member", `/volumes/${id}`))["volume"] as Json;
      expect(adminKeysIn(mine)).toEqual([]);
      // Cinder shows the owner its tenant (os-vol-tenant-attr is a reader's attribute).
      expect(mine["os-vol-tenant-attr:tenant_id"]).toBe(PROJECT);
    }
    const migrating = (await get("admin", `/volumes/${migVol}`))["volume"] as Json;
    expect(migrating["os-vol-mig-status-attr:migstat"]).toMatch(/starting|migrating/);
    // The attachment's host: admins (and services) only.
    const attachmentsOf = async (who: Who): Promise<Json[]> =>
      ((await get(who, `/volumes/${viewVol}`))["volume"] as Json)["attachments"] as Json[];
    expect((await attachmentsOf("admin"))[0]?.["host_name"]).toBe("rel-compute");
    expect((await attachmentsOf("member"))[0]?.["host_name"]).toBeNull();
    for (const v of volumes(await get("admin", "/volumes/detail"))) {
      expect(adminKeysIn(v)).toEqual(ADMIN_VOLUME_KEYS);
    }
    for (const v of volumes(await get("member", "/volumes/detail"))) {
      expect(adminKeysIn(v)).toEqual([]);
    }
    for (const who of ["admin", "member"] as const) {
      for (const v of volumes(await get(who, "/volumes"))) {
        expect(Object.keys(v).sort()).toEqual(["id", "links", "name"]);
      }
    }
    const put = await send("member", "PUT", v3("member", `/volumes/${vol}`), { volume: { name: "seen" } });
    expect(adminKeysIn(put.body["volume"] as Json)).toEqual([]);
    const post = await send("member", "POST", v3("member", "/volumes"), { volume: { size: 1 } });
    expect(adminKeysIn(post.body["volume"] as Json)).toEqual([]);
  });

  test("a migration's temp volume and other projects' objects never reach a member's lists", async () => {
    const migration = (await get("admin", `/migrations/${world.ids["mig"]}`))["migration"] as Json;
    const temp = migration["temp_volume_id"] as string;
    expect(temp).toEqual(expect.any(String));
    expect(volumes(await get("admin", "/volumes/detail")).map((v) => v["id"])).toContain(temp);
    for (const p of ["/volumes", "/volumes/detail"]) {
      expect(volumes(await get("member", p)).map((v) => v["id"])).not.toContain(temp);
    }
    // all_tenants is an admin's filter; everyone else keeps to their project (Cinder drops it).
    const tenants = async (who: Who): Promise<Set<unknown>> =>
      new Set(
        volumes(await get(who, "/volumes/detail?all_tenants=1")).map(
          (v) => v["os-vol-tenant-attr:tenant_id"],
        ),
      );
    expect(await tenants("admin")).toEqual(new Set([PROJECT, OTHER_PROJECT]));
    expect(await tenants("member")).toEqual(new Set([PROJECT]));
    expect(await tenants("cross")).toEqual(new Set([OTHER_PROJECT]));
    const snaps = (await get("cross", "/snapshots/detail?all_tenants=1"))["snapshots"] as Json[];
    expect(snaps.filter((s) => s["os-extended-snapshot-attributes:project_id"] !== OTHER_PROJECT)).toEqual(
      [],
    );
    const demoVolumes = new Set(volumes(await get("admin", "/volumes/detail")).map((v) => v["id"]));
    const atts = (await get("cross", "/attachments?all_tenants=1"))["attachments"] as Json[];
    expect(atts.filter((a) => demoVolumes.has(a["volume_id"]))).toEqual([]);
    const msgs = (await get("cross", "/messages"))["messages"] as Json[];
    expect(msgs.filter((m) => demoVolumes.has(m["resource_uuid"]))).toEqual([]);
  });

  test("snapshots: the extended attributes are the owner's (Cinder's reader rule), as the admin's", async () => {
    for (const who of ["admin", "member"] as const) {
      const s = (await get(who, `/snapshots/${world.ids["snap"]}`))["snapshot"] as Json;
      expect(s["os-extended-snapshot-attributes:project_id"]).toBe(PROJECT);
      expect(s).toHaveProperty("os-extended-snapshot-attributes:progress");
    }
  });

  test("volume types: members see neither qos_specs_id, the sensitive specs nor private types", async () => {
    const { type, ptype } = world.ids;
    const admin = (await get("admin", `/types/${type}`))["volume_type"] as Json;
    expect(admin).toHaveProperty("qos_specs_id");
    expect(admin["extra_specs"]).toHaveProperty("volume_backend_name");
    const member = (await get("member", `/types/${type}`))["volume_type"] as Json;
    expect(member).not.toHaveProperty("qos_specs_id");
    expect(Object.keys(member["extra_specs"] as Json)).toEqual(["multiattach"]);
    // is_public=none lists private types too, for admins only (members always get is_public=true).
    const ids = async (who: Who): Promise<unknown[]> =>
      ((await get(who, "/types?is_public=none"))["volume_types"] as Json[]).map((t) => t["id"]);
    expect(await ids("admin")).toContain(ptype);
    expect(await ids("member")).not.toContain(ptype);
  });
});

interface Frame {
  event: string;
  data: Json;
}

interface Stream {
  /** Settles once the stream's `ready` event came. */
  ready: Promise<void>;
  /** Ends the stream and returns what it carried after `ready`. */
  close(): Promise<Frame[]>;
}

/** `who`'s event stream, read in the background until closed. */
async function openStream(who: Who): Promise<Stream> {
  const stop = new AbortController();
  const res = await fetch(`${stack.base}${v3(who, "/events")}`, {
    headers: stack.headers(who === "cross" ? "other" : who, VERSION),
    signal: stop.signal,
  });
  expect(res.status).toBe(200);
  let text = "";
  let onReady = (): void => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  const reading = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes("event: ready")) {
        onReady();
      }
    }
  })().catch(() => undefined);
  const close = async (): Promise<Frame[]> => {
    stop.abort();
    await reading;
    return text
      .split("\n\n")
      .map((block) => ({
        event: /^event: (.*)$/m.exec(block)?.[1] ?? "",
        data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "{}") as Json,
      }))
      .filter((f) => f.event !== "" && f.event !== "ready");
  };
  return { ready, close };
}

test("event streams: members get their project's volumes and a migration's progress, no more", async () => {
  const { vol, evac, migVol } = world.ids;
  const streams = await Promise.all([openStream("admin"), openStream("member"), openStream("cross")]);
  await Promise.all(streams.map((s) => s.ready));
  // A volume and an evacuation change; the running migration does by itself every second.
  await send("admin", "PUT", v3("admin", `/volumes/${vol}`), { volume: { description: "event" } });
  await send("admin", "POST", v3("admin", `/evacuations/${evac}/action`), {
    "os-set_limits": { max_retries: 2 },
  });
  // The feed polls once a second: a few polls carry all of it.
  await new Promise((r) => setTimeout(r, 4000));
  const [admin, member, cross] = (await Promise.all(streams.map((s) => s.close()))) as [
    Frame[],
    Frame[],
    Frame[],
  ];
  const of = (fs: Frame[], event: string): Json[] => fs.filter((f) => f.event === event).map((f) => f.data);

  expect(of(admin, "migration").some((m) => m["volume_id"] === migVol && "source_host" in m)).toBe(true);
  expect(of(admin, "volume").some((v) => v["id"] === vol && adminKeysIn(v).length > 0)).toBe(true);
  expect(of(admin, "evacuation").map((e) => e["id"])).toContain(evac);

  expect(of(member, "migration").some((m) => m["volume_id"] === migVol)).toBe(true);
  for (const m of of(member, "migration")) {
    expect(Object.keys(m).filter((k) => !MEMBER_MIGRATION_KEYS.includes(k))).toEqual([]);
  }
  expect(of(member, "volume").map((v) => v["id"])).toContain(vol);
  for (const v of of(member, "volume")) {
    expect(adminKeysIn(v)).toEqual([]);
  }
  expect(of(member, "evacuation")).toEqual([]);

  // Another project's stream says nothing of demo's objects.
  const leaked = JSON.stringify(cross);
  for (const id of [vol, migVol, evac, world.ids["mig"]]) {
    expect(leaked).not.toContain(id);
  }
  expect(of(cross, "evacuation")).toEqual([]);
});

test("metrics labels name no volume, project, user or token (README: /metrics needs no token)", async () => {
  const res = await fetch(`${stack.base}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  const values = [...text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => m[2]!);
  // The documented labels are there (so the check can fail): evacuation ids and route patterns.
  expect(values).toContain(world.ids["evac"]);
  expect(values).toContain("/v3/volumes/:id");
  const secrets = [
    ...world.volumeIds,
    ...Object.values(world.ids),
    PROJECT,
    OTHER_PROJECT,
    "alice",
    "bob",
    ...Object.values(TOKENS),
  ].filter((s) => s !== world.ids["evac"]);
  expect(values.filter((v) => secrets.some((s) => v.includes(s)))).toEqual([]);
});

// Last: it reads everything the tests above made the process log.
test("no token or password appears in the process's logs", () => {
  const log = stack.proc.output();
  const lines = log.split("\n").filter((l) => l.trim() !== "");
  // The log holds the refusals of the matrix (so a token logged with them would be seen).
  expect(lines.filter((l) => l.includes("request refused")).length).toBeGreaterThan(100);
  const found = [...Object.values(TOKENS), PASSWORD].filter((secret) => log.includes(secret));
  recordFigure({ section: "authorisation", name: "log lines scanned", value: lines.length });
  recordFigure({
    section: "authorisation",
    name: "tokens found in logs",
    value: found.length,
    note: "target 0",
  });
  expect(found).toEqual([]);
});
