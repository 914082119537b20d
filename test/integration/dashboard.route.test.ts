/**
 * /dashboard/ served by the API process: the page, its modules and the vendor modules its import
 * map names (straight from node_modules), with their content types and the page's CSP; the sign-in
 * hint config.json; nothing outside the page's files.
 */
import { createHash } from "node:crypto";

import request from "supertest";

import { type Harness, startHarness } from "./api.harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

const JS = /^text\/javascript; charset=utf-8$/;

test("/dashboard redirects to /dashboard/, which is the page under a strict CSP that allows its import map", async () => {
  const bare = await request(h.app).get("/dashboard");
  expect(bare.status).toBe(308);
  expect(bare.headers["location"]).toBe("/dashboard/");

  const page = await request(h.app).get("/dashboard/");
  expect(page.status).toBe(200);
  expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
  expect(page.headers["x-content-type-options"]).toBe("nosniff");
  const csp = page.headers["content-security-policy"] as string;
  expect(csp).toContain("default-src 'none'");
  const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(page.text)![1]!;
  const hash = createHash("sha256").update(map).digest("base64");
  expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
});

test("every module the import map and the page's modules name is served as JavaScript", async () => {
  const page = await request(h.app).get("/dashboard/");
  const imports = JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(page.text)![1]!)
    .imports as Record<string, string>;
  expect(Object.keys(imports).sort()).toEqual(["htm", "htm/preact", "preact", "preact/hooks", "uplot"]);
  const seen = new Set<string>();
  const queue = ["./main.js", ...Object.values(imports)];
  while (queue.length) {
    const rel = queue.shift()!;
    const url = new URL(rel, "http://x/dashboard/").pathname;
    if (seen.has(url)) {
      continue;
    }
    seen.add(url);
    const res = await request(h.app).get(url);
    expect({ url, status: res.status }).toEqual({ url, status: 200 });
    expect(res.headers["content-type"]).toMatch(JS);
    // Relative imports of the page's own modules (bare names go through the import map).
    for (const m of res.text.matchAll(/(?:^|\n)import\s[^"']*["'](\.[^"']+)["']/g)) {
      queue.push(new URL(m[1]!, `http://x${url}`).pathname);
    }
  }
  expect(seen.has("/dashboard/views/evacuations.js")).toBe(true);
  expect(seen.has("/dashboard/views/diskDrains.js")).toBe(true);
  const css = await request(h.app).get("/dashboard/vendor/uPlot.min.css");
  expect(css.status).toBe(200);
  expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
});

test("config.json tells how to sign in; unknown files and other paths are 404s", async () => {
  const config = await request(h.app).get("/dashboard/config.json");
  expect(config.status).toBe(200);
  expect(config.body).toEqual({ auth_strategy: "noauth" });
  for (const path of [
    "/dashboard/nope.js",
    "/dashboard/vendor/nope.mjs",
    "/dashboard/../package.json",
    "/dashboard/%2e%2e/package.json",
  ]) {
    const res = await request(h.app).get(path);
    expect({ path, status: res.status }).toEqual({ path, status: 404 });
  }
});

test("under keystone, config.json names the identity endpoint and the CSP lets the page reach it", async () => {
  const k = await startHarness(
    [
      "auth_strategy = keystone",
      "[keystone_authtoken]",
      "auth_url = http://keystone.example:5000/v3",
      "www_authenticate_uri = https://id.example/identity/v3",
      "username = cinder",
      "password = secret",
      "project_name = service",
    ].join("\n"),
  );
  try {
    const config = await request(k.app).get("/dashboard/config.json");
    expect(config.body).toEqual({
      auth_strategy: "keystone",
      keystone_url: "https://id.example/identity/v3",
    });
    const page = await request(k.app).get("/dashboard/");
    expect(page.headers["content-security-policy"]).toContain("connect-src 'self' https://id.example");
  } finally {
    await k.close();
  }
});
