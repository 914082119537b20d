/** Microversion negotiation and noauth token parsing. */
import { authenticate } from "../../api/auth";
import { ApiVersion, negotiate } from "../../api/microversion";
import { parseConfig } from "../../common/config";

describe("negotiate", () => {
  test.each([
    [undefined, "3.0"],
    ["volume 3.16", "3.16"],
    ["volume latest", "3.71"],
    ["compute 2.1, volume 3.5", "3.5"],
    ["compute 2.1", "3.0"],
  ])("%p → %s", (header, expected) => {
    const r = negotiate(header);
    expect(r.ok && r.version.toString()).toBe(expected);
  });

  test.each([["volume 3"], ["volume 3.01"], ["volume v3.1"]])("%p is malformed", (header) => {
    const r = negotiate(header);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(/is of invalid format/);
  });

  test("out of range keeps the version for the response header", () => {
    const r = negotiate("volume 3.72");
    expect(r.ok).toBe(false);
    expect(!r.ok && r.echo).toBe("3.72");
  });

  test("matches", () => {
    const v = new ApiVersion(3, 16);
    expect(v.matches("3.16")).toBe(true);
    expect(v.matches("3.17")).toBe(false);
    expect(v.matches("3.0", "3.15")).toBe(false);
  });
});

describe("authenticate (noauth)", () => {
  const config = parseConfig("[DEFAULT]\nnoauth_admin_users = admin,root\n", {});

  test.each([
    ["admin:demo", null, { userId: "admin", projectId: "demo", isAdmin: true }],
    ["alice:demo", null, { userId: "alice", projectId: "demo", isAdmin: false }],
    ["alice", null, { userId: "alice", projectId: "alice", isAdmin: false }],
    ["notused", "p1", { userId: "admin", projectId: "p1", isAdmin: true }],
    ["notused", null, { userId: "admin", projectId: "admin", isAdmin: true }],
  ])("%s (URL project %p)", (token, urlProject, expected) => {
    expect(authenticate(config, token, urlProject)).toEqual(expected);
  });

  test("no token", () => {
    expect(() => authenticate(config, undefined, null)).toThrow("requires authentication");
  });
});
