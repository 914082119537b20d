/**
 * The built-in minimal Keystone v3 over HTTP, mounted by the API (`/identity`) when
 * `[keystone] enabled = true`: version discovery, and `/v3/auth/tokens` (POST issue, GET/HEAD
 * validate, DELETE revoke), and domains and projects (resources.ts: what tempest needs to make a
 * throwaway project). Errors use Keystone's body `{"error": {"code", "title", "message"}}`,
 * not Cinder's faults: keystoneauth and tempest read `error.message`.
 */
import express, { type NextFunction, type Request, type Response, Router } from "express";

import type { AppConfig } from "../../common/config";
import { NotFound, ServiceError, ValidationError } from "../../common/errors";
import type { Logger } from "../../common/logger";
import { domainBody, projectBody, tokenBody, type Urls, v3VersionEntry } from "./documents";
import { BuiltinKeystone } from "./identity";
import { KeystoneResources } from "./resources";
import { loadUsersFile } from "./users";

export interface KeystoneRouterDeps {
  config: AppConfig;
  logger: Logger;
  clock?: () => number;
}

const TITLES: Readonly<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
};

function urlsOf(req: Request): Urls {
  return { base: `${req.protocol}://${req.get("host") ?? "localhost"}`, mount: req.baseUrl };
}

function jsonBody(req: Request, expected = "auth"): unknown {
  const raw: unknown = req.body;
  if (!Buffer.isBuffer(raw) || raw.length === 0) {
    throw new ValidationError(`Expecting to find ${expected} in request body.`);
  }
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw new ValidationError("Malformed request body: not JSON.", { cause: err });
  }
}

function keystoneErrors(logger: Logger) {
  // Express recognises error middleware by its four parameters.
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const safe = err instanceof ServiceError && err.safe;
    const status = safe ? err.httpStatus : 500;
    const message = safe
      ? err.message
      : "An unexpected error prevented the server from fulfilling your request.";
    if (status >= 500) {
      logger.error({ err, url: req.originalUrl }, "identity request failed");
    } else {
      // Failed logins at info level: enough to spot guessing without logging what was sent.
      logger.info(
        { method: req.method, url: req.originalUrl, status, reason: message },
        "identity request refused",
      );
    }
    if (status === 401) {
      // Keystone names itself to clients that must authenticate.
      const u = urlsOf(req);
      res.setHeader("WWW-Authenticate", `Keystone uri="${u.base}${u.mount}"`);
    }
    res
      .status(status)
      .json({ error: { code: status, title: TITLES[status] ?? "Internal Server Error", message } });
  };
}

export function keystoneRouter(deps: KeystoneRouterDeps): Router {
  const r = Router();
  const cfg = deps.config.keystone;
  if (!cfg.enabled || cfg.usersFile === null) {
    return r;
  }
  const users = loadUsersFile(cfg.usersFile);
  const keystone = new BuiltinKeystone({ users, tokenExpiration: cfg.tokenExpiration, clock: deps.clock });
  const resources = new KeystoneResources(users);
  // The API reads bodies as raw bytes already; this covers the router mounted on its own.
  r.use(express.raw({ type: () => true, limit: "64kb" }));

  r.get("/", (req, res) => {
    // 300 Multiple Choices at the unversioned root, as Keystone: keystoneauth then picks v3.
    res.status(300).json({ versions: { values: [v3VersionEntry(urlsOf(req))] } });
  });
  r.get(["/v3", "/v3/"], (req, res) => {
    res.status(200).json({ version: v3VersionEntry(urlsOf(req)) });
  });

  r.post("/v3/auth/tokens", async (req, res) => {
    const { token, record } = await keystone.issue(jsonBody(req));
    deps.logger.info({ user: record.user.name, auditId: record.auditId }, "identity token issued");
    res.setHeader("X-Subject-Token", token);
    res.status(201).json(tokenBody(record, { urls: urlsOf(req), region: cfg.region, withCatalog: true }));
  });
  r.get("/v3/auth/tokens", (req, res) => {
    const caller = keystone.authenticate(req.get("x-auth-token"));
    const subject = req.get("x-subject-token");
    const record = keystone.validate(caller, subject);
    res.setHeader("X-Subject-Token", subject!);
    const withCatalog = req.query["nocatalog"] === undefined;
    res.status(200).json(tokenBody(record, { urls: urlsOf(req), region: cfg.region, withCatalog }));
  });
  r.delete("/v3/auth/tokens", (req, res) => {
    keystone.revoke(keystone.authenticate(req.get("x-auth-token")), req.get("x-subject-token"));
    res.status(204).end();
  });

  resourceRoutes(r, keystone, resources);

  r.use((_req: Request, _res: Response, next: NextFunction) => {
    next(new NotFound("The resource could not be found."));
  });
  r.use(keystoneErrors(deps.logger));
  return r;
}

/** Domains and projects: the caller's token first (401), then the policy (403), then the lookup. */
function resourceRoutes(r: Router, keystone: BuiltinKeystone, resources: KeystoneResources): void {
  const caller = (req: Request) => keystone.authenticate(req.get("x-auth-token"));
  const queryString = (req: Request, key: string): string | undefined => {
    const v = req.query[key];
    return typeof v === "string" ? v : undefined;
  };
  r.get("/v3/domains", (req, res) => {
    const filters = { name: queryString(req, "name"), enabled: queryString(req, "enabled") };
    const urls = urlsOf(req);
    const domains = resources.listDomains(caller(req), filters);
    res.status(200).json({
      domains: domains.map((d) => domainBody(d, urls)),
      links: { self: `${urls.base}${req.originalUrl}`, previous: null, next: null },
    });
  });
  r.get("/v3/domains/:id", (req, res) => {
    const domain = resources.showDomain(caller(req), req.params["id"]!);
    res.status(200).json({ domain: domainBody(domain, urlsOf(req)) });
  });
  r.post("/v3/projects", (req, res) => {
    const project = resources.createProject(caller(req), () => jsonBody(req, "project"));
    res.status(201).json({ project: projectBody(project, urlsOf(req)) });
  });
  r.get("/v3/projects/:id", (req, res) => {
    const project = resources.showProject(caller(req), req.params["id"]!);
    res.status(200).json({ project: projectBody(project, urlsOf(req)) });
  });
  r.delete("/v3/projects/:id", (req, res) => {
    resources.deleteProject(caller(req), req.params["id"]!);
    res.status(204).end();
  });
}
