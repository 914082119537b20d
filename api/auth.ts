/**
 * Authentication: turns the X-Auth-Token header into a Caller.
 *
 * - `noauth` (cinderclient `--os-auth-type noauth`): the token is `<user>:<project>` (a token
 *   without a colon is both, as Cinder's NoAuthMiddleware reads it). Real Cinder's noauth makes
 *   everyone admin; we only make `noauth_admin_users` admins so members can be expressed.
 *   openstackclient's `--os-auth-type none` sends the literal token `notused`: an admin acting in
 *   the URL's project (or `admin` when the URL has none).
 * - `static`: the token must be listed in [static_tokens].
 */
import type { NextFunction, Request, Response } from "express";

import type { AppConfig } from "../services/common/config";
import { NotAuthenticated } from "../services/common/errors";
import type { Caller } from "../services/volume/api/caller";
import { setCaller, urlProjectOf } from "./context";

export const OSC_NOAUTH_TOKEN = "notused";

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

export function authMiddleware(config: AppConfig) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    setCaller(req, authenticate(config, req.get("x-auth-token"), urlProjectOf(req)));
    next();
  };
}
