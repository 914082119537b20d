// The API client: every call carries the token in X-Auth-Token and the microversion the Cinder
// clients send; a fault body ({"badRequest": {"message": …}}) becomes an ApiError with its message.

/** The microversion of every call (python-cinderclient's newest). */
export const API_VERSION = "volume 3.71";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function faultMessage(body) {
  if (body && typeof body === "object") {
    const fault = Object.values(body)[0];
    if (fault && typeof fault === "object" && typeof fault.message === "string") {
      return fault.message;
    }
  }
  return null;
}

/**
 * `session` is what sign-in stored: the token and, when known, the project id (URLs then read
 * /v3/{project_id}/…, else /v3/…, which the API accepts as well).
 */
export function createApi(session, { onUnauthorized } = {}) {
  const base = session.project ? `/v3/${encodeURIComponent(session.project)}` : "/v3";
  const headers = () => ({
    "X-Auth-Token": session.token,
    "OpenStack-API-Version": API_VERSION,
  });

  async function call(method, path, body) {
    const res = await fetch(base + path, {
      method,
      cache: "no-store",
      headers: {
        ...headers(),
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let data;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      if (res.status === 401 && onUnauthorized) {
        onUnauthorized();
      }
      throw new ApiError(res.status, faultMessage(data) ?? `${res.status} ${res.statusText}`);
    }
    return data;
  }

  return {
    base,
    headers,
    eventsUrl: `${base}/events`,
    get: (path) => call("GET", path),
    post: (path, body = {}) => call("POST", path, body),
    put: (path, body = {}) => call("PUT", path, body),
    del: (path) => call("DELETE", path),
    /** POST …/action with one action, as Cinder's volume, migration and evacuation actions. */
    action: (path, name, args = {}) => call("POST", `${path}/action`, { [name]: args }),
  };
}
