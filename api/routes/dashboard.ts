/**
 * The operators' dashboard at /dashboard/ (beyond Cinder), served by the API process with no build
 * step: the ES modules of api/dashboard/ as they are, and the few browser libraries they import
 * (preact, its hooks, htm, uPlot) straight from node_modules under /dashboard/vendor/, mapped by
 * the page's import map. Nothing is fetched from elsewhere at run time.
 *
 * No authentication here: these are static files, and `config.json` only says how to sign in
 * (`auth_strategy` and, under keystone, the identity endpoint). The page then calls /v3 with the
 * token it obtained, as any client does.
 *
 * The page runs under a Content-Security-Policy that allows scripts from this origin only, plus
 * the inline import map by its hash, and connections to this origin and the identity endpoint.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { type Request, type Response, Router } from "express";

import type { AppConfig } from "../../common/config";
import { NotFound } from "../../common/errors";

/** Browser builds the import map names, each from its package's own files. */
const VENDOR: Readonly<Record<string, { pkg: string; file: string }>> = {
  "preact.mjs": { pkg: "preact", file: "dist/preact.mjs" },
  "preact.mjs.map": { pkg: "preact", file: "dist/preact.mjs.map" },
  "hooks.mjs": { pkg: "preact", file: "hooks/dist/hooks.mjs" },
  "hooks.mjs.map": { pkg: "preact", file: "hooks/dist/hooks.mjs.map" },
  "htm.mjs": { pkg: "htm", file: "dist/htm.mjs" },
  "htm-preact.mjs": { pkg: "htm", file: "preact/index.mjs" },
  "uPlot.esm.js": { pkg: "uplot", file: "dist/uPlot.esm.js" },
  "uPlot.min.css": { pkg: "uplot", file: "dist/uPlot.min.css" },
};

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** The page's own files: beside this module's folder in the source tree (and from dist/, there). */
function dashboardDir(): string {
  const candidates = [
    path.resolve(__dirname, "../dashboard"),
    path.resolve(__dirname, "../../../api/dashboard"),
  ];
  const found = candidates.find((d) => fs.existsSync(path.join(d, "index.html")));
  if (!found) {
    throw new Error(`dashboard files not found in ${candidates.join(" or ")}`);
  }
  return found;
}

/** A package's folder, found the way `require` would look for it (its exports may hide package.json). */
function packageDir(name: string): string | undefined {
  return (require.resolve.paths(name) ?? [])
    .map((dir) => path.join(dir, name))
    .find((dir) => fs.existsSync(path.join(dir, "package.json")));
}

/** Every file of the page, by its URL path below /dashboard (no dot files, no folders). */
function listFiles(dir: string, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith(".")) {
      continue;
    }
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      for (const [k, v] of listFiles(full, `${prefix}/${e.name}`)) {
        out.set(k, v);
      }
    } else if (e.isFile() && TYPES[path.extname(e.name)]) {
      out.set(`${prefix}/${e.name}`, full);
    }
  }
  return out;
}

/** The sha256 source of each inline script (the import map), for the CSP. */
function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)]
    .map((m) => m[1]!)
    .filter((body) => body.trim() !== "")
    .map((body) => `'sha256-${createHash("sha256").update(body).digest("base64")}'`);
}

/** Where the page may sign in: the identity endpoint of `auth_strategy = keystone`. */
function keystoneUrl(config: AppConfig): string | undefined {
  return config.authStrategy === "keystone" ? config.keystoneAuthtoken?.wwwAuthenticateUri : undefined;
}

function securityHeaders(res: Response): void {
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("X-Frame-Options", "DENY");
  // No ETags app-wide; these files are small and must not outlive an upgrade.
  res.setHeader("Cache-Control", "no-cache");
}

export function dashboardRouter(deps: { config: AppConfig }): Router {
  const r = Router();
  const dir = dashboardDir();
  const files = listFiles(dir);
  const identity = keystoneUrl(deps.config);
  const connectSrc = ["'self'", ...(identity ? [new URL(identity).origin] : [])].join(" ");

  const send = (res: Response, file: string, body?: string | Buffer): void => {
    securityHeaders(res);
    res.setHeader("Content-Type", TYPES[path.extname(file)] ?? "application/octet-stream");
    res.status(200).send(body ?? fs.readFileSync(file));
  };

  const index = (req: Request, res: Response): void => {
    // Relative URLs (modules, the import map) need the trailing slash.
    if (!req.originalUrl.split("?")[0]!.endsWith("/")) {
      res.redirect(308, `${req.baseUrl}/`);
      return;
    }
    const file = path.join(dir, "index.html");
    const html = fs.readFileSync(file, "utf8");
    res.setHeader(
      "Content-Security-Policy",
      [
        "default-src 'none'",
        `script-src 'self' ${inlineScriptHashes(html).join(" ")}`,
        "style-src 'self'",
        "img-src 'self' data:",
        `connect-src ${connectSrc}`,
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join("; "),
    );
    send(res, file, html);
  };

  r.get("/", index);
  r.get("/index.html", (req: Request, res: Response) => res.redirect(308, `${req.baseUrl}/`));

  r.get("/config.json", (_req: Request, res: Response) => {
    securityHeaders(res);
    res.json({ auth_strategy: deps.config.authStrategy, ...(identity ? { keystone_url: identity } : {}) });
  });

  r.get("/vendor/:file", (req: Request, res: Response) => {
    const name = String(req.params["file"]);
    const v = Object.hasOwn(VENDOR, name) ? VENDOR[name] : undefined;
    const root = v && packageDir(v.pkg);
    const file = root && path.join(root, v.file);
    if (!file || !fs.existsSync(file)) {
      throw new NotFound(`No such dashboard file: vendor/${name}`);
    }
    send(res, file);
  });

  r.get("/*path", (req: Request, res: Response) => {
    const file = files.get(req.path);
    if (!file) {
      throw new NotFound(`No such dashboard file: ${req.path}`);
    }
    send(res, file);
  });

  return r;
}
