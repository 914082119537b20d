/**
 * The `vms` CLI's pure parts: settings from the environment and flags (noauth), Cinder fault
 * messages, the value parsers, and the figures' formatting.
 */
import { InvalidArgumentError } from "commander";

import { parseCount, parseCountOrZero, parseLimit, parseMib } from "../../main/cli/args";
import { openSession } from "../../main/cli/auth";
import { faultMessage } from "../../main/cli/client";
import { formatBytes, formatEta, formatPercent, formatRate } from "../../main/cli/progress";

describe("openSession (noauth)", () => {
  const env = {
    OS_AUTH_TYPE: "noauth",
    OS_ENDPOINT: "http://127.0.0.1:8776/v3/",
    OS_USER_ID: "admin",
    OS_PROJECT_ID: "demo",
  };

  test("the token is <user>:<project> and URLs go under /v3/{project}", async () => {
    expect(await openSession({}, env)).toEqual({
      base: "http://127.0.0.1:8776/v3/demo",
      token: "admin:demo",
    });
  });

  test("--os-* flags win over the environment; OS_VOLUME_API_ENDPOINT is read too", async () => {
    const s = await openSession(
      { osUserId: "root", osEndpoint: "http://h:1/v3/other" },
      { ...env, OS_ENDPOINT: "", OS_VOLUME_API_ENDPOINT: "http://x/v3" },
    );
    expect(s).toEqual({ base: "http://h:1/v3/other", token: "root:demo" });
    const fromVolumeEndpoint = await openSession(
      {},
      { ...env, OS_ENDPOINT: "", OS_VOLUME_API_ENDPOINT: "http://x/v3" },
    );
    expect(fromVolumeEndpoint.base).toBe("http://x/v3/demo");
  });

  test("openstackclient's none without user and project sends notused", async () => {
    const s = await openSession({}, { OS_AUTH_TYPE: "none", OS_ENDPOINT: "http://h/v3" });
    expect(s).toEqual({ base: "http://h/v3", token: "notused" });
  });

  test("missing settings and unknown auth types are named", async () => {
    await expect(openSession({}, { OS_AUTH_TYPE: "noauth" })).rejects.toThrow(/OS_ENDPOINT/);
    await expect(openSession({}, { ...env, OS_USER_ID: "" })).rejects.toThrow(/OS_USER_ID and OS_PROJECT_ID/);
    await expect(openSession({ osAuthType: "token" }, env)).rejects.toThrow(/unknown auth type "token"/);
    await expect(openSession({}, { OS_AUTH_URL: "http://k/v3" })).rejects.toThrow(/OS_USERNAME, OS_PASSWORD/);
  });
});

test("faultMessage reads Cinder's fault body", () => {
  expect(faultMessage({ badRequest: { message: "Invalid host", code: 400 } })).toBe("Invalid host");
  expect(faultMessage({ itemNotFound: { code: 404, message: "Volume x could not be found." } })).toBe(
    "Volume x could not be found.",
  );
  expect(faultMessage("  plain text ")).toBe("plain text");
  expect(faultMessage({})).toBeUndefined();
});

test("value parsers refuse what the API would", () => {
  expect(parseMib("12.5")).toBe(12.5);
  expect(parseLimit("null")).toBeNull();
  expect(parseLimit("0")).toBeNull();
  expect(parseLimit("100")).toBe(100);
  expect(parseCount("3")).toBe(3);
  expect(parseCountOrZero("0")).toBe(0);
  for (const [parse, bad] of [
    [parseMib, "-1"],
    [parseMib, ""],
    [parseLimit, "x"],
    [parseCount, "0"],
    [parseCount, "1.5"],
    [parseCountOrZero, "-1"],
  ] as const) {
    expect(() => parse(bad)).toThrow(InvalidArgumentError);
  }
});

test("figures read as an admin expects them", () => {
  expect(formatRate(104_857_600)).toBe("104.9 MB/s");
  expect(formatRate(null)).toBe("-");
  expect(formatEta(65)).toBe("1m05s");
  expect(formatEta(3725)).toBe("1h02m");
  expect(formatEta(0)).toBe("0s");
  expect(formatEta(null)).toBe("-");
  expect(formatPercent(42.35)).toBe("42.4%");
  expect(formatBytes(1024 ** 3)).toBe("1.0 GiB");
  expect(formatBytes(512)).toBe("512 B");
});
