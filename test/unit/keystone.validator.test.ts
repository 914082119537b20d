import type { AxiosInstance } from "axios";

import type { KeystoneAuthtokenConfig } from "../../common/config";
import { IdentityUnavailable, NotAuthenticated } from "../../common/errors";
import { identityV3Url, KeystoneTokenValidator } from "../../services/keystone";

const config: KeystoneAuthtokenConfig = {
  authUrl: "http://k/identity",
  wwwAuthenticateUri: "http://k/identity",
  username: "cinder",
  password: "pw",
  projectName: "service",
  userDomainName: "Default",
  projectDomainName: "Default",
  tokenCacheTime: 300,
  httpConnectTimeout: 5,
};

interface Reply {
  status: number;
  data?: unknown;
  headers?: Record<string, string>;
}

/** A scripted Keystone: records each call, answers from the handlers. */
function fakeKeystone(handlers: {
  login?: () => Reply;
  validate: (subject: string, service: string) => Reply;
}) {
  const calls: string[] = [];
  let logins = 0;
  const http = {
    post: async (url: string) => {
      calls.push(`POST ${url}`);
      logins += 1;
      const scripted = handlers.login?.();
      return scripted
        ? { headers: {}, ...scripted }
        : {
            status: 201,
            headers: { "x-subject-token": `service-${logins}` },
            data: { token: { expires_at: "2030-01-01T02:00:00.000000Z" } },
          };
    },
    get: async (url: string, opts: { headers: Record<string, string> }) => {
      calls.push(`GET ${url} ${opts.headers["X-Auth-Token"]}`);
      return handlers.validate(opts.headers["X-Subject-Token"]!, opts.headers["X-Auth-Token"]!);
    },
  };
  return { http: http as unknown as AxiosInstance, calls };
}

const body = (expiresAt: string, roles = ["member"]) => ({
  token: {
    user: { id: "u1" },
    project: { id: "p1" },
    roles: roles.map((name) => ({ id: name, name })),
    expires_at: expiresAt,
  },
});

let now = 0;
const clock = () => now;
beforeEach(() => {
  now = Date.parse("2030-01-01T00:00:00Z");
});

test("auth_url with or without /v3 gives the same tokens URL", () => {
  expect(identityV3Url("http://k/identity")).toBe("http://k/identity/v3");
  expect(identityV3Url("http://k:5000/v3/")).toBe("http://k:5000/v3");
});

test("a valid token is asked once, then served from the cache until token_cache_time", async () => {
  const k = fakeKeystone({
    validate: () => ({ status: 200, data: body("2030-01-01T01:00:00Z", ["admin"]) }),
  });
  const v = new KeystoneTokenValidator({ config, http: k.http, clock });
  await expect(v.validate("t")).resolves.toMatchObject({ userId: "u1", projectId: "p1", roles: ["admin"] });
  await v.validate("t");
  expect(k.calls).toEqual([
    "POST http://k/identity/v3/auth/tokens",
    "GET http://k/identity/v3/auth/tokens service-1",
  ]);
  now += 301_000;
  await v.validate("t");
  expect(k.calls).toHaveLength(3);
});

test("the cache never outlives the token's expires_at", async () => {
  const k = fakeKeystone({ validate: () => ({ status: 200, data: body("2030-01-01T00:00:10Z") }) });
  const v = new KeystoneTokenValidator({ config, http: k.http, clock });
  await v.validate("t");
  now += 10_000;
  k.calls.length = 0;
  // Keystone would now say 404; what matters is that it is asked again.
  await v.validate("t").catch(() => undefined);
  expect(k.calls).toEqual(["GET http://k/identity/v3/auth/tokens service-1"]);
});

test("404 from Keystone, an expired or an unscoped token are 401s", async () => {
  const answers: Record<string, Reply> = {
    gone: { status: 404 },
    expired: { status: 200, data: body("2029-12-31T23:59:59Z") },
    unscoped: { status: 200, data: { token: { user: { id: "u" }, expires_at: "2030-01-01T01:00:00Z" } } },
  };
  const k = fakeKeystone({ validate: (s) => answers[s]! });
  const v = new KeystoneTokenValidator({ config, http: k.http, clock });
  for (const t of Object.keys(answers)) {
    await expect(v.validate(t)).rejects.toThrow(NotAuthenticated);
  }
});

test("a 401 for the service token means log in again and retry once", async () => {
  const k = fakeKeystone({
    validate: (_s, service) =>
      service === "service-1" ? { status: 401 } : { status: 200, data: body("2030-01-01T01:00:00Z") },
  });
  const v = new KeystoneTokenValidator({ config, http: k.http, clock });
  await expect(v.validate("t")).resolves.toMatchObject({ userId: "u1" });
  expect(k.calls.filter((c) => c.startsWith("POST"))).toHaveLength(2);
});

test("concurrent first requests share one service login", async () => {
  const k = fakeKeystone({ validate: () => ({ status: 200, data: body("2030-01-01T01:00:00Z") }) });
  const v = new KeystoneTokenValidator({ config, http: k.http, clock });
  await Promise.all(["a", "b", "c"].map((t) => v.validate(t)));
  expect(k.calls.filter((c) => c.startsWith("POST"))).toHaveLength(1);
});

test.each([
  ["Keystone unreachable", { validate: () => Promise.reject(new Error("connect ECONNREFUSED")) }],
  ["Keystone failing", { validate: () => ({ status: 500 }) }],
  ["service credentials refused", { login: () => ({ status: 401 }), validate: () => ({ status: 200 }) }],
  ["service token refused twice", { validate: () => ({ status: 401 }) }],
])("%s is a 503", async (_what, handlers) => {
  const k = fakeKeystone(handlers as Parameters<typeof fakeKeystone>[0]);
  const v = new KeystoneTokenValidator({ config, http: k.http, clock });
  await expect(v.validate("t")).rejects.toThrow(IdentityUnavailable);
});
