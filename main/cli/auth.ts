/**
 * How `vms` finds and authenticates to the volume API, from the same environment as
 * python-cinderclient (`OS_*`), each overridden by its `--os-*` flag:
 *
 * - `noauth` (`none`): the endpoint is `OS_ENDPOINT` (or `OS_VOLUME_API_ENDPOINT`) and the token
 *   is `<OS_USER_ID>:<OS_PROJECT_ID>`, as cinderclient and openstackclient send it.
 * - `password`: Keystone v3 password auth at `OS_AUTH_URL` (`POST …/v3/auth/tokens`); the token is
 *   the answer's `X-Subject-Token`, the endpoint the catalog's `volumev3` (or `block-storage`)
 *   entry unless `OS_ENDPOINT` is given.
 */
import axios from "axios";

import { CliError } from "./errors";

/** The `--os-*` flags, as commander names them. */
export interface OsFlags {
  osAuthType?: string;
  osEndpoint?: string;
  osUserId?: string;
  osProjectId?: string;
  osAuthUrl?: string;
  osUsername?: string;
  osPassword?: string;
  osProjectName?: string;
  osUserDomainName?: string;
  osProjectDomainName?: string;
  osRegionName?: string;
  osInterface?: string;
}

/** Flag, environment variable(s) and help of each option, for the commander definitions. */
export const OS_OPTIONS: readonly { flag: string; env: string[]; help: string }[] = [
  { flag: "--os-auth-type <type>", env: ["OS_AUTH_TYPE"], help: "noauth (none) or password" },
  {
    flag: "--os-endpoint <url>",
    env: ["OS_ENDPOINT", "OS_VOLUME_API_ENDPOINT"],
    help: "volume API endpoint, e.g. http://127.0.0.1:8776/v3",
  },
  { flag: "--os-user-id <id>", env: ["OS_USER_ID"], help: "user id (noauth)" },
  { flag: "--os-project-id <id>", env: ["OS_PROJECT_ID"], help: "project id" },
  { flag: "--os-auth-url <url>", env: ["OS_AUTH_URL"], help: "Keystone URL (password)" },
  { flag: "--os-username <name>", env: ["OS_USERNAME"], help: "user name (password)" },
  { flag: "--os-password <password>", env: ["OS_PASSWORD"], help: "password (password)" },
  { flag: "--os-project-name <name>", env: ["OS_PROJECT_NAME", "OS_TENANT_NAME"], help: "project name" },
  { flag: "--os-user-domain-name <name>", env: ["OS_USER_DOMAIN_NAME"], help: "user domain (Default)" },
  {
    flag: "--os-project-domain-name <name>",
    env: ["OS_PROJECT_DOMAIN_NAME"],
    help: "project domain (Default)",
  },
  { flag: "--os-region-name <name>", env: ["OS_REGION_NAME"], help: "catalog region" },
  {
    flag: "--os-interface <name>",
    env: ["OS_INTERFACE", "OS_ENDPOINT_TYPE"],
    help: "catalog interface (public)",
  },
];

export interface Session {
  /** Resource URLs are `${base}/${path}`: …/v3/{project_id} when the project is known. */
  base: string;
  token: string;
}

type Env = NodeJS.ProcessEnv;

function pick(flag: string | undefined, env: Env, ...names: string[]): string | undefined {
  if (flag !== undefined && flag !== "") {
    return flag;
  }
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== "") {
      return v;
    }
  }
  return undefined;
}

/** `…/v3` gains `/{project}`; a URL that already names more (a catalog's) is kept. */
function withProject(endpoint: string, project: string | undefined): string {
  const base = endpoint.replace(/\/+$/, "");
  return project && /\/v3$/.test(base) ? `${base}/${encodeURIComponent(project)}` : base;
}

export async function openSession(f: OsFlags, env: Env = process.env): Promise<Session> {
  const authUrl = pick(f.osAuthUrl, env, "OS_AUTH_URL");
  const type = (pick(f.osAuthType, env, "OS_AUTH_TYPE") ?? (authUrl ? "password" : "noauth")).toLowerCase();
  const endpoint = pick(f.osEndpoint, env, "OS_ENDPOINT", "OS_VOLUME_API_ENDPOINT");
  const projectId = pick(f.osProjectId, env, "OS_PROJECT_ID", "OS_TENANT_ID");
  if (type === "noauth" || type === "none") {
    if (!endpoint) {
      throw new CliError("noauth needs the endpoint: set OS_ENDPOINT or --os-endpoint");
    }
    const userId = pick(f.osUserId, env, "OS_USER_ID");
    if (type === "noauth" && (!userId || !projectId)) {
      throw new CliError("noauth needs OS_USER_ID and OS_PROJECT_ID (or --os-user-id, --os-project-id)");
    }
    // openstackclient's `none` sends "notused" when it has no user and project.
    const token = userId && projectId ? `${userId}:${projectId}` : "notused";
    return { base: withProject(endpoint, projectId), token };
  }
  if (type === "password" || type === "v3password") {
    return passwordSession(f, env, authUrl, endpoint);
  }
  throw new CliError(`unknown auth type "${type}": use noauth, none or password`);
}

interface CatalogEntry {
  type: string;
  endpoints: { interface: string; region?: string | null; region_id?: string | null; url: string }[];
}

async function passwordSession(
  f: OsFlags,
  env: Env,
  authUrl: string | undefined,
  endpoint: string | undefined,
): Promise<Session> {
  const username = pick(f.osUsername, env, "OS_USERNAME");
  const userId = pick(f.osUserId, env, "OS_USER_ID");
  const password = pick(f.osPassword, env, "OS_PASSWORD");
  const projectName = pick(f.osProjectName, env, "OS_PROJECT_NAME", "OS_TENANT_NAME");
  const projectId = pick(f.osProjectId, env, "OS_PROJECT_ID", "OS_TENANT_ID");
  if (!authUrl || (!username && !userId) || password === undefined || (!projectName && !projectId)) {
    throw new CliError(
      "password auth needs OS_AUTH_URL, OS_USERNAME, OS_PASSWORD and OS_PROJECT_NAME (or the --os-* flags)",
    );
  }
  const userDomain = pick(f.osUserDomainName, env, "OS_USER_DOMAIN_NAME") ?? "Default";
  const projectDomain = pick(f.osProjectDomainName, env, "OS_PROJECT_DOMAIN_NAME") ?? "Default";
  const user = userId ? { id: userId, password } : { name: username, domain: { name: userDomain }, password };
  const project = projectId ? { id: projectId } : { name: projectName, domain: { name: projectDomain } };
  const root = authUrl.replace(/\/+$/, "");
  const url = `${/\/v3$/.test(root) ? root : `${root}/v3`}/auth/tokens`;
  const res = await axios
    .post(
      url,
      { auth: { identity: { methods: ["password"], password: { user } }, scope: { project } } },
      {
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        validateStatus: () => true,
      },
    )
    .catch((err: unknown) => {
      throw new CliError(`cannot reach Keystone at ${url}: ${(err as Error).message}`);
    });
  if (res.status !== 201 && res.status !== 200) {
    const detail = (res.data as { error?: { message?: string } } | undefined)?.error?.message;
    throw new CliError(
      `Keystone refused the password login: ${detail ?? `HTTP ${res.status}`} (HTTP ${res.status})`,
    );
  }
  const token = res.headers["x-subject-token"] as string | undefined;
  const body = res.data as { token?: { project?: { id?: string }; catalog?: CatalogEntry[] } };
  if (!token) {
    throw new CliError("Keystone answered without an X-Subject-Token");
  }
  const scopedProject = body.token?.project?.id ?? projectId;
  if (endpoint) {
    return { base: withProject(endpoint, scopedProject), token };
  }
  const found = fromCatalog(
    body.token?.catalog ?? [],
    (pick(f.osInterface, env, "OS_INTERFACE", "OS_ENDPOINT_TYPE") ?? "public").replace(/URL$/, ""),
    pick(f.osRegionName, env, "OS_REGION_NAME"),
  );
  if (!found) {
    throw new CliError("the Keystone catalog has no volumev3 or block-storage endpoint; set OS_ENDPOINT");
  }
  return { base: withProject(found, scopedProject), token };
}

function fromCatalog(catalog: CatalogEntry[], iface: string, region: string | undefined): string | undefined {
  for (const type of ["volumev3", "block-storage"]) {
    for (const entry of catalog.filter((e) => e.type === type)) {
      const ep = entry.endpoints.find(
        (e) => e.interface === iface && (!region || e.region_id === region || e.region === region),
      );
      if (ep) {
        return ep.url;
      }
    }
  }
  return undefined;
}
