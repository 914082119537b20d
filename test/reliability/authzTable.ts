/**
 * The authorisation matrix: every route of the app, each with the status Cinder's default policy
 * (cinder/policies/*.py, and the order of lookup and policy check in each controller) gives each
 * caller. Written from Cinder, not from what this service answers; where the two differ, the test
 * fails and names the cell.
 *
 * Callers: `admin` (admin of `demo`), `member` (of `demo`), `other` (member of `other` with `demo`
 * in the URL), `cross` (member of `other` with its own project in the URL, naming `demo`'s
 * objects), `none` (no token) and `bad` (a token never issued).
 *
 * - `other`: Cinder's Resource refuses a URL whose project is not the token's with 400
 *   "Malformed request url" (cinder/api/openstack/wsgi.py `_process_stack`), after the action
 *   lookup (an unknown action is 400 first) and before the controller runs, so neither the policy
 *   (403) nor the lookup (404) is reached, for admin-only routes too.
 * - `cross`: an object of another project is not found (404: Cinder's `project_only` reads), unless
 *   the controller checks an admin-only policy first (403: qos-specs, types_manage, os-services,
 *   evacuations…). Admin actions on a volume (migrate, reset_status, force_*, unmanage) look the
 *   volume up first, so 404 there, and 403 only for `member`, who finds the volume.
 * - `none`/`bad`: 401 for everything under /v3/{project}/ (keystonemiddleware). Version
 *   documents, /dashboard/ (static files) and /metrics (README: no token, aggregate labels) are
 *   outside authentication: the same answer for everyone.
 */

export const IDENTITIES = ["admin", "member", "other", "cross", "none", "bad"] as const;
export type Who = (typeof IDENTITIES)[number];

/** Values substituted for `{name}` in a row's path and body. */
export type Vars = Record<string, string>;

/** The World's methods (authzWorld.ts) that make a row's objects. */
export type Maker =
  | "volume"
  | "twoVolumes"
  | "attached"
  | "reserved"
  | "detaching"
  | "migrating"
  | "snapshot"
  | "volumeType"
  | "encryptedType"
  | "transfer"
  | "accessGranted"
  | "qos"
  | "qosAssociated"
  | "message"
  | "connectedAttachment"
  | "manageable"
  | "file2Volume"
  | "evacuation"
  | "pausedEvacuation"
  | "endedEvacuation"
  | "attachment"
  | "volumeMetaKey"
  | "snapshotMetaKey"
  | "specKey"
  | "qosKey";

/** [admin, member, other, cross]; none and bad are 401 under /v3/{project}/. */
type Statuses = readonly [number, number, number, number];

export interface Row {
  method: string;
  /** Under /v3/{project} unless `root`; `{name}` is replaced from the vars. */
  path: string;
  expect: Record<Who, number>;
  /** JSON with `{name}` placeholders in its strings. */
  body?: unknown;
  /** The World's maker of this row's own objects, called per cell (admin, member, cross). */
  fresh?: Maker;
  /** Puts back what the admin's cell changed (a disabled service). */
  after?: "enableScheduler";
  /** Outside /v3: version documents, dashboard, metrics. */
  root?: boolean;
  /** `/v3/…` without a project (3.67 PROJECT_ID_OPTIONAL_IN_URL): `other` acts in its own project. */
  bare?: boolean;
}

const v3 = ([admin, member, other, cross]: Statuses): Record<Who, number> => ({
  admin,
  member,
  other,
  cross,
  none: 401,
  bad: 401,
});
/** A project-scoped collection: everyone lists their own project's. */
const mine = (ok: number) => v3([ok, ok, 400, ok]);
/** One object of `demo`: owner or admin (rule:admin_or_owner); another project does not find it. */
const owner = (ok: number) => v3([ok, ok, 400, 404]);
/** Admin-only, the policy checked before any lookup (rule:admin_api). */
const adminOnly = (ok: number) => v3([ok, 403, 400, 403]);
/** Admin-only volume actions: the volume is looked up (project-scoped) before the policy. */
const adminAction = (ok: number) => v3([ok, 403, 400, 404]);
/** The same for every authenticated caller (an unknown action is 400 before anything else). */
const everyone = (status: number) => v3([status, status, status, status]);
const open = (ok: number): Record<Who, number> => ({
  admin: ok,
  member: ok,
  other: ok,
  cross: ok,
  none: ok,
  bad: ok,
});

type Opts = Omit<Row, "method" | "path" | "expect">;
const r = (method: string, path: string, expect: Record<Who, number>, opts: Opts = {}): Row => ({
  method,
  path,
  expect,
  ...opts,
});
const act = (name: string, args: unknown, expect: Record<Who, number>, fresh?: Maker): Row =>
  r("POST", "/volumes/{vol}/action", expect, { body: { [name]: args }, fresh });
const evacuationAct = (name: string, args: unknown, expect: Record<Who, number>, fresh?: Maker): Row =>
  r("POST", "/evacuations/{evac}/action", expect, { body: { [name]: args }, fresh });

const INSTANCE = "5a3e8f5c-64c3-4b5e-9f51-2d3c9a1f0b7e";
export const CONNECTOR = { host: "rel-compute", initiator: "iqn.1993-08.org.debian:01:authz" };
const HOST = "rel@file-1";
const SCHEDULER = { host: "rel", binary: "cinder-scheduler" };
const enableAfter = { after: "enableScheduler" } as const;

export const TABLE: readonly Row[] = [
  // Outside authentication.
  r("GET", "/", open(300), { root: true }),
  r("GET", "/v3/", open(200), { root: true }),
  r("GET", "/metrics", open(200), { root: true }),
  r("GET", "/dashboard/", open(200), { root: true }),
  r("GET", "/dashboard/config.json", open(200), { root: true }),
  r("GET", "/dashboard/vendor/preact.mjs", open(200), { root: true }),
  // Volumes (cinder/api/v3/volumes.py, volume_metadata.py).
  r("GET", "/volumes", mine(200)),
  r("GET", "/volumes/detail", mine(200)),
  r("POST", "/volumes", mine(202), { body: { volume: { size: 1, name: "authz-{uniq}" } } }),
  r("GET", "/volumes/{vol}", owner(200)),
  r("PUT", "/volumes/{vol}", owner(200), { body: { volume: { description: "authz" } } }),
  // A private type without access, another project's snapshot: not found (create flow lookups).
  r("POST", "/volumes", v3([202, 404, 400, 404]), {
    body: { volume: { size: 1, volume_type: "rel-private" } },
  }),
  r("POST", "/volumes", owner(202), { body: { volume: { snapshot_id: "{snap}" } } }),
  r("DELETE", "/volumes/{vol}", owner(202), { fresh: "volume" }),
  r("GET", "/volumes/{vol}/metadata", owner(200)),
  r("POST", "/volumes/{vol}/metadata", owner(200), { body: { metadata: { added: "1" } } }),
  r("PUT", "/volumes/{vol}/metadata", owner(200), { body: { metadata: { fixed: "1" } } }),
  r("GET", "/volumes/{vol}/metadata/fixed", owner(200)),
  r("PUT", "/volumes/{vol}/metadata/fixed", owner(200), { body: { meta: { fixed: "1" } } }),
  r("DELETE", "/volumes/{vol}/metadata/{key}", owner(200), { fresh: "volumeMetaKey" }),
  // Volume actions (cinder/api/contrib/admin_actions.py, volume_actions.py, volume_unmanage.py).
  act("os-migrate_volume", { host: "rel@file-2#file-2" }, adminAction(202), "volume"),
  act("os-migrate_volume_completion", { new_volume: "{vol2}" }, adminAction(200), "twoVolumes"),
  act("os-reset_status", { status: "available" }, adminAction(202), "volume"),
  act("os-force_delete", {}, adminAction(202), "volume"),
  act("os-force_detach", {}, adminAction(202), "attached"),
  act("os-unmanage", null, adminAction(202), "volume"),
  act("os-reserve", {}, owner(202), "volume"),
  act("os-unreserve", {}, owner(202), "reserved"),
  act("os-attach", { instance_uuid: INSTANCE, mountpoint: "/dev/vdb" }, owner(202), "volume"),
  act("os-begin_detaching", {}, owner(202), "attached"),
  act("os-roll_detaching", {}, owner(202), "detaching"),
  act("os-detach", {}, owner(202), "attached"),
  act("os-extend", { new_size: 2 }, owner(202), "volume"),
  act("os-retype", { new_type: "{retype}", migration_policy: "never" }, owner(202), "volume"),
  // Cinder looks the new type up with an elevated context (cinder/volume/api.py retype): a member
  // may retype its volume to a private type it cannot list.
  act("os-retype", { new_type: "rel-private", migration_policy: "never" }, owner(202), "volume"),
  act("os-set_bootable", { bootable: false }, owner(200)),
  act("os-update_readonly_flag", { readonly: false }, owner(202)),
  act("os-no_such_action", {}, everyone(400)),
  // Snapshots (cinder/api/v3/snapshots.py, snapshot_metadata.py).
  r("GET", "/snapshots", mine(200)),
  r("GET", "/snapshots/detail", mine(200)),
  r("POST", "/snapshots", owner(202), { body: { snapshot: { volume_id: "{svol}", name: "authz-{uniq}" } } }),
  r("GET", "/snapshots/{snap}", owner(200)),
  r("DELETE", "/snapshots/{snap}", owner(202), { fresh: "snapshot" }),
  r("GET", "/snapshots/{snap}/metadata", owner(200)),
  r("POST", "/snapshots/{snap}/metadata", owner(200), { body: { metadata: { added: "1" } } }),
  r("PUT", "/snapshots/{snap}/metadata", owner(200), { body: { metadata: { fixed: "1" } } }),
  r("GET", "/snapshots/{snap}/metadata/fixed", owner(200)),
  r("PUT", "/snapshots/{snap}/metadata/fixed", owner(200), { body: { meta: { fixed: "1" } } }),
  r("DELETE", "/snapshots/{snap}/metadata/{key}", owner(200), { fresh: "snapshotMetaKey" }),
  // Volume types: reads for every reader, writes admin_api (types_manage, types_extra_specs,
  // volume_type_access); members read only the user-visible extra specs.
  r("GET", "/types", mine(200)),
  r("GET", "/types/{type}", mine(200)),
  r("GET", "/types/{ptype}", v3([200, 404, 400, 404])),
  r("POST", "/types", adminOnly(200), { body: { volume_type: { name: "authz-{uniq}" } } }),
  r("PUT", "/types/{type}", adminOnly(200), { body: { volume_type: { description: "authz" } } }),
  r("DELETE", "/types/{type}", adminOnly(202), { fresh: "volumeType" }),
  r("GET", "/types/{type}/extra_specs", mine(200)),
  r("GET", "/types/{ptype}/extra_specs", v3([200, 404, 400, 404])),
  r("POST", "/types/{type}/extra_specs", adminOnly(200), { body: { extra_specs: { added: "1" } } }),
  r("GET", "/types/{type}/extra_specs/multiattach", mine(200)),
  r("GET", "/types/{type}/extra_specs/volume_backend_name", v3([200, 404, 400, 404])),
  r("PUT", "/types/{type}/extra_specs/multiattach", adminOnly(200), { body: { multiattach: "<is> False" } }),
  r("DELETE", "/types/{type}/extra_specs/{key}", adminOnly(202), { fresh: "specKey" }),
  // Volume transfers (volume_transfer.py, policies/volume_transfer.py): owner or admin, except
  // accept, which anyone holding the key may do, from any project.
  ...["/os-volume-transfer", "/volume-transfers"].flatMap((t) => [
    r("GET", t, mine(200)),
    r("GET", `${t}/detail`, mine(200)),
    r("POST", t, owner(202), { fresh: "volume", body: { transfer: { volume_id: "{vol}" } } }),
    r("GET", `${t}/{xfer}`, owner(200), { fresh: "transfer" }),
    r("POST", `${t}/{xfer}/accept`, v3([202, 202, 400, 202]), {
      fresh: "transfer",
      body: { accept: { auth_key: "{key}" } },
    }),
    r("DELETE", `${t}/{xfer}`, owner(202), { fresh: "transfer" }),
  ]),
  // Type encryption (volume_type_encryption.py): admin_api for reads too, the policy first.
  r("GET", "/types/{type}/encryption", adminOnly(200)),
  r("POST", "/types/{type}/encryption", adminOnly(200), {
    fresh: "volumeType",
    body: { encryption: { provider: "luks", control_location: "front-end" } },
  }),
  r("GET", "/types/{type}/encryption/provider", adminOnly(200), { fresh: "encryptedType" }),
  r("PUT", "/types/{type}/encryption/provider", adminOnly(200), {
    fresh: "encryptedType",
    body: { encryption: { cipher: null } },
  }),
  r("DELETE", "/types/{type}/encryption/provider", adminOnly(202), { fresh: "encryptedType" }),
  r("GET", "/types/{ptype}/os-volume-type-access", adminOnly(200)),
  r("POST", "/types/{ptype}/action", adminOnly(202), { body: { addProjectAccess: { project: "p-{uniq}" } } }),
  r("POST", "/types/{ptype}/action", adminOnly(202), {
    body: { removeProjectAccess: { project: "{project}" } },
    fresh: "accessGranted",
  }),
  r("POST", "/types/{type}/action", everyone(400), { body: { noSuchAction: {} } }),
  // Quotas: show is admin-or-owner of the target project; update, delete and classes admin_api.
  r("GET", "/os-quota-sets/demo", v3([200, 200, 400, 403])),
  r("GET", "/os-quota-sets/demo?usage=true", v3([200, 200, 400, 403])),
  r("GET", "/os-quota-sets/demo/defaults", v3([200, 200, 400, 403])),
  r("PUT", "/os-quota-sets/demo", adminOnly(200), { body: { quota_set: { volumes: -1 } } }),
  r("DELETE", "/os-quota-sets/demo", adminOnly(200)),
  r("GET", "/os-quota-class-sets/default", adminOnly(200)),
  r("PUT", "/os-quota-class-sets/default", adminOnly(200), { body: { quota_class_set: { volumes: -1 } } }),
  r("GET", "/limits", mine(200)),
  // QoS specs: every call admin_api, checked first (qos_specs_manage.py).
  r("GET", "/qos-specs", adminOnly(200)),
  r("POST", "/qos-specs", adminOnly(200), {
    body: { qos_specs: { name: "authz-{uniq}", consumer: "back-end" } },
  }),
  r("GET", "/qos-specs/{qos}", adminOnly(200)),
  r("PUT", "/qos-specs/{qos}", adminOnly(200), { body: { qos_specs: { read_iops_sec: "100" } } }),
  r("PUT", "/qos-specs/{qos}/delete_keys", adminOnly(202), { body: { keys: ["{key}"] }, fresh: "qosKey" }),
  r("DELETE", "/qos-specs/{qos}", adminOnly(202), { fresh: "qos" }),
  r("GET", "/qos-specs/{qos}/associations", adminOnly(200)),
  r("GET", "/qos-specs/{qos}/associate?vol_type_id={type}", adminOnly(202), { fresh: "volumeType" }),
  r("GET", "/qos-specs/{qos}/disassociate?vol_type_id={type}", adminOnly(202), {
    fresh: "qosAssociated",
  }),
  r("GET", "/qos-specs/{qos}/disassociate_all", adminOnly(202)),
  // User messages (cinder/api/v3/messages.py: reader / member of the message's project).
  r("GET", "/messages", mine(200)),
  r("GET", "/messages/{msg}", owner(200)),
  r("DELETE", "/messages/{msg}", owner(204), { fresh: "message" }),
  // Attachments (cinder/api/v3/attachments.py: member of the volume's project).
  r("GET", "/attachments", mine(200)),
  r("GET", "/attachments/detail", mine(200)),
  r("GET", "/attachments/{att}", owner(200)),
  r("POST", "/attachments", owner(200), {
    body: { attachment: { volume_uuid: "{vol}", instance_uuid: INSTANCE } },
    fresh: "volume",
  }),
  r("PUT", "/attachments/{att}", owner(200), {
    body: { attachment: { connector: CONNECTOR } },
    fresh: "attachment",
  }),
  r("DELETE", "/attachments/{att}", owner(200), { fresh: "attachment" }),
  r("POST", "/attachments/{att}/action", owner(204), {
    body: { "os-complete": null },
    fresh: "connectedAttachment",
  }),
  // Availability zones, extensions, capabilities (admin_api), limits above.
  r("GET", "/os-availability-zone", mine(200)),
  r("GET", "/extensions", mine(200)),
  r("GET", `/capabilities/${HOST}`, adminOnly(200)),
  // Admin discovery: pools, services, hosts, clusters (none configured: show is 404 for admins).
  r("GET", "/scheduler-stats/get_pools", adminOnly(200)),
  r("GET", "/scheduler-stats/get_pools?detail=true", adminOnly(200)),
  r("GET", "/os-services", adminOnly(200)),
  r("PUT", "/os-services/enable", adminOnly(200), { body: { host: HOST, binary: "cinder-volume" } }),
  r("PUT", "/os-services/disable", adminOnly(200), { body: SCHEDULER, ...enableAfter }),
  r("PUT", "/os-services/disable-log-reason", adminOnly(200), {
    body: { ...SCHEDULER, disabled_reason: "authz" },
    ...enableAfter,
  }),
  r("GET", "/os-hosts", adminOnly(200)),
  r("GET", `/os-hosts/${HOST}`, adminOnly(200)),
  r("GET", "/clusters", adminOnly(200)),
  r("GET", "/clusters/detail", adminOnly(200)),
  r("GET", "/clusters/nowhere", v3([404, 403, 400, 403])),
  // Manage (volume_manage.py, manageable lists): admin_api, checked first.
  r("POST", "/os-volume-manage", adminOnly(202), {
    body: { volume: { host: `${HOST}#file-1`, ref: { "source-name": "{ref}" } } },
    fresh: "manageable",
  }),
  r("GET", `/os-volume-manage?host=${HOST}`, adminOnly(200)),
  r("GET", `/os-volume-manage/detail?host=${HOST}`, adminOnly(200)),
  r("GET", `/manageable_volumes?host=${HOST}`, adminOnly(200)),
  r("GET", `/manageable_volumes/detail?host=${HOST}`, adminOnly(200)),
  // Migrations and evacuations (beyond Cinder, documented admin only; policy before lookup).
  r("GET", "/migrations", adminOnly(200)),
  r("GET", "/migrations/{mig}", adminOnly(200)),
  r("POST", "/migrations/{mig}/action", adminOnly(202), { body: { set_bandwidth_limit: { bps: 1048576 } } }),
  r("POST", "/migrations/{mig}/action", adminOnly(202), { body: { cancel: {} }, fresh: "migrating" }),
  r("POST", "/migrations/{mig}/action", everyone(400), { body: { no_such_action: {} } }),
  r("POST", "/evacuations", adminOnly(200), { body: { evacuation: { source: HOST, dry_run: true } } }),
  r("POST", "/evacuations", adminOnly(202), {
    body: { evacuation: { source: "rel@file-2", destination: HOST, disable_source: false } },
    fresh: "file2Volume",
  }),
  r("GET", "/evacuations", adminOnly(200)),
  r("GET", "/evacuations/{evac}", adminOnly(200)),
  r("DELETE", "/evacuations/{evac}", adminOnly(204), { fresh: "endedEvacuation" }),
  evacuationAct("os-pause", {}, adminOnly(202), "evacuation"),
  evacuationAct("os-resume", {}, adminOnly(202), "pausedEvacuation"),
  evacuationAct("os-cancel", {}, adminOnly(202), "evacuation"),
  evacuationAct("os-set_limits", { max_parallel: 6 }, adminOnly(202)),
  evacuationAct("os-no_such_action", {}, everyone(400)),
  // The event stream: every authenticated caller, each seeing what it may (checked separately).
  r("GET", "/events", mine(200)),
  // Without a project in the URL everyone acts in the token's project: `other` is `cross` then.
  r("GET", "/volumes/{vol}", v3([200, 200, 404, 404]), { bare: true }),
  r("GET", "/volumes/detail", everyone(200), { bare: true }),
  r("POST", "/volumes/{vol}/action", v3([202, 403, 404, 404]), {
    bare: true,
    body: { "os-migrate_volume": { host: "rel@file-2#file-2" } },
    fresh: "volume",
  }),
  r("GET", "/migrations", v3([200, 403, 403, 403]), { bare: true }),
  r("GET", "/events", everyone(200), { bare: true }),
];
