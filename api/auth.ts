/**
 * Authentication: turns the X-Auth-Token header into a Caller.
 *
 * - `noauth` (cinderclient `--os-auth-type noauth`): the token is `<user>:<project>` (a token
 *   without a colon is both, as Cinder's NoAuthMiddleware reads it). Real Cinder's noauth makes
 *   everyone admin; we only make `noauth_admin_users` admins so members can be expressed.
 *   openstackclient's `--os-auth-type none` sends the literal token `notused`: an admin acting in
 *   the URL's project (or `admin` when the URL has none).
 * - `static`: the token must be listed in [static_tokens].
 * - `keystone`: the token is validated by Keystone ([keystone_authtoken], see
 *   services/keystone/validator.ts); the role `admin` makes an admin. A 401 names Keystone in
 *   `WWW-Authenticate` so clients know where to log in; Keystone not answering is a 503.
 */
import type { NextFunction, Request, Response } from "express";

import type { AppConfig } from "../common/config";
import { NotAuthenticated } from "../common/errors";
import { KeystoneTokenValidator } from "../services/keystone";
import type { Caller } from "../services/volumeApi/caller";
import { setCaller, urlProjectOf } from "./context";

export const OSC_NOAUTH_TOKEN = "notused";

/** The Keystone role that makes a caller an admin (Cinder's default policy `role:admin`). */
export const ADMIN_ROLE = "admin";

export function authenticate(
  config: AppConfig,
  token: string | undefined,
  urlProject: string | null,
): Caller {
  if (!token) {
    throw new NotAuthenticated();
  }
  if (config.authStrategy === "static") {
    const known = config.staticTokens.get(token);
    if (!known) {
      throw new NotAuthenticated();
    }
    return { userId: known.userId, projectId: known.projectId, isAdmin: known.isAdmin };
  }
  if (token === OSC_NOAUTH_TOKEN) {
    return { userId: "admin", projectId: urlProject ?? "admin", isAdmin: true };
  }
  const i = token.indexOf(":");
  const userId = i < 0 ? token : token.slice(0, i);
  const projectId = i < 0 || i === token.length - 1 ? userId : token.slice(i + 1);
  return { userId, projectId, isAdmin: config.noauthAdminUsers.includes(userId) };
}

export interface KeystoneAuthOptions {
  validator: Pick<KeystoneTokenValidator, "validate">;
  wwwAuthenticateUri: string;
}

/** `auth_strategy = keystone`: an async middleware around the token validator. */
export function keystoneAuthMiddleware(opts: KeystoneAuthOptions) {
  const challenge = `Keystone uri="${opts.wwwAuthenticateUri}"`;
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const token = req.get("x-auth-token");
      if (!token) {
        throw new NotAuthenticated();
      }
      const v = await opts.validator.validate(token);
      setCaller(req, { userId: v.userId, projectId: v.projectId, isAdmin: v.roles.includes(ADMIN_ROLE) });
      next();
    } catch (err) {
      if (err instanceof NotAuthenticated) {
        // Set before the fault handler writes the body; it keeps headers already set.
        res.setHeader("WWW-Authenticate", challenge);
      }
      next(err);
    }
  };
}

export function authMiddleware(config: AppConfig) {
  const keystone = config.keystoneAuthtoken;
  if (config.authStrategy === "keystone" && keystone) {
    return keystoneAuthMiddleware({
      validator: new KeystoneTokenValidator({ config: keystone }),
      wwwAuthenticateUri: keystone.wwwAuthenticateUri,
    });
  }
  return (req: Request, _res: Response, next: NextFunction): void => {
    setCaller(req, authenticate(config, req.get("x-auth-token"), urlProjectOf(req)));
    next();
  };
}
