/**
 * JSON documents of the built-in Keystone, in Keystone v3's shapes (api-ref identity v3): version
 * discovery, the token body and its catalog, domains and projects. See shared/reference clients.md §1b and §7 for which
 * keys the CLIs and tempest need; the rest is there because real Keystone sends it.
 */
import type { DomainRecord, ProjectRecord } from "./resources";
import { DEFAULT_DOMAIN, type TokenRecord } from "./types";
import { stableId } from "./users";

/** The identity API version we speak (what keystoneauth's discovery reads). */
const V3 = { id: "v3.14", updated: "2020-04-07T00:00:00Z" } as const;

export interface Urls {
  /** `scheme://host[:port]` of this service, as the client reached it. */
  base: string;
  /** Where the Keystone router is mounted, e.g. `/identity`. */
  mount: string;
}

export function v3VersionEntry(urls: Urls): Record<string, unknown> {
  return {
    id: V3.id,
    status: "stable",
    updated: V3.updated,
    links: [{ rel: "self", href: `${urls.base}${urls.mount}/v3/` }],
    "media-types": [{ base: "application/json", type: "application/vnd.openstack.identity-v3+json" }],
  };
}

/** Keystone writes microseconds; tempest parses `%Y-%m-%dT%H:%M:%S.%fZ`. */
export function keystoneTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function endpoints(service: string, url: string, region: string): Record<string, unknown>[] {
  return (["public", "internal", "admin"] as const).map((iface) => ({
    id: stableId("endpoint", `${service}-${iface}`),
    interface: iface,
    region,
    region_id: region,
    url,
  }));
}

/**
 * The catalog of a project-scoped token: the volume API at `/v3/<project_id>` of this very service,
 * under both type names clients ask for (keystoneauth treats them as aliases; tempest looks up
 * `[volume] catalog_type` literally), plus this Keystone itself.
 */
export function catalog(urls: Urls, projectId: string, region: string): Record<string, unknown>[] {
  const volume = `${urls.base}/v3/${projectId}`;
  const entry = (type: string, name: string, url: string): Record<string, unknown> => ({
    id: stableId("service", type),
    type,
    name,
    endpoints: endpoints(type, url, region),
  });
  return [
    entry("volumev3", "cinderv3", volume),
    entry("block-storage", "cinder", volume),
    entry("identity", "keystone", `${urls.base}${urls.mount}`),
  ];
}

export function tokenBody(
  record: TokenRecord,
  opts: { urls: Urls; region: string; withCatalog: boolean },
): Record<string, unknown> {
  const token: Record<string, unknown> = {
    methods: record.methods,
    user: {
      id: record.user.id,
      name: record.user.name,
      domain: { ...DEFAULT_DOMAIN },
      password_expires_at: null,
    },
    audit_ids: [record.auditId],
    expires_at: keystoneTime(record.expiresAt),
    issued_at: keystoneTime(record.issuedAt),
  };
  if (record.project) {
    token["project"] = { ...record.project, domain: { ...DEFAULT_DOMAIN } };
    token["is_domain"] = false;
    token["roles"] = record.user.roles.map((r) => ({ ...r }));
    if (opts.withCatalog) {
      token["catalog"] = catalog(opts.urls, record.project.id, opts.region);
    }
  }
  return { token };
}

/** A domain as Keystone shows it (`GET /v3/domains[/{id}]`). */
export function domainBody(d: DomainRecord, urls: Urls): Record<string, unknown> {
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    enabled: d.enabled,
    tags: [],
    options: {},
    links: { self: `${urls.base}${urls.mount}/v3/domains/${d.id}` },
  };
}

/** A project as Keystone shows it: a top-level project's parent is its domain. */
export function projectBody(p: ProjectRecord, urls: Urls): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    domain_id: p.domainId,
    description: p.description,
    enabled: p.enabled,
    is_domain: false,
    parent_id: p.domainId,
    tags: [],
    options: {},
    links: { self: `${urls.base}${urls.mount}/v3/projects/${p.id}` },
  };
}
