/**
 * Keystone v3's resource API, the slice tempest's identity utilities use to make a throwaway
 * project (tempest/lib/common/cred_client.py V3CredsClient: list domains by name, create a project
 * in that domain, delete it): domain list and show, project create, show and delete.
 *
 * Kept in memory like the rest of the built-in Keystone: the users file's projects are seeded on
 * every start, projects made through the API live until a restart. Nothing in the volume service
 * reads this store (Cinder does not check that a project exists before answering its quotas), so
 * losing it on a restart costs only the ids a test made.
 */
import { randomUUID } from "node:crypto";

import { Conflict, ErrorCodes, NotFound, ServiceError, ValidationError } from "../../common/errors";
import { DEFAULT_DOMAIN, type TokenRecord } from "./types";
import type { UserDirectory } from "./users";

/** Keystone's ForbiddenAction: its own 403 wording, which tempest prints as the reason. */
export class ForbiddenAction extends ServiceError {
  readonly code = ErrorCodes.VMS_ERR_POLICY;
  override readonly httpStatus = 403;
  override readonly safe = true;
  constructor(readonly action: string) {
    super(`You are not authorized to perform the requested action: ${action}.`);
  }
}

export interface DomainRecord {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
}

export interface ProjectRecord {
  id: string;
  name: string;
  domainId: string;
  description: string;
  enabled: boolean;
  /** From the users file: users and their tokens hang on it, so it cannot be deleted. */
  configured: boolean;
}

/** The one domain: every user and project of the users file is in it. */
const DOMAINS: readonly DomainRecord[] = [
  { ...DEFAULT_DOMAIN, description: "The default domain", enabled: true },
];

/** Keystone's project name limit (keystone/resource/schema.py). */
const MAX_NAME = 64;

/** Keystone's admin_required: the admin role on the token's project. */
function isAdmin(caller: TokenRecord): boolean {
  return caller.project !== null && caller.user.roles.some((r) => r.name === "admin");
}

function requireAdmin(caller: TokenRecord, action: string): void {
  if (!isAdmin(caller)) {
    throw new ForbiddenAction(action);
  }
}

type Json = Record<string, unknown>;

function optString(body: Json, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) {
    return undefined;
  }
  if (typeof v !== "string") {
    throw new ValidationError(
      `Invalid input for field '${key}': ${JSON.stringify(v)} is not of type 'string'.`,
    );
  }
  return v;
}

export class KeystoneResources {
  private readonly projects = new Map<string, ProjectRecord>();

  constructor(users: UserDirectory) {
    for (const p of users.projects()) {
      this.projects.set(p.id, {
        ...p,
        domainId: DEFAULT_DOMAIN.id,
        description: "",
        enabled: true,
        configured: true,
      });
    }
  }

  /** `GET /v3/domains`: admin only (identity:list_domains); `?name=` and `?enabled=` filter. */
  listDomains(caller: TokenRecord, filters: { name?: string; enabled?: string }): DomainRecord[] {
    requireAdmin(caller, "identity:list_domains");
    const enabled = filters.enabled === undefined ? undefined : !/^(0|false|no|off)$/i.test(filters.enabled);
    return DOMAINS.filter(
      (d) =>
        (filters.name === undefined || d.name === filters.name) &&
        (enabled === undefined || d.enabled === enabled),
    );
  }

  /** `GET /v3/domains/{id}`: admins, and anyone whose token's project is in the domain. */
  showDomain(caller: TokenRecord, id: string): DomainRecord {
    const domain = DOMAINS.find((d) => d.id === id);
    const own = caller.project !== null && this.projects.get(caller.project.id)?.domainId === id;
    if (!isAdmin(caller) && !own) {
      // The policy is checked before the lookup, so an unknown id is a 403 too, as in Keystone.
      throw new ForbiddenAction("identity:get_domain");
    }
    if (!domain) {
      throw new NotFound(`Could not find domain: ${id}.`);
    }
    return domain;
  }

  /**
   * `POST /v3/projects`: admin only; the name is unique within its domain. The body is read after
   * the policy check, so a member learns nothing from a malformed body but the 403.
   */
  createProject(caller: TokenRecord, readBody: () => unknown): ProjectRecord {
    requireAdmin(caller, "identity:create_project");
    const p = (readBody() as { project?: unknown } | null)?.project;
    if (p === null || typeof p !== "object" || Array.isArray(p)) {
      throw new ValidationError("Expecting to find project in request body.");
    }
    const fields = p as Json;
    const name = optString(fields, "name");
    if (name === undefined || name.trim() === "" || name.length > MAX_NAME) {
      throw new ValidationError(
        `Invalid input for field 'name': must be a string of 1 to ${MAX_NAME} characters.`,
      );
    }
    const enabled = fields["enabled"] ?? true;
    if (typeof enabled !== "boolean") {
      throw new ValidationError(
        `Invalid input for field 'enabled': ${JSON.stringify(enabled)} is not of type 'boolean'.`,
      );
    }
    if (fields["is_domain"] === true) {
      // Projects acting as domains are a whole other API; this Keystone has the default domain only.
      throw new ValidationError(
        "Invalid input for field 'is_domain': projects acting as domains are not supported.",
      );
    }
    // Without domain_id the project goes in the domain of the caller's project, as in Keystone.
    const domainId = optString(fields, "domain_id") ?? DEFAULT_DOMAIN.id;
    if (!DOMAINS.some((d) => d.id === domainId)) {
      throw new ValidationError(`Invalid domain_id: could not find domain ${domainId}.`);
    }
    const id = randomUUID().replaceAll("-", "");
    const clash = [...this.projects.values()].find((x) => x.domainId === domainId && x.name === name);
    if (clash) {
      throw new Conflict(
        "Conflict occurred attempting to store project - it is not permitted to have two projects " +
          `with either the same name or same id in the same domain: name is ${name}, project id ${id}.`,
      );
    }
    const record: ProjectRecord = {
      id,
      name,
      domainId,
      description: optString(fields, "description") ?? "",
      enabled,
      configured: false,
    };
    this.projects.set(id, record);
    return record;
  }

  /** `GET /v3/projects/{id}`: admins, and members of that very project. */
  showProject(caller: TokenRecord, id: string): ProjectRecord {
    if (!isAdmin(caller) && caller.project?.id !== id) {
      throw new ForbiddenAction("identity:get_project");
    }
    return this.project(id);
  }

  /** `DELETE /v3/projects/{id}`: admin only; the users file's projects stay. */
  deleteProject(caller: TokenRecord, id: string): void {
    requireAdmin(caller, "identity:delete_project");
    const record = this.project(id);
    if (record.configured) {
      // Keystone would delete it; here its users' tokens are scoped to it by the users file.
      throw new ForbiddenAction(`identity:delete_project on ${id}, a project of [keystone] users_file`);
    }
    this.projects.delete(id);
  }

  private project(id: string): ProjectRecord {
    const record = this.projects.get(id);
    if (!record) {
      throw new NotFound(`Could not find project: ${id}.`);
    }
    return record;
  }
}
