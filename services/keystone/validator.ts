/**
 * What keystonemiddleware's auth_token does for Cinder: validate a request's X-Auth-Token with
 * `GET <auth_url>/v3/auth/tokens` (X-Subject-Token: the token, X-Auth-Token: our service token),
 * remember the answer until the token expires (bounded, and at most token_cache_time), and map
 * Keystone's answers: 404 → the token is invalid (401 to the client); 401 → our service token went
 * stale (log in again, retry once); anything else, or no answer → 503.
 */
import axios, { type AxiosInstance, type AxiosResponse } from "axios";

import type { KeystoneAuthtokenConfig } from "../../common/config";
import { IdentityUnavailable, NotAuthenticated } from "../../common/errors";
import { TokenCache } from "./tokenCache";
import type { ValidatedToken } from "./types";

/** Distinct tokens remembered at once. */
const MAX_CACHED_TOKENS = 5_000;
/** Renew the service token this long before Keystone would expire it. */
const RENEW_MARGIN_MS = 60_000;

export interface TokenValidatorOptions {
  config: KeystoneAuthtokenConfig;
  /** Injectable for tests; by default an axios instance with the configured timeout. */
  http?: AxiosInstance;
  clock?: () => number;
}

interface ServiceToken {
  id: string;
  expiresAtMs: number;
}

/** `<auth_url>/v3` whether auth_url was given with or without the version. */
export function identityV3Url(authUrl: string): string {
  const trimmed = authUrl.replace(/\/+$/, "");
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`;
}

function unavailable(reason: string, cause?: unknown): IdentityUnavailable {
  return new IdentityUnavailable({ cause: new Error(reason, { cause }) });
}

/** Keystone's token body → what the API needs; a token without a project cannot call Cinder. */
export function readTokenBody(data: unknown): ValidatedToken | undefined {
  const t = (data as { token?: Record<string, unknown> } | null)?.token;
  const user = t?.["user"] as { id?: unknown } | undefined;
  const project = t?.["project"] as { id?: unknown } | undefined;
  const roles = Array.isArray(t?.["roles"]) ? (t["roles"] as { name?: unknown }[]) : [];
  const expiresAt = new Date(String(t?.["expires_at"]));
  if (typeof user?.id !== "string" || typeof project?.id !== "string" || Number.isNaN(expiresAt.getTime())) {
    return undefined;
  }
  const names = roles.map((r) => r.name).filter((n): n is string => typeof n === "string");
  return { userId: user.id, projectId: project.id, roles: names, expiresAt };
}

export class KeystoneTokenValidator {
  private readonly config: KeystoneAuthtokenConfig;
  private readonly http: AxiosInstance;
  private readonly clock: () => number;
  private readonly cache: TokenCache<ValidatedToken>;
  private readonly tokensUrl: string;
  private serviceToken: ServiceToken | null = null;
  /** One login at a time: concurrent requests share it instead of each logging in. */
  private login: Promise<ServiceToken> | null = null;

  constructor(opts: TokenValidatorOptions) {
    this.config = opts.config;
    this.clock = opts.clock ?? Date.now;
    this.http = opts.http ?? axios.create({ timeout: opts.config.httpConnectTimeout * 1000 });
    this.cache = new TokenCache({ maxEntries: MAX_CACHED_TOKENS, clock: this.clock });
    this.tokensUrl = `${identityV3Url(opts.config.authUrl)}/auth/tokens`;
  }

  /** @throws NotAuthenticated for an invalid or expired token, IdentityUnavailable when Keystone cannot say. */
  async validate(token: string): Promise<ValidatedToken> {
    const cached = this.cache.get(token);
    if (cached) {
      return cached;
    }
    let res = await this.ask(token, await this.getServiceToken(false));
    if (res.status === 401) {
      res = await this.ask(token, await this.getServiceToken(true));
    }
    if (res.status === 404) {
      throw new NotAuthenticated();
    }
    if (res.status !== 200) {
      throw unavailable(`Keystone answered ${res.status} to the validation of a token`);
    }
    const validated = readTokenBody(res.data);
    if (!validated) {
      // Unscoped or malformed: Cinder needs a project, so the token cannot be used here.
      throw new NotAuthenticated();
    }
    const now = this.clock();
    if (validated.expiresAt.getTime() <= now) {
      throw new NotAuthenticated();
    }
    this.cache.set(
      token,
      validated,
      Math.min(validated.expiresAt.getTime(), now + this.config.tokenCacheTime * 1000),
    );
    return validated;
  }

  private async ask(token: string, service: ServiceToken): Promise<AxiosResponse> {
    try {
      return await this.http.get(this.tokensUrl, {
        params: { nocatalog: "" },
        headers: { "X-Auth-Token": service.id, "X-Subject-Token": token },
        validateStatus: () => true,
      });
    } catch (err) {
      throw unavailable(`Keystone at ${this.tokensUrl} did not answer: ${(err as Error).message}`, err);
    }
  }

  private async getServiceToken(renew: boolean): Promise<ServiceToken> {
    const current = this.serviceToken;
    if (!renew && current && current.expiresAtMs - RENEW_MARGIN_MS > this.clock()) {
      return current;
    }
    this.serviceToken = null;
    this.login ??= this.passwordLogin().finally(() => {
      this.login = null;
    });
    return this.login;
  }

  private async passwordLogin(): Promise<ServiceToken> {
    const c = this.config;
    const body = {
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: c.username, domain: { name: c.userDomainName }, password: c.password } },
        },
        scope: { project: { name: c.projectName, domain: { name: c.projectDomainName } } },
      },
    };
    let res: AxiosResponse;
    try {
      res = await this.http.post(this.tokensUrl, body, { validateStatus: () => true });
    } catch (err) {
      throw unavailable(`Keystone at ${this.tokensUrl} did not answer: ${(err as Error).message}`, err);
    }
    const id: unknown = res.headers["x-subject-token"];
    const expiresAt = new Date(String((res.data as { token?: { expires_at?: unknown } })?.token?.expires_at));
    if (res.status !== 201 || typeof id !== "string" || Number.isNaN(expiresAt.getTime())) {
      // Wrong [keystone_authtoken] credentials are an operator problem: clients get a 503.
      throw unavailable(
        `[keystone_authtoken] login of ${c.username} refused by Keystone (HTTP ${res.status})`,
      );
    }
    this.serviceToken = { id, expiresAtMs: expiresAt.getTime() };
    return this.serviceToken;
  }
}
