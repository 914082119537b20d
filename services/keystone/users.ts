/**
 * The users file of the built-in Keystone (JSON, because user names may hold dots, which INI
 * section names cannot):
 *
 *   {"users": [{"name": "admin", "password_hash": "scrypt$…", "project": "admin", "roles": ["admin"]},
 *              {"name": "demo", "password_hash": "scrypt$…", "project": "demo", "roles": ["member"],
 *               "id": "optional user id", "project_id": "optional project id"}]}
 *
 * Ids default to a hash of the name, so they are the same on every start and on every replica:
 * volumes keep the user_id and project_id they were created with.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";

import { ConfigError } from "../../common/errors";
import { parsePasswordHash } from "./passwords";
import type { KeystoneProject, KeystoneRole, KeystoneUser } from "./types";

/** Keystone-style 32-hex id derived from a kind and a name. */
export function stableId(kind: "user" | "project" | "role" | "service" | "endpoint", name: string): string {
  return createHash("sha256").update(`vms-keystone:${kind}:${name}`).digest("hex").slice(0, 32);
}

export class UserDirectory {
  private readonly byName = new Map<string, KeystoneUser>();
  private readonly byId = new Map<string, KeystoneUser>();

  constructor(users: readonly KeystoneUser[]) {
    for (const u of users) {
      this.byName.set(u.name, u);
      this.byId.set(u.id, u);
    }
  }

  findByName(name: string): KeystoneUser | undefined {
    return this.byName.get(name);
  }

  findById(id: string): KeystoneUser | undefined {
    return this.byId.get(id);
  }

  /** Every project some user is in, once each. */
  projects(): KeystoneProject[] {
    return [...new Map([...this.byId.values()].map((u) => [u.project.id, u.project])).values()];
  }

  get size(): number {
    return this.byId.size;
  }
}

/** Reads and checks the users file; every problem is a ConfigError naming the file and the entry. */
export function loadUsersFile(file: string): UserDirectory {
  const where = `[keystone] users_file ${file}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(`Invalid configuration: ${where}: ${(err as Error).message}`, { cause: err });
  }
  return new UserDirectory(parseUsers(parsed, where));
}

export function parseUsers(parsed: unknown, where: string): KeystoneUser[] {
  const fail = (path: string, reason: string): never => {
    throw new ConfigError(`Invalid configuration: ${where}: ${path}: ${reason}`);
  };
  const list = (parsed as { users?: unknown } | null)?.users;
  if (!Array.isArray(list) || list.length === 0) {
    return fail("users", "must be a non-empty array");
  }
  const projects = new Map<string, KeystoneProject>();
  const seen = new Set<string>();
  return list.map((entry: unknown, i): KeystoneUser => {
    const at = `users[${i}]`;
    const e = (entry ?? {}) as Record<string, unknown>;
    const str = (key: string, required: boolean): string | undefined => {
      const v = e[key];
      if (v === undefined && !required) {
        return undefined;
      }
      return typeof v === "string" && v !== "" ? v : fail(`${at}.${key}`, "must be a non-empty string");
    };
    const name = str("name", true)!;
    const hash = str("password_hash", true)!;
    const hashProblem = parsePasswordHash(hash);
    if (typeof hashProblem === "string") {
      fail(`${at}.password_hash`, hashProblem);
    }
    const id = str("id", false) ?? stableId("user", name);
    if (seen.has(name) || seen.has(`id:${id}`)) {
      fail(at, `user ${name} (id ${id}) is listed twice`);
    }
    seen.add(name).add(`id:${id}`);
    const projectName = str("project", true)!;
    const project = { id: str("project_id", false) ?? stableId("project", projectName), name: projectName };
    const known = projects.get(projectName);
    if (known && known.id !== project.id) {
      fail(`${at}.project_id`, `project ${projectName} already has id ${known.id}`);
    }
    projects.set(projectName, project);
    const roles = e["roles"];
    if (!Array.isArray(roles) || !roles.every((r): r is string => typeof r === "string" && r !== "")) {
      return fail(`${at}.roles`, "must be an array of role names");
    }
    const roleRecords: KeystoneRole[] = roles.map((r) => ({ id: stableId("role", r), name: r }));
    return { id, name, passwordHash: hash, project, roles: roleRecords };
  });
}
