import { ConfigError } from "../../common/errors";
import { hashPassword, parseUsers, stableId, verifyPassword } from "../../services/keystone";
import { parsePasswordHash } from "../../services/keystone/passwords";

const CHEAP = { N: 1024, r: 8, p: 1 };

test("a hash verifies its password and no other, and carries its cost and a random salt", async () => {
  const h = await hashPassword("s3cret", CHEAP);
  expect(h).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
  expect(await verifyPassword("s3cret", h)).toBe(true);
  expect(await verifyPassword("s3cret ", h)).toBe(false);
  expect(await verifyPassword("", h)).toBe(false);
  expect(await hashPassword("s3cret", CHEAP)).not.toBe(h);
});

test("the default cost is node's scrypt default", async () => {
  const h = await hashPassword("x");
  expect(h.startsWith("scrypt$16384$8$1$")).toBe(true);
  expect(await verifyPassword("x", h)).toBe(true);
});

test.each([
  ["plain", "expected scrypt$"],
  ["scrypt$1000$8$1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAA", "power of two"],
  ["scrypt$1024$8$1$AA$AAAAAAAAAAAAAAAAAAAAAAAAAA", "too short"],
])("an unusable hash (%s) is explained and never matches", async (encoded, why) => {
  expect(parsePasswordHash(encoded)).toContain(why);
  expect(await verifyPassword("plain", encoded)).toBe(false);
});

describe("users file", () => {
  let hash: string;
  beforeAll(async () => {
    hash = await hashPassword("pw", CHEAP);
  });
  const where = "[keystone] users_file /x.json";

  test("ids default to stable hashes of the names; explicit ids win", () => {
    const users = parseUsers(
      {
        users: [
          { name: "admin", password_hash: hash, project: "admin", roles: ["admin"] },
          {
            name: "a.b",
            password_hash: hash,
            project: "demo",
            roles: ["member"],
            id: "u1",
            project_id: "p1",
          },
        ],
      },
      where,
    );
    expect(users[0]).toMatchObject({
      id: stableId("user", "admin"),
      project: { id: stableId("project", "admin"), name: "admin" },
      roles: [{ id: stableId("role", "admin"), name: "admin" }],
    });
    expect(users[0]!.id).toMatch(/^[0-9a-f]{32}$/);
    expect(users[1]).toMatchObject({ id: "u1", name: "a.b", project: { id: "p1", name: "demo" } });
  });

  test.each([
    [{}, "users: must be a non-empty array"],
    [
      { users: [{ name: "a", project: "p", roles: [] }] },
      "users[0].password_hash: must be a non-empty string",
    ],
    [
      { users: [{ name: "a", password_hash: "x", project: "p", roles: [] }] },
      "users[0].password_hash: expected",
    ],
    [{ users: [{ name: "a", password_hash: "H", project: "p", roles: "admin" }] }, "users[0].roles"],
    [{ users: [{ name: "a", password_hash: "H", roles: [] }] }, "users[0].project"],
    [
      {
        users: [
          { name: "a", password_hash: "H", project: "p", roles: [] },
          { name: "a", password_hash: "H", project: "p", roles: [] },
        ],
      },
      "users[1]: user a",
    ],
    [
      {
        users: [
          { name: "a", password_hash: "H", project: "p", roles: [] },
          { name: "b", password_hash: "H", project: "p", project_id: "other", roles: [] },
        ],
      },
      "users[1].project_id: project p already has id",
    ],
  ])("a bad file (%j) is a ConfigError naming the file and the entry", (doc, message) => {
    const withHash = JSON.parse(JSON.stringify(doc).replaceAll('"H"', JSON.stringify(hash))) as unknown;
    expect(() => parseUsers(withHash, where)).toThrow(ConfigError);
    expect(() => parseUsers(withHash, where)).toThrow(`Invalid configuration: ${where}: ${message}`);
  });
});
