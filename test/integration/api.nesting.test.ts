/**
 * Issue 14: a JSON body nested thousands of levels deep (`[[[[…]]]]`) overflowed the stack while
 * the schema error quoted it back (api/validation/pyrepr.ts) and answered a 500 computeFault.
 * Bodies nested deeper than any Cinder request are now refused with Cinder's 400 badRequest,
 * whichever route and wherever in the body the nesting is, and the server goes on answering.
 */
import { addVolume, api, type Harness, startHarness } from "./api.harness";

let h: Harness;
let volumeId: string;
beforeAll(async () => {
  h = await startHarness();
  volumeId = (await addVolume(h)).id;
});
afterAll(async () => h.close());

const arrays = (levels: number, inner = "1"): string => "[".repeat(levels) + inner + "]".repeat(levels);
const objects = (levels: number): string => '{"a":'.repeat(levels) + "1" + "}".repeat(levels);
const TOO_DEEP = {
  badRequest: { code: 400, message: "Malformed request body: JSON nested deeper than 32 levels" },
};

type Route = ["post" | "put", string];
const routes = (): Route[] => [
  ["post", "/v3/demo/volumes"],
  ["post", `/v3/demo/volumes/${volumeId}/action`],
  ["put", `/v3/demo/volumes/${volumeId}`],
  ["post", "/v3/demo/snapshots"],
  ["post", "/v3/demo/types"],
  ["post", "/v3/migrations/00000000-0000-4000-8000-000000000000/action"],
];

function send(method: "post" | "put", path: string, body: string) {
  return api(h, method, path).set("Content-Type", "application/json").send(body);
}

describe.each([5_000, 100_000])("%i levels", (levels) => {
  test.each([
    ["arrays at the root", () => arrays(levels)],
    ["objects at the root", () => objects(levels)],
    [
      "arrays inside a volume's metadata",
      () => `{"volume": {"size": 1, "metadata": {"k": ${arrays(levels, '"v"')}}}}`,
    ],
  ])("%s: 400 badRequest on every route, and the server answers afterwards", async (_what, body) => {
    const text = body();
    for (const [method, path] of routes()) {
      const res = await send(method, path, text);
      expect({ route: `${method} ${path}`, status: res.status, body: res.body }).toEqual({
        route: `${method} ${path}`,
        status: 400,
        body: TOO_DEEP,
      });
    }
    const alive = await api(h, "get", `/v3/demo/volumes/${volumeId}`);
    expect(alive.status).toBe(200);
  });
});

test("an unknown path still answers 404 before a body nested too deep answers 400", async () => {
  const res = await send("post", "/v3/demo/no-such-thing", arrays(5_000));
  expect(res.status).toBe(404);
});

test("brackets inside strings do not count as nesting", async () => {
  const res = await send(
    "post",
    "/v3/demo/volumes",
    JSON.stringify({ volume: { size: 1, name: "[".repeat(200), description: "{".repeat(200) } }),
  );
  expect(res.status).toBe(202);
});

test("nesting within the limit still gets the schema's own message, the value quoted back", async () => {
  const res = await send(
    "post",
    "/v3/demo/volumes",
    `{"volume": {"size": 1, "metadata": {"k": ${arrays(29)}}}}`,
  );
  expect(res.status).toBe(400);
  expect(res.body.badRequest.message).toBe(
    `Invalid input for field/attribute k. Value: ${arrays(29)}. ${arrays(29)} is not of type 'string'`,
  );
});
