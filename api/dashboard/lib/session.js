// Sign-in and the tab's session. The token lives in sessionStorage (this tab only, gone when it
// closes) and is never written into a URL; a password is never stored.
import { API_VERSION, ApiError } from "./api.js";

const KEY = "vms-dashboard-session";

export function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? "null");
    return s && typeof s.token === "string" ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}

/** A Keystone v3 password token scoped to a project (the token is in X-Subject-Token). */
export async function keystoneToken(keystoneUrl, f) {
  const root = keystoneUrl.replace(/\/+$/, "");
  const url = /\/v3$/.test(root) ? `${root}/auth/tokens` : `${root}/v3/auth/tokens`;
  const res = await fetch(url, {
    method: "POST",
    cache: "no-store",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: f.username, domain: { name: f.userDomain }, password: f.password } },
        },
        scope: { project: { name: f.project, domain: { name: f.projectDomain } } },
      },
    }),
  });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    throw new ApiError(res.status, body?.error?.message ?? `The identity service answered ${res.status}.`);
  }
  const token = res.headers.get("X-Subject-Token");
  if (!token) {
    throw new Error("The identity service sent no X-Subject-Token (is it exposed to this page?).");
  }
  return {
    token,
    project: body?.token?.project?.id ?? null,
    projectName: body?.token?.project?.name ?? f.project,
    user: body?.token?.user?.name ?? f.username,
    expiresAt: body?.token?.expires_at ?? null,
  };
}

/**
 * Whether the token is an admin's: os-services is admin-only, so 200 is an admin, 403 a member;
 * 401 means the API refused the token.
 */
export async function probeAdmin(project, token) {
  const base = project ? `/v3/${encodeURIComponent(project)}` : "/v3";
  const res = await fetch(`${base}/os-services`, {
    cache: "no-store",
    headers: { "X-Auth-Token": token, "OpenStack-API-Version": API_VERSION, Accept: "application/json" },
  });
  if (res.status === 401) {
    throw new ApiError(401, "The API refused these credentials.");
  }
  if (res.ok) {
    return true;
  }
  if (res.status === 403) {
    return false;
  }
  throw new ApiError(res.status, `The API answered ${res.status} to os-services.`);
}
