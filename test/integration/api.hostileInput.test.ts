/**
 * Issue 14, found by the reliability tier's fuzzer (test/reliability/fuzz.reliability.test.ts):
 * requests that answered a 500 computeFault and now answer 400 badRequest.
 *
 * - A path parameter with a malformed %-escape (`%zz`, `%c0%ae`, a lone `%`): express's router
 *   throws a URIError marked 400 but not `expose`d, which the fault handler took for a crash.
 * - A NUL character, in the URL (`%00`) or in a body string (`\u0000`): Postgres cannot store or
 *   even compare it in text or jsonb, so whichever query the value reached failed.
 * - A quota set or class named by more than 255 characters: the insert overflowed the column.
 *   Cinder checks these lengths (validate_string_length) and answers 400.
 */
import { ADMIN, api, type Harness, send, startHarness } from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

const DEFAULT_TYPE = "00000000-0000-4000-8000-000000000001";
const badRequest = (message: string) => ({ badRequest: { code: 400, message } });
const URL_NUL = badRequest("Invalid input received: NUL characters (%00) are not allowed in the URL");
const BODY_NUL = badRequest(
  "Invalid input received: NUL characters (\\u0000) are not allowed in the request body",
);

test.each([
  ["get", "/v3/demo/volumes/%zz", "%zz"],
  ["delete", "/v3/demo/volumes/%c0%ae%c0%ae", "%c0%ae%c0%ae"],
  ["post", "/v3/demo/volumes/%/action", "%"],
  ["get", "/v3/demo/messages/%c0%ae", "%c0%ae"],
  ["post", "/v3/migrations/%zz/action", "%zz"],
  ["put", `/v3/demo/types/${DEFAULT_TYPE}/extra_specs/%zz`, "%zz"],
  ["get", "/dashboard/%zz", "%zz"],
] as const)("%s %s: a malformed %%-escape → 400", async (method, path, param) => {
  const res = await api(h, method, path);
  expect({ status: res.status, body: res.body }).toEqual({
    status: 400,
    body: badRequest(`Failed to decode param '${param}'`),
  });
});

test.each([
  ["get", "/v3/demo/os-quota-sets/a%00b"],
  ["get", "/v3/demo/os-quota-class-sets/a%00"],
  ["delete", `/v3/demo/types/${DEFAULT_TYPE}/extra_specs/a%00`],
  ["get", "/v3/demo/volumes?name=%00"],
  ["get", "/v3/demo/attachments?instance_id=a%00"],
  ["get", "/v3/demo/os-services?host=%00"],
] as const)("%s %s: a NUL in the URL → 400", async (method, path) => {
  const res = await api(h, method, path, { version: "3.71" });
  expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: URL_NUL });
});

test.each([
  ["post", "/v3/demo/volumes", { volume: { size: 1, name: "a\u0000" } }],
  ["post", "/v3/demo/volumes", { volume: { size: 1, metadata: { k: "v\u0000" } } }],
  ["post", "/v3/demo/types", { volume_type: { name: "t\u0000" } }],
  ["put", "/v3/demo/os-services/enable", { host: "h\u0000", binary: "cinder-volume" }],
  ["post", "/v3/demo/qos-specs", { qos_specs: { name: "q", "k\u0000": "v" } }],
] as const)("%s %s: a NUL in a body string → 400, nothing stored", async (method, path, body) => {
  const volumes = await h.t.db("volumes").count<{ n: string }[]>({ n: "*" });
  const res = await send(h, method, path, body);
  expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: BODY_NUL });
  expect(await h.t.db("volumes").count<{ n: string }[]>({ n: "*" })).toEqual(volumes);
});

test("a quota set or class named by more than 255 characters → 400 in Cinder's words", async () => {
  const long = "p".repeat(256);
  const set = await send(h, "put", `/v3/demo/os-quota-sets/${long}`, { quota_set: { volumes: 5 } });
  expect({ status: set.status, body: set.body }).toEqual({
    status: 400,
    body: badRequest("Invalid input received: quota_set_name has 256 characters, more than 255."),
  });
  const cls = await send(h, "put", `/v3/demo/os-quota-class-sets/${long}`, {
    quota_class_set: { volumes: 5 },
  });
  expect({ status: cls.status, body: cls.body }).toEqual({
    status: 400,
    body: badRequest("Invalid input received: quota_class_name has 256 characters, more than 255."),
  });
  // 255 characters still fit.
  const fits = await send(h, "put", `/v3/demo/os-quota-sets/${long.slice(1)}`, { quota_set: { volumes: 5 } });
  expect(fits.status).toBe(200);
  // Members are refused by the policy first, as in Cinder.
  const member = await send(
    h,
    "put",
    `/v3/demo/os-quota-sets/${long}`,
    { quota_set: { volumes: 5 } },
    {
      token: "alice:demo",
    },
  );
  expect(member.status).toBe(403);
});

test("the server answers normally afterwards", async () => {
  expect((await api(h, "get", "/v3/demo/volumes", { token: ADMIN })).status).toBe(200);
});
