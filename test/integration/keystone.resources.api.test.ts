/**
 * The built-in Keystone's domains and projects (services/keystone/resources.ts) through the real
 * app (createApp, Keystone at /identity): what tempest's identity utilities call to make and remove
 * a throwaway project, with Keystone's policy (admin only, 401 without a token), its 404 and 409,
 * and its error body.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import type { Express } from "express";
import request from "supertest";

import { createApp } from "../../api/app";
import { parseConfig } from "../../common/config";
import { silentLogger } from "../../common/logger";
import { hashPassword, stableId } from "../../services/keystone";
import { MemoryBus } from "../../services/rpc/memory";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

let t: TestDatabase;
let bus: MemoryBus;
let app: Express;
let dir: string;
let adminToken: string;
let demoToken: string;

async function login(name: string, password: string, project: string): Promise<string> {
  const res = await request(app)
    .post("/identity/v3/auth/tokens")
    .send({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name, domain: { id: "default" }, password } },
        },
        scope: { project: { name: project, domain: { id: "default" } } },
      },
    });
  expect(res.status).toBe(201);
  return res.headers["x-subject-token"] as string;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-ks-res-"));
  const cost = { N: 1024, r: 8, p: 1 };
  const users = [
    {
      name: "admin",
      password_hash: await hashPassword("admin-pw", cost),
      project: "admin",
      roles: ["admin"],
    },
    { name: "demo", password_hash: await hashPassword("demo-pw", cost), project: "demo", roles: ["member"] },
  ];
  fs.writeFileSync(path.join(dir, "users.json"), JSON.stringify({ users }));
  t = await createTestDatabase();
  bus = new MemoryBus({ logger: silentLogger() });
  const config = parseConfig(`[keystone]\nenabled = true\nusers_file = ${dir}/users.json\n`, {});
  app = createApp({ db: t.db, bus, config, logger: silentLogger() });
  adminToken = await login("admin", "admin-pw", "admin");
  demoToken = await login("demo", "demo-pw", "demo");
});

afterAll(async () => {
  await bus.close();
  await t.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const get = (url: string, token: string | null) => {
  const r = request(app).get(url);
  return token === null ? r : r.set("X-Auth-Token", token);
};

describe("domains", () => {
  test("the admin lists the Default domain by name, as tempest's V3CredsClient asks", async () => {
    const res = await get("/identity/v3/domains?name=Default", adminToken);
    expect(res.status).toBe(200);
    expect(res.body.domains).toEqual([
      expect.objectContaining({ id: "default", name: "Default", enabled: true }),
    ]);
    expect(res.body.domains[0].links.self).toMatch(/\/identity\/v3\/domains\/default$/);
    expect(res.body.links).toMatchObject({ previous: null, next: null });
    const none = await get("/identity/v3/domains?name=Other", adminToken);
    expect(none.body.domains).toEqual([]);
  });

  test("show: the admin and a member of a project in it see it; unknown is 404", async () => {
    for (const token of [adminToken, demoToken]) {
      const res = await get("/identity/v3/domains/default", token);
      expect(res.status).toBe(200);
      expect(res.body.domain).toMatchObject({ id: "default", name: "Default" });
    }
    const unknown = await get("/identity/v3/domains/nope", adminToken);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({
      error: { code: 404, title: "Not Found", message: "Could not find domain: nope." },
    });
  });

  test("listing is admin only (403 in Keystone's format); no token is 401", async () => {
    const member = await get("/identity/v3/domains", demoToken);
    expect(member.status).toBe(403);
    expect(member.body).toEqual({
      error: {
        code: 403,
        title: "Forbidden",
        message: "You are not authorized to perform the requested action: identity:list_domains.",
      },
    });
    const anonymous = await get("/identity/v3/domains", null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toMatchObject({ code: 401, title: "Unauthorized" });
  });
});

describe("projects", () => {
  const create = (token: string | null, project: unknown) => {
    const r = request(app).post("/identity/v3/projects");
    return (token === null ? r : r.set("X-Auth-Token", token)).send({ project });
  };

  test("create, show and delete, as tempest's identity utilities do", async () => {
    const made = await create(adminToken, { name: "qc-tenant", description: "d", domain_id: "default" });
    expect(made.status).toBe(201);
    const p = made.body.project;
    expect(p).toMatchObject({
      name: "qc-tenant",
      description: "d",
      domain_id: "default",
      parent_id: "default",
      enabled: true,
      is_domain: false,
    });
    expect(p.id).toMatch(/^[0-9a-f]{32}$/);
    const shown = await get(`/identity/v3/projects/${p.id}`, adminToken);
    expect(shown.status).toBe(200);
    // supertest listens on a new port per request, so the links' host differs.
    expect({ ...shown.body.project, links: null }).toEqual({ ...p, links: null });
    const del = await request(app).delete(`/identity/v3/projects/${p.id}`).set("X-Auth-Token", adminToken);
    expect(del.status).toBe(204);
    const gone = await get(`/identity/v3/projects/${p.id}`, adminToken);
    expect(gone.status).toBe(404);
    expect(gone.body.error).toEqual({
      code: 404,
      title: "Not Found",
      message: `Could not find project: ${p.id}.`,
    });
    const again = await request(app).delete(`/identity/v3/projects/${p.id}`).set("X-Auth-Token", adminToken);
    expect(again.status).toBe(404);
  });

  test("a second project of the same name in the domain is a 409; without domain_id it is Default", async () => {
    const first = await create(adminToken, { name: "twice" });
    expect(first.status).toBe(201);
    expect(first.body.project.domain_id).toBe("default");
    const second = await create(adminToken, { name: "twice", domain_id: "default" });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 409, title: "Conflict" });
    expect(second.body.error.message).toMatch(
      /^Conflict occurred attempting to store project - .*name is twice/,
    );
  });

  test("the users file's projects are there; a member sees only its own", async () => {
    const demoId = stableId("project", "demo");
    const own = await get(`/identity/v3/projects/${demoId}`, demoToken);
    expect(own.status).toBe(200);
    expect(own.body.project).toMatchObject({ id: demoId, name: "demo", domain_id: "default" });
    const other = await get(`/identity/v3/projects/${stableId("project", "admin")}`, demoToken);
    expect(other.status).toBe(403);
    const configured = await request(app)
      .delete(`/identity/v3/projects/${demoId}`)
      .set("X-Auth-Token", adminToken);
    expect(configured.status).toBe(403);
  });

  test("members get 403 and anonymous callers 401, before the body is read", async () => {
    const made = await create(adminToken, { name: "kept" });
    const id = made.body.project.id as string;
    const byMember = await request(app)
      .post("/identity/v3/projects")
      .set("X-Auth-Token", demoToken)
      .set("Content-Type", "application/json")
      .send("not json");
    expect(byMember.status).toBe(403);
    expect(byMember.body.error.message).toBe(
      "You are not authorized to perform the requested action: identity:create_project.",
    );
    expect((await create(null, { name: "x" })).status).toBe(401);
    const delByMember = await request(app)
      .delete(`/identity/v3/projects/${id}`)
      .set("X-Auth-Token", demoToken);
    expect(delByMember.status).toBe(403);
    expect((await request(app).delete(`/identity/v3/projects/${id}`)).status).toBe(401);
    expect((await get(`/identity/v3/projects/${id}`, null)).status).toBe(401);
  });

  test.each([
    ["no name", {}],
    ["an empty name", { name: "" }],
    ["a name over 64 characters", { name: "n".repeat(65) }],
    ["a name that is not a string", { name: 7 }],
    ["enabled not a boolean", { name: "e", enabled: "yes" }],
    ["an unknown domain", { name: "d", domain_id: "nope" }],
  ])("%s is a 400", async (_what, project) => {
    const res = await create(adminToken, project);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 400, title: "Bad Request" });
  });
});
