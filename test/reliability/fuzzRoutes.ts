/**
 * Every route of the API as the fuzzer sees it: a template with `{kind}` placeholders and a builder
 * of its valid body (fuzzArbitraries.ts mutates them).
 */

/** What a placeholder names: objects (ids) and names; the test keeps a pool of real values of each. */
export const IDS = ["volume", "snapshot", "type", "qos", "attachment", "migration", "evacuation"] as const;
export const NAMES = ["message", "project", "key", "tenant", "klass", "host", "pool", "backend"] as const;
export type Kind = (typeof IDS)[number] | (typeof NAMES)[number] | "svcaction" | "file";

/** Builds the valid body of a route from real values and the request's own path parameters. */
export interface BodyContext {
  pick(kind: Kind): string;
  param(kind: Kind): string;
}
type Builder = (b: BodyContext) => unknown;

export interface RouteTemplate {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** From the root; `/v3/{project}` becomes `/v3` when a request omits the project. */
  path: string;
  body?: Builder;
  /** A query that makes sense for the route (fuzzed parameters are added to it). */
  query?: (b: BodyContext) => [string, string][];
}

const V = "/v3/{project}";
const INSTANCE = "6f2a4b1e-27c8-4f55-9d0e-0c1b8a1e6d11";

/** Every volume action of api/routes/actions and manage.ts, and a few of Cinder's we do not have. */
const VOLUME_ACTIONS: Record<string, Builder> = {
  "os-migrate_volume": (b) => ({ host: b.pick("pool"), force_host_copy: false, lock_volume: false }),
  "os-migrate_volume_completion": (b) => ({ new_volume: b.pick("volume"), error: false }),
  "os-reset_status": () => ({ status: "available", attach_status: "detached", migration_status: null }),
  "os-force_delete": () => ({}),
  "os-force_detach": (b) => ({ attachment_id: b.pick("attachment"), connector: null }),
  "os-reserve": () => ({}),
  "os-unreserve": () => ({}),
  "os-begin_detaching": () => ({}),
  "os-roll_detaching": () => ({}),
  "os-attach": () => ({ instance_uuid: INSTANCE, mountpoint: "/dev/vdb", mode: "rw" }),
  "os-detach": (b) => ({ attachment_id: b.pick("attachment") }),
  "os-extend": () => ({ new_size: 2 }),
  "os-retype": (b) => ({ new_type: b.pick("type"), migration_policy: "on-demand" }),
  "os-set_bootable": () => ({ bootable: true }),
  "os-update_readonly_flag": () => ({ readonly: false }),
  "os-unmanage": () => null,
  "os-volume_upload_image": () => ({ image_name: "img", disk_format: "raw" }),
  "os-show_image_metadata": () => null,
  "os-update_volume_base_image_metadata": () => ({ image_name: "x" }),
  revert: (b) => ({ snapshot_id: b.pick("snapshot") }),
};

const EVACUATION_ACTIONS: Record<string, Builder> = {
  "os-pause": () => ({}),
  "os-resume": () => ({}),
  "os-cancel": () => ({}),
  "os-set_limits": () => ({ max_parallel: 3, bandwidth_limit: 100 }),
};

const get = (path: string, query?: RouteTemplate["query"]): RouteTemplate => ({ method: "GET", path, query });
/** GETs of `prefix/<each space-separated path>`; `-` is the prefix itself (`/` for the root). */
const gets = (prefix: string, paths: string): RouteTemplate[] =>
  paths.split(/\s+/).map((p) => get(p === "-" ? prefix || "/" : `${prefix}/${p}`));
const dels = (prefix: string, paths: string): RouteTemplate[] =>
  paths.split(/\s+/).map((p) => ({ method: "DELETE", path: `${prefix}/${p}` }));
const post = (path: string, body: Builder): RouteTemplate => ({ method: "POST", path, body });
const put = (path: string, body: Builder): RouteTemplate => ({ method: "PUT", path, body });
const actions = (path: string, table: Record<string, Builder>): RouteTemplate[] =>
  Object.entries(table).map(([name, value]) => post(path, (b) => ({ [name]: value(b) })));

/** The metadata routes of volumes and snapshots. */
function metadata(kind: "volume" | "snapshot"): RouteTemplate[] {
  const base = `${V}/${kind}s/{${kind}}/metadata`;
  const all: Builder = () => ({ metadata: { k1: "v1", "k:2": "значение" } });
  return [
    ...gets(base, "- {key}"),
    ...dels(base, "{key}"),
    post(base, all),
    put(base, all),
    put(`${base}/{key}`, (b) => ({ meta: { [b.param("key")]: "v2" } })),
  ];
}

/** Enumerated from api/app.ts and api/routes/*.ts. */
export const ROUTES: readonly RouteTemplate[] = [
  ...gets("", "- v3 v3/ metrics dashboard/ dashboard/config.json dashboard/vendor/{file}"),
  ...gets("", "dashboard/{file} identity/v3 {file}"),
  post("/identity/v3/auth/tokens", () => ({ auth: { identity: { methods: ["password"] } } })),
  // Keystone's domains and projects: a class name ("default") stands for a domain id, a tenant for a
  // project (the users file's projects cannot be deleted; unknown ids are a 404).
  ...gets("", "identity/v3/domains identity/v3/domains/{klass} identity/v3/projects/{tenant}"),
  post("/identity/v3/projects", () => ({ project: { name: "fz-project", domain_id: "default" } })),
  ...dels("", "identity/v3/projects/{tenant}"),
  ...gets(V, "volumes volumes/detail volumes/{volume} snapshots snapshots/detail"),
  ...gets(V, "snapshots/{snapshot} types types/{type} types/{type}/extra_specs"),
  ...gets(V, "types/{type}/extra_specs/{key} types/{type}/os-volume-type-access limits"),
  ...gets(V, "os-quota-sets/{tenant}/defaults os-quota-sets/{tenant} os-quota-class-sets/{klass}"),
  ...gets(V, "qos-specs qos-specs/{qos} qos-specs/{qos}/associations qos-specs/{qos}/disassociate_all"),
  ...gets(V, "messages messages/{message} attachments attachments/detail attachments/{attachment}"),
  ...gets(V, "os-availability-zone extensions capabilities/{host} scheduler-stats/get_pools"),
  ...gets(V, "os-services os-hosts os-hosts/{host} clusters clusters/detail clusters/{backend}"),
  ...["manageable_volumes", "manageable_volumes/detail", "os-volume-manage", "os-volume-manage/detail"].map(
    (p) => get(`${V}/${p}`, (b) => [["host", b.pick("pool")]]),
  ),
  ...gets(V, "migrations migrations/{migration} evacuations evacuations/{evacuation} events"),
  ...gets(V, "backups/{volume} {file}"),
  get(`${V}/qos-specs/{qos}/associate`, (b) => [["vol_type_id", b.pick("type")]]),
  get(`${V}/qos-specs/{qos}/disassociate`, (b) => [["vol_type_id", b.pick("type")]]),
  ...dels(V, "volumes/{volume} snapshots/{snapshot} types/{type} types/{type}/extra_specs/{key}"),
  ...dels(V, "os-quota-sets/{tenant} qos-specs/{qos} messages/{message} attachments/{attachment}"),
  ...dels(V, "evacuations/{evacuation}"),
  post(`${V}/volumes`, (b) => ({
    volume: { size: 1, name: "fz", volume_type: b.pick("type"), metadata: {} },
  })),
  put(`${V}/volumes/{volume}`, () => ({ volume: { name: "fz2", description: "d" } })),
  ...actions(`${V}/volumes/{volume}/action`, VOLUME_ACTIONS),
  ...metadata("volume"),
  post(`${V}/snapshots`, (b) => ({ snapshot: { volume_id: b.pick("volume"), name: "s", force: true } })),
  ...metadata("snapshot"),
  post(`${V}/types`, () => ({
    volume_type: { name: "fz-type", extra_specs: { volume_backend_name: "file-2" } },
  })),
  put(`${V}/types/{type}`, () => ({ volume_type: { description: "d" } })),
  post(`${V}/types/{type}/extra_specs`, () => ({ extra_specs: { k1: "v" } })),
  put(`${V}/types/{type}/extra_specs/{key}`, (b) => ({ [b.param("key")]: "v" })),
  ...gets(V, "types/{type}/encryption types/{type}/encryption/{key}"),
  post(`${V}/types/{type}/encryption`, () => ({
    encryption: { provider: "luks", control_location: "front-end", cipher: "aes-xts-plain64", key_size: 256 },
  })),
  put(`${V}/types/{type}/encryption/{key}`, () => ({ encryption: { key_size: 128 } })),
  ...dels(V, "types/{type}/encryption/{key}"),
  // Transfers: a volume's id stands for a transfer's (an unknown transfer is a 404).
  ...["os-volume-transfer", "volume-transfers"].flatMap((t) => [
    ...gets(V, `${t} ${t}/detail ${t}/{volume}`),
    post(`${V}/${t}`, (b) => ({ transfer: { volume_id: b.pick("volume"), name: "fz" } })),
    post(`${V}/${t}/{volume}/accept`, () => ({ accept: { auth_key: "0123456789abcdef" } })),
    ...dels(V, `${t}/{volume}`),
  ]),
  post(`${V}/types/{type}/action`, () => ({ addProjectAccess: { project: "other" } })),
  post(`${V}/types/{type}/action`, () => ({ removeProjectAccess: { project: "other" } })),
  put(`${V}/os-quota-sets/{tenant}`, () => ({ quota_set: { volumes: 20 } })),
  put(`${V}/os-quota-class-sets/{klass}`, () => ({ quota_class_set: { volumes: 20 } })),
  post(`${V}/qos-specs`, () => ({ qos_specs: { name: "fz-qos", consumer: "back-end", maxIOPS: "100" } })),
  put(`${V}/qos-specs/{qos}`, () => ({ qos_specs: { maxIOPS: "200" } })),
  put(`${V}/qos-specs/{qos}/delete_keys`, () => ({ keys: ["maxIOPS"] })),
  post(`${V}/attachments`, (b) => ({
    attachment: { volume_uuid: b.pick("volume"), connector: { host: "h" } },
  })),
  put(`${V}/attachments/{attachment}`, () => ({ attachment: { connector: { host: "h" } } })),
  post(`${V}/attachments/{attachment}/action`, () => ({ "os-complete": null })),
  put(`${V}/os-services/{svcaction}`, (b) => ({
    host: b.pick("backend"),
    binary: "cinder-volume",
    ...(b.param("svcaction") === "disable-log-reason" ? { disabled_reason: "fz" } : {}),
  })),
  post(`${V}/os-volume-manage`, (b) => ({
    volume: { host: b.pick("pool"), ref: { "source-name": "volume-x" } },
  })),
  post(`${V}/migrations/{migration}/action`, () => ({ cancel: {} })),
  post(`${V}/migrations/{migration}/action`, () => ({ set_bandwidth_limit: { bps: 2 * 1024 * 1024 } })),
  post(`${V}/evacuations`, (b) => ({ evacuation: { source: b.pick("backend"), dry_run: true } })),
  ...actions(`${V}/evacuations/{evacuation}/action`, EVACUATION_ACTIONS),
];
