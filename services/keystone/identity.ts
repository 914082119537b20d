/**
 * The built-in Keystone's logic, without HTTP: password and token authentication
 * (`POST /v3/auth/tokens` bodies), token lookup and revocation. Tokens are random and kept in
 * memory: no schema change, nothing to clean up, and a restart only costs clients a new login
 * (keystoneauth re-authenticates once on a 401). Several API replicas do not share tokens, so a
 * distributed deployment points every replica's [keystone_authtoken] auth_url at one Keystone.
 */
import { randomBytes } from "node:crypto";

import { NotAuthenticated, NotFound, PolicyNotAuthorized, ValidationError } from "../../common/errors";
import { verifyPassword } from "./passwords";
import { TokenCache } from "./tokenCache";
import { DEFAULT_DOMAIN, type KeystoneProject, type KeystoneUser, type TokenRecord } from "./types";
import type { UserDirectory } from "./users";

/** Tokens alive at once; beyond it the least recently used is dropped (its holder logs in again). */
const MAX_TOKENS = 10_000;

/** Roles allowed to validate other users' tokens (Keystone's identity:validate_token). */
const VALIDATOR_ROLES = ["admin", "service"];

/** Verified against when the user is unknown, so a wrong name costs as long as a wrong password. */
const DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$" + "A".repeat(86);

export interface BuiltinKeystoneOptions {
  users: UserDirectory;
  /** Token lifetime in seconds. */
  tokenExpiration: number;
  clock?: () => number;
}

type Json = Record<string, unknown>;

function obj(v: unknown, path: string): Json {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new ValidationError(`Invalid input for field '${path}': must be an object.`);
  }
  return v as Json;
}

function optObj(v: unknown, path: string): Json | undefined {
  return v === undefined ? undefined : obj(v, path);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** Only the default domain exists; a name or id naming another one matches nothing. */
function isDefaultDomain(domain: Json | undefined): boolean {
  if (!domain) {
    return true;
  }
  return str(domain["id"]) === DEFAULT_DOMAIN.id || str(domain["name"]) === DEFAULT_DOMAIN.name;
}

export class BuiltinKeystone {
  private readonly users: UserDirectory;
  private readonly ttlMs: number;
  private readonly clock: () => number;
  private readonly tokens: TokenCache<TokenRecord>;

  constructor(opts: BuiltinKeystoneOptions) {
    this.users = opts.users;
    this.ttlMs = opts.tokenExpiration * 1000;
    this.clock = opts.clock ?? Date.now;
    this.tokens = new TokenCache({ maxEntries: MAX_TOKENS, clock: this.clock });
  }

  /** `POST /v3/auth/tokens`: returns the new token and its record. */
  async issue(body: unknown): Promise<{ token: string; record: TokenRecord }> {
    const auth = obj(obj(body, "body")["auth"], "auth");
    const identity = obj(auth["identity"], "identity");
    const methods = identity["methods"];
    if (!Array.isArray(methods) || methods.length === 0) {
      throw new ValidationError("Invalid input for field 'identity/methods': must be a non-empty array.");
    }
    let user: KeystoneUser;
    let expiresAtMs: number | undefined;
    if (methods.includes("password")) {
      user = await this.passwordUser(obj(identity["password"], "identity/password"));
    } else if (methods.includes("token")) {
      const previous = this.valid(str(obj(identity["token"], "identity/token")["id"]));
      user = previous.user;
      // A re-scoped token never outlives the one it came from, as in Keystone.
      expiresAtMs = previous.expiresAt.getTime();
    } else {
      throw new NotAuthenticated();
    }
    const project = this.scope(user, optObj(auth["scope"], "scope"));
    const issuedAtMs = this.clock();
    expiresAtMs ??= issuedAtMs + this.ttlMs;
    const record: TokenRecord = {
      user,
      project,
      methods: methods.filter((m): m is string => m === "password" || m === "token"),
      issuedAt: new Date(issuedAtMs),
      expiresAt: new Date(expiresAtMs),
      auditId: randomBytes(16).toString("base64url"),
    };
    const token = randomBytes(32).toString("base64url");
    this.tokens.set(token, record, expiresAtMs);
    return { token, record };
  }

  /** The caller's own token (X-Auth-Token): 401 when missing, unknown or expired. */
  authenticate(token: string | undefined): TokenRecord {
    return this.valid(token);
  }

  /**
   * `GET /v3/auth/tokens`: the subject token's record. Validating someone else's token needs the
   * admin or service role (keystonemiddleware's service user); an unknown subject is a 404.
   */
  validate(caller: TokenRecord, subject: string | undefined): TokenRecord {
    const record = subject ? this.tokens.get(subject) : undefined;
    const privileged = caller.user.roles.some((r) => VALIDATOR_ROLES.includes(r.name));
    if (record && !privileged && record.user.id !== caller.user.id) {
      throw new PolicyNotAuthorized("identity:validate_token");
    }
    if (!record) {
      throw new NotFound("Failed to validate token");
    }
    return record;
  }

  /** `DELETE /v3/auth/tokens`: same rules as validation, then the token is gone. */
  revoke(caller: TokenRecord, subject: string | undefined): void {
    this.validate(caller, subject);
    this.tokens.delete(subject!);
  }

  private valid(token: string | undefined): TokenRecord {
    const record = token ? this.tokens.get(token) : undefined;
    if (!record) {
      throw new NotAuthenticated();
    }
    return record;
  }

  private async passwordUser(password: Json): Promise<KeystoneUser> {
    const u = obj(password["user"], "identity/password/user");
    const secret = str(u["password"]) ?? "";
    const id = str(u["id"]);
    const name = str(u["name"]);
    const domainOk = id !== undefined || isDefaultDomain(optObj(u["domain"], "user/domain"));
    const user = !domainOk
      ? undefined
      : id !== undefined
        ? this.users.findById(id)
        : name !== undefined
          ? this.users.findByName(name)
          : undefined;
    const ok = await verifyPassword(secret, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) {
      throw new NotAuthenticated();
    }
    return user;
  }

  /** Project scope must be the user's project; no scope gives an unscoped token. */
  private scope(user: KeystoneUser, scope: Json | undefined): KeystoneProject | null {
    if (!scope) {
      return null;
    }
    const p = optObj(scope["project"], "scope/project");
    if (!p) {
      // Domain and system scopes need role assignments this Keystone does not have.
      throw new NotAuthenticated();
    }
    const matches =
      str(p["id"]) !== undefined
        ? str(p["id"]) === user.project.id
        : str(p["name"]) === user.project.name && isDefaultDomain(optObj(p["domain"], "project/domain"));
    if (!matches) {
      throw new NotAuthenticated();
    }
    return user.project;
  }
}
