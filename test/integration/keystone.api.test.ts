/**
 * The real app (createApp) with the built-in Keystone at /identity and `auth_strategy = keystone`,
 * listening on a real port because the API validates tokens over HTTP against its own auth_url.
 */
import fs from "node:fs";
import type { Server } from "node:http";
import os from "node:os";
import path from "node:path";

import request from "supertest";

import { createApp } from "../../api/app";
import { parseConfig } from "../../common/config";
import { silentLogger } from "../../common/logger";
import { reportService } from "../../db/services";
import { hashPassword } from "../../services/keystone";
import { MemoryBus } from "../../services/rpc/memory";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { freePort } from "../helpers/processes";

interface TokenBody {
  token: {
    expires_at: string;
    issued_at: string;
    methods: string[];
    user: Record<string, unknown>;
    project: { id: string; name: string };
    roles: { name: string }[];
    catalog: { type: string; endpoints: Record<string, string>[] }[];
  };
}

let t: TestDatabase;
let bus: MemoryBus;
let server: Server;
let base: string;
let dir: string;

function configText(port: number, authtoken: Record<string, string> = {}): string {
  const opts = {
    auth_url: `http://127.0.0.1:${port}/identity`,
    username: "cinder",
    password: "service-pw",
    project_name: "service",
    ...authtoken,
  };
  return [
    "[DEFAULT]",
    "auth_strategy = keystone",
    "[keystone]",
    "enabled = true",
    `users_file = ${dir}/users.json`,
    "[keystone_authtoken]",
    ...Object.entries(opts).map(([k, v]) => `${k} = ${v}`),
  ].join("\n");
}

async function listen(text: string, port: number): Promise<Server> {
  const app = createApp({ db: t.db, bus, config: parseConfig(text, {}), logger: silentLogger() });
  return new Promise((resolve) => {
    const s = app.listen(port, "127.0.0.1", () => resolve(s));
    // As main/index.ts: clients reuse idle connections without racing the server's close.
    s.keepAliveTimeout = 900_000;
    s.headersTimeout = 901_000;
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-ks-"));
  const cost = { N: 1024, r: 8, p: 1 };
  const users = [
    {
      name: "admin",
      password_hash: await hashPassword("admin-pw", cost),
      project: "admin",
      roles: ["admin"],
    },
    { name: "demo", password_hash: await hashPassword("demo-pw", cost), project: "demo", roles: ["member"] },
    {
      name: "cinder",
      password_hash: await hashPassword("service-pw", cost),
      project: "service",
      roles: ["service"],
    },
  ];
  fs.writeFileSync(path.join(dir, "users.json"), JSON.stringify({ users }));
  t = await createTestDatabase();
  bus = new MemoryBus({ logger: silentLogger() });
  await reportService(t.db, {
    host: "node@file-1",
    binary: "cinder-volume",
    topic: "cinder-volume",
    availabilityZone: "nova",
  });
  const port = await freePort();
  server = await listen(configText(port), port);
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await bus.close();
  await t.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function login(
  name: string,
  password: string,
  project: string,
): Promise<{ token: string; body: TokenBody }> {
  const res = await request(base)
    .post("/identity/v3/auth/tokens")
    .send({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name, domain: { name: "Default" }, password } },
        },
        scope: { project: { name: project, domain: { name: "Default" } } },
      },
    });
  expect(res.status).toBe(201);
  return { token: res.headers["x-subject-token"] as string, body: res.body as TokenBody };
}

describe("built-in Keystone", () => {
  test("discovery: 300 with versions.values at the root, 200 with version at /v3", async () => {
    const version = {
      id: "v3.14",
      status: "stable",
      updated: "2020-04-07T00:00:00Z",
      links: [{ rel: "self", href: `${base}/identity/v3/` }],
      "media-types": [{ base: "application/json", type: "application/vnd.openstack.identity-v3+json" }],
    };
    const root = await request(base).get("/identity");
    expect(root.status).toBe(300);
    expect(root.body).toEqual({ versions: { values: [version] } });
    const v3 = await request(base).get("/identity/v3");
    expect(v3.status).toBe(200);
    expect(v3.body).toEqual({ version });
  });

  test("password auth: 201, X-Subject-Token, and a token body with the volume catalog", async () => {
    const { token, body } = await login("admin", "admin-pw", "admin");
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const tk = body.token;
    expect(tk.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(Date.parse(tk.expires_at) - Date.parse(tk.issued_at)).toBe(3600_000);
    expect(tk.methods).toEqual(["password"]);
    expect(tk.user).toMatchObject({ name: "admin", domain: { id: "default", name: "Default" } });
    expect(tk.project).toMatchObject({ name: "admin", domain: { id: "default", name: "Default" } });
    expect(tk.roles.map((r: { name: string }) => r.name)).toEqual(["admin"]);
    const volume = `${base}/v3/${tk.project.id}`;
    for (const type of ["volumev3", "block-storage"]) {
      const entry = tk.catalog.find((c) => c.type === type)!;
      expect(
        entry.endpoints.map((e: Record<string, string>) => [
          e["interface"],
          e["url"],
          e["region"],
          e["region_id"],
        ]),
      ).toEqual(["public", "internal", "admin"].map((i) => [i, volume, "RegionOne", "RegionOne"]));
    }
  });

  test("a wrong password is a 401 in Keystone's format, naming Keystone", async () => {
    const res = await request(base)
      .post("/identity/v3/auth/tokens")
      .send({
        auth: { identity: { methods: ["password"], password: { user: { name: "admin", password: "x" } } } },
      });
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe(`Keystone uri="${base}/identity"`);
    expect(res.body).toEqual({
      error: {
        code: 401,
        title: "Unauthorized",
        message: "The request you have made requires authentication.",
      },
    });
  });

  test("validation needs a valid X-Auth-Token; unknown subjects are 404; revoked tokens are gone", async () => {
    const admin = await login("admin", "admin-pw", "admin");
    const demo = await login("demo", "demo-pw", "demo");
    const ok = await request(base)
      .get("/identity/v3/auth/tokens")
      .set("X-Auth-Token", admin.token)
      .set("X-Subject-Token", demo.token);
    expect(ok.status).toBe(200);
    expect(ok.headers["x-subject-token"]).toBe(demo.token);
    expect(ok.body.token.user.name).toBe("demo");
    const noAuth = await request(base).get("/identity/v3/auth/tokens").set("X-Subject-Token", demo.token);
    expect(noAuth.status).toBe(401);
    const unknown = await request(base)
      .get("/identity/v3/auth/tokens")
      .set("X-Auth-Token", admin.token)
      .set("X-Subject-Token", "nope");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 404, title: "Not Found" });
    const forbidden = await request(base)
      .get("/identity/v3/auth/tokens")
      .set("X-Auth-Token", demo.token)
      .set("X-Subject-Token", admin.token);
    expect(forbidden.status).toBe(403);
    const revoke = await request(base)
      .delete("/identity/v3/auth/tokens")
      .set("X-Auth-Token", demo.token)
      .set("X-Subject-Token", demo.token);
    expect(revoke.status).toBe(204);
    const gone = await request(base)
      .get("/identity/v3/auth/tokens")
      .set("X-Auth-Token", admin.token)
      .set("X-Subject-Token", demo.token);
    expect(gone.status).toBe(404);
  });
});

describe("auth_strategy = keystone on the volume API", () => {
  test("the admin role may list pools; a member gets 403", async () => {
    const admin = await login("admin", "admin-pw", "admin");
    const pid = admin.body.token.project.id as string;
    const pools = await request(base)
      .get(`/v3/${pid}/scheduler-stats/get_pools`)
      .set("X-Auth-Token", admin.token);
    expect(pools.status).toBe(200);
    const demo = await login("demo", "demo-pw", "demo");
    const refused = await request(base)
      .get(`/v3/${demo.body.token.project.id}/scheduler-stats/get_pools`)
      .set("X-Auth-Token", demo.token);
    expect(refused.status).toBe(403);
    const own = await request(base)
      .get(`/v3/${demo.body.token.project.id}/volumes`)
      .set("X-Auth-Token", demo.token);
    expect(own.status).toBe(200);
  });

  test.each([
    ["a bogus token", "bogus"],
    ["no token", null],
  ])("%s is a 401 with WWW-Authenticate", async (_w, token) => {
    let r = request(base).get("/v3/volumes");
    if (token) {
      r = r.set("X-Auth-Token", token);
    }
    const res = await r;
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe(`Keystone uri="${base}/identity"`);
    expect(res.body).toEqual({
      unauthorized: { code: 401, message: "The request you have made requires authentication." },
    });
  });

  test.each([
    ["Keystone unreachable", (closed: number) => ({ auth_url: `http://127.0.0.1:${closed}/identity` })],
    ["wrong service credentials", () => ({ password: "wrong" })],
  ])("%s is a 503", async (_what, override) => {
    const port = await freePort();
    const closed = await freePort();
    const s = await listen(configText(port, override(closed)), port);
    try {
      const admin = await login("admin", "admin-pw", "admin");
      const res = await request(`http://127.0.0.1:${port}`)
        .get("/v3/volumes")
        .set("X-Auth-Token", admin.token);
      expect(res.status).toBe(503);
      expect(res.body.serviceUnavailable.code).toBe(503);
    } finally {
      await new Promise((r) => s.close(r));
    }
  });
});
