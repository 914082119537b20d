import { NotAuthenticated, NotFound, PolicyNotAuthorized, ValidationError } from "../../common/errors";
import { BuiltinKeystone, hashPassword, parseUsers, UserDirectory } from "../../services/keystone";

let now = Date.parse("2030-01-01T00:00:00Z");
let keystone: BuiltinKeystone;
let users: UserDirectory;

beforeAll(async () => {
  const hash = await hashPassword("pw", { N: 1024, r: 8, p: 1 });
  users = new UserDirectory(
    parseUsers(
      {
        users: [
          { name: "admin", password_hash: hash, project: "admin", roles: ["admin"] },
          { name: "demo", password_hash: hash, project: "demo", roles: ["member"] },
          { name: "other", password_hash: hash, project: "demo", roles: ["member"] },
          { name: "cinder", password_hash: hash, project: "service", roles: ["service"] },
        ],
      },
      "test",
    ),
  );
});

beforeEach(() => {
  keystone = new BuiltinKeystone({ users, tokenExpiration: 3600, clock: () => now });
});

function password(user: Record<string, unknown>, scope?: Record<string, unknown>): unknown {
  return {
    auth: { identity: { methods: ["password"], password: { user } }, ...(scope ? { scope } : {}) },
  };
}

const ADMIN = { name: "admin", domain: { name: "Default" }, password: "pw" };
const ADMIN_PROJECT = { project: { name: "admin", domain: { name: "Default" } } };

test("password auth by name and domain, scoped to the user's project", async () => {
  const { token, record } = await keystone.issue(password(ADMIN, ADMIN_PROJECT));
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(record.user.name).toBe("admin");
  expect(record.project).toEqual(users.findByName("admin")!.project);
  expect(record.methods).toEqual(["password"]);
  expect(record.expiresAt.getTime() - record.issuedAt.getTime()).toBe(3600_000);
  expect(keystone.authenticate(token)).toBe(record);
});

test("password auth by user id and project id; without a scope the token is unscoped", async () => {
  const admin = users.findByName("admin")!;
  const byId = await keystone.issue(
    password({ id: admin.id, password: "pw" }, { project: { id: admin.project.id } }),
  );
  expect(byId.record.project?.name).toBe("admin");
  const unscoped = await keystone.issue(password(ADMIN));
  expect(unscoped.record.project).toBeNull();
});

test.each([
  ["a wrong password", password({ ...ADMIN, password: "nope" }, ADMIN_PROJECT)],
  ["an unknown user", password({ ...ADMIN, name: "ghost" }, ADMIN_PROJECT)],
  ["another domain", password({ ...ADMIN, domain: { name: "Other" } }, ADMIN_PROJECT)],
  ["another user's project", password(ADMIN, { project: { name: "demo", domain: { name: "Default" } } })],
  ["a domain scope", password(ADMIN, { domain: { name: "Default" } })],
  ["an unknown method", { auth: { identity: { methods: ["totp"], totp: {} } } }],
])("%s is a 401", async (_what, body) => {
  await expect(keystone.issue(body)).rejects.toThrow(NotAuthenticated);
});

test.each([[null], [{}], [{ auth: { identity: { methods: [] } } }], [{ auth: { identity: "x" } }]])(
  "a malformed body (%j) is a 400",
  async (body) => {
    await expect(keystone.issue(body)).rejects.toThrow(ValidationError);
  },
);

test("token auth re-scopes an existing token without extending its life", async () => {
  const first = await keystone.issue(password(ADMIN));
  now += 600_000;
  const rescoped = await keystone.issue({
    auth: { identity: { methods: ["token"], token: { id: first.token } }, scope: ADMIN_PROJECT },
  });
  expect(rescoped.record.project?.name).toBe("admin");
  expect(rescoped.record.methods).toEqual(["token"]);
  expect(rescoped.record.expiresAt).toEqual(first.record.expiresAt);
  await expect(
    keystone.issue({ auth: { identity: { methods: ["token"], token: { id: "bogus" } } } }),
  ).rejects.toThrow(NotAuthenticated);
});

test("tokens expire", async () => {
  const { token } = await keystone.issue(password(ADMIN, ADMIN_PROJECT));
  now += 3600_000;
  expect(() => keystone.authenticate(token)).toThrow(NotAuthenticated);
});

test("validation: admin and service roles validate any token, others only their own; unknown is 404", async () => {
  const login = (name: string, project: string) =>
    keystone.issue(
      password(
        { name, password: "pw", domain: { id: "default" } },
        { project: { name: project, domain: { id: "default" } } },
      ),
    );
  const admin = await login("admin", "admin");
  const service = await login("cinder", "service");
  const demo = await login("demo", "demo");
  const other = await login("other", "demo");
  expect(keystone.validate(service.record, demo.token)).toBe(demo.record);
  expect(keystone.validate(admin.record, demo.token)).toBe(demo.record);
  expect(keystone.validate(demo.record, demo.token)).toBe(demo.record);
  expect(() => keystone.validate(other.record, demo.token)).toThrow(PolicyNotAuthorized);
  expect(() => keystone.validate(service.record, "unknown")).toThrow(NotFound);
  expect(() => keystone.validate(service.record, undefined)).toThrow(NotFound);
  keystone.revoke(service.record, demo.token);
  expect(() => keystone.validate(service.record, demo.token)).toThrow(NotFound);
});
