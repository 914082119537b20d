/**
 * cinder.conf-style configuration: one INI file (oslo option names where Cinder has the option),
 * `$option` interpolation from [DEFAULT] as oslo.config does, environment overrides named
 * `VMS__<SECTION>__<OPTION>` (for containers), and validation at start: any bad value raises a
 * ConfigError naming the section and key, and the process entry point exits with it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import ini from "ini";

import { type MigrationLimitsConfig, readMigrationLimits } from "./configMigrations";
import { type MessageConfig, type QuotaConfig, readMessages, readQuotas } from "./configQuotas";
import { applyEnv, checkName, interpolate, normalise, Reader, type Sections } from "./configReader";
import { readSsh, type SshBackendConfig } from "./configSsh";
import { ConfigError } from "./errors";

export type { SshBackendConfig } from "./configSsh";

export const DRIVER_NAMES = ["rawfile", "lvm"] as const;
export type DriverName = (typeof DRIVER_NAMES)[number];

export const AUTH_STRATEGIES = ["noauth", "static", "keystone"] as const;
export type AuthStrategy = (typeof AUTH_STRATEGIES)[number];

export interface StaticToken {
  userId: string;
  projectId: string;
  isAdmin: boolean;
}

/** How a volume worker reaches Nova for the swap of attached volumes ([nova]). */
export interface NovaConfig {
  /** Nova's compute API, e.g. http://nova:8774/v2.1. Without it attached volumes cannot migrate. */
  endpoint: string;
  /** Sent as X-Auth-Token and X-Service-Token: Nova's swap API is service-role only. */
  token: string;
  timeoutSecs: number;
  /** How long a migration may wait for Nova's completion callback before it is rolled back. */
  swapTimeoutSecs: number;
}

/** [keystone_authtoken]: how `auth_strategy = keystone` validates tokens (keystonemiddleware's names). */
export interface KeystoneAuthtokenConfig {
  /** Keystone's URL, with or without `/v3`; tokens are validated at `<…>/v3/auth/tokens`. */
  authUrl: string;
  /** Sent on 401s as `WWW-Authenticate: Keystone uri="…"`. @defaultValue auth_url */
  wwwAuthenticateUri: string;
  /** The service user whose token authorises validation requests (password auth). */
  username: string;
  password: string;
  projectName: string;
  /** @defaultValue "Default" */
  userDomainName: string;
  /** @defaultValue "Default" */
  projectDomainName: string;
  /** Seconds a validated token is trusted without asking Keystone again (never past expires_at). @defaultValue 300 */
  tokenCacheTime: number;
  /** Seconds to wait for Keystone before answering 503. @defaultValue 5 */
  httpConnectTimeout: number;
}

/** [keystone]: the built-in minimal Keystone v3, mounted at /identity. */
export interface BuiltinKeystoneConfig {
  enabled: boolean;
  /** JSON file of users with scrypt password hashes (services/keystone/users.ts); required when enabled. */
  usersFile: string | null;
  /** Token lifetime in seconds (Keystone's [token] expiration). @defaultValue 3600 */
  tokenExpiration: number;
  /** Region of the catalog's endpoints. @defaultValue "RegionOne" */
  region: string;
}

export interface BackendConfig extends MigrationLimitsConfig {
  /** The INI section name, as listed in `enabled_backends`. */
  section: string;
  /** `host@backend`: the service name and the RPC queue suffix. */
  serviceHost: string;
  /** `cluster@backend` when [DEFAULT] cluster is set (Cinder's active-active clusters), else null. */
  clusterName: string | null;
  volumeDriver: DriverName;
  volumeBackendName: string;
  availabilityZone: string;
  reservedPercentage: number;
  maxOverSubscriptionRatio: number;
  /** rawfile driver: the directory holding the volume files. */
  rawfileDirectory: string | null;
  /** rawfile driver: move natively (hard link or local copy) to another directory of the same host. */
  rawfileNativeMigration: boolean;
  /** The storage host the backend's commands run on over SSH (`ssh_*`); null runs them locally. */
  ssh: SshBackendConfig | null;
  /** Every option of the section, for drivers that read their own keys. */
  options: Readonly<Record<string, string>>;
}

export interface AppConfig {
  host: string;
  statePath: string;
  enabledBackends: string[];
  transportUrl: string;
  databaseConnection: string;
  authStrategy: AuthStrategy;
  /** noauth: user ids that get the admin role (real Cinder's noauth makes everyone admin). */
  noauthAdminUsers: string[];
  staticTokens: ReadonlyMap<string, StaticToken>;
  /** Set when auth_strategy = keystone (validated at start), else null. */
  keystoneAuthtoken: KeystoneAuthtokenConfig | null;
  keystone: BuiltinKeystoneConfig;
  volumeNameTemplate: string;
  snapshotNameTemplate: string;
  reportInterval: number;
  serviceDownTime: number;
  /** Seconds a volume worker reuses its driver's stats between heartbeats (Cinder's default 60, min 3). */
  backendStatsPollingInterval: number;
  listenHost: string;
  listenPort: number;
  migrationCreateVolumeTimeoutSecs: number;
  /**
   * Move a volume together with its snapshots (os-migrate_volume, retype, evacuations). Off: a
   * volume with snapshots is refused, as Cinder does. @defaultValue false
   */
  migrateVolumesWithSnapshots: boolean;
  volumeDdBlocksize: string;
  storageAvailabilityZone: string;
  defaultVolumeType: string;
  logLevel: string;
  nova: NovaConfig | null;
  /** Quota defaults (quota_volumes, quota_gigabytes, …). */
  quotas: QuotaConfig;
  /** User messages: message_ttl, message_reap_interval. */
  messages: MessageConfig;
  backends: BackendConfig[];
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): AppConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`Cannot read configuration file ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseConfig(text, env);
}

export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env): AppConfig {
  const sections = applyEnv(normalise(ini.parse(text)), env);
  const d = new Reader(sections, "DEFAULT");
  const statePath = path.resolve(d.str("state_path", "./data"));
  sections["DEFAULT"] = { ...sections["DEFAULT"], state_path: statePath };
  interpolate(sections);

  const reportInterval = d.int("report_interval", 10);
  let serviceDownTime = d.int("service_down_time", 60);
  if (serviceDownTime <= reportInterval) {
    // Cinder raises it the same way (cinder/service.py) so a single late heartbeat is not "down".
    serviceDownTime = Math.ceil(reportInterval * 2.5);
  }
  const enabledBackends = d.list("enabled_backends", []);
  const host = d.str("host", os.hostname());
  checkName("DEFAULT", "host", host);
  const storageAvailabilityZone = d.str("storage_availability_zone", "nova");
  const cluster = d.str("cluster", "") || null;
  if (cluster !== null) {
    checkName("DEFAULT", "cluster", cluster);
  }
  const authStrategy = d.oneOf("auth_strategy", "noauth", AUTH_STRATEGIES);
  const config: AppConfig = {
    host,
    statePath,
    enabledBackends,
    transportUrl: d.url("transport_url", "memory://", ["memory:", "rabbit:", "amqp:"]),
    databaseConnection: new Reader(sections, "database").url("connection", `pglite://${statePath}/db`, [
      "pglite:",
      "postgresql:",
      "postgres:",
    ]),
    authStrategy,
    noauthAdminUsers: d.list("noauth_admin_users", ["admin"]),
    staticTokens: readStaticTokens(sections),
    keystoneAuthtoken: authStrategy === "keystone" ? readKeystoneAuthtoken(sections) : null,
    keystone: readBuiltinKeystone(sections),
    volumeNameTemplate: d.template("volume_name_template", "volume-%s"),
    snapshotNameTemplate: d.template("snapshot_name_template", "snapshot-%s"),
    reportInterval,
    serviceDownTime,
    backendStatsPollingInterval: d.int("backend_stats_polling_interval", 60, 3),
    listenHost: d.str("osapi_volume_listen", "127.0.0.1"),
    listenPort: d.int("osapi_volume_listen_port", 8776, 0, 65535),
    migrationCreateVolumeTimeoutSecs: d.int("migration_create_volume_timeout_secs", 300),
    migrateVolumesWithSnapshots: d.bool("migrate_volumes_with_snapshots", false),
    volumeDdBlocksize: d.match("volume_dd_blocksize", "1M", /^[1-9][0-9]*[KMG]?$/, "a size such as 1M or 4M"),
    storageAvailabilityZone,
    defaultVolumeType: d.str("default_volume_type", "__DEFAULT__"),
    logLevel: d.oneOf("log_level", "info", ["debug", "info", "warn", "error"] as const),
    nova: readNova(sections),
    quotas: readQuotas(d),
    messages: readMessages(d),
    backends: enabledBackends.map((name) =>
      readBackend(sections, name, host, storageAvailabilityZone, cluster),
    ),
  };
  if (config.authStrategy === "static" && config.staticTokens.size === 0) {
    throw new ConfigError(
      "Invalid configuration: [static_tokens] must list at least one token when auth_strategy = static",
    );
  }
  return config;
}

function readBackend(
  sections: Sections,
  name: string,
  host: string,
  zone: string,
  cluster: string | null,
): BackendConfig {
  checkName("DEFAULT", "enabled_backends", name);
  if (!sections[name]) {
    throw new ConfigError(
      `Invalid configuration: [DEFAULT] enabled_backends names "${name}" but there is no [${name}] section`,
    );
  }
  const r = new Reader(sections, name);
  const volumeDriver = readDriver(r);
  const backendHost = r.str("backend_host", host);
  checkName(name, "backend_host", backendHost);
  const volumeBackendName = r.str("volume_backend_name", name);
  checkName(name, "volume_backend_name", volumeBackendName);
  const rawfileDirectory = volumeDriver === "rawfile" ? path.resolve(r.required("rawfile_directory")) : null;
  return {
    section: name,
    serviceHost: `${backendHost}@${name}`,
    clusterName: cluster === null ? null : `${cluster}@${name}`,
    volumeDriver,
    volumeBackendName,
    availabilityZone: r.str("backend_availability_zone", zone),
    reservedPercentage: r.int("reserved_percentage", 0, 0, 100),
    maxOverSubscriptionRatio: r.float("max_over_subscription_ratio", 20),
    rawfileDirectory,
    rawfileNativeMigration: r.bool("rawfile_native_migration", true),
    ssh: readSsh(r, name, sections[name] ?? {}),
    ...readMigrationLimits(r, new Reader(sections, "DEFAULT")),
    options: sections[name] ?? {},
  };
}

function readDriver(r: Reader): DriverName {
  const v = r.required("volume_driver");
  // Accept Cinder's class path for LVM so existing cinder.conf sections work unchanged.
  const alias = v === "cinder.volume.drivers.lvm.LVMVolumeDriver" ? "lvm" : v;
  if (!(DRIVER_NAMES as readonly string[]).includes(alias)) {
    r.fail("volume_driver", v, `must be one of ${DRIVER_NAMES.join(", ")}`);
  }
  return alias as DriverName;
}

function readNova(sections: Sections): NovaConfig | null {
  const r = new Reader(sections, "nova");
  if (!sections["nova"]?.["endpoint_override"]) {
    return null;
  }
  return {
    endpoint: r.url("endpoint_override", "", ["http:", "https:"]).replace(/\/+$/, ""),
    token: r.required("token"),
    timeoutSecs: r.int("timeout", 60),
    swapTimeoutSecs: r.int("swap_timeout_secs", 3600),
  };
}

function readKeystoneAuthtoken(sections: Sections): KeystoneAuthtokenConfig {
  const r = new Reader(sections, "keystone_authtoken");
  // Only password auth is implemented; refuse other plugins rather than ignore their options.
  r.oneOf("auth_type", "password", ["password"] as const);
  const authUrl = r.url("auth_url", r.required("auth_url"), ["http:", "https:"]);
  return {
    authUrl,
    wwwAuthenticateUri: r.url("www_authenticate_uri", authUrl, ["http:", "https:"]),
    username: r.required("username"),
    password: r.required("password"),
    projectName: r.required("project_name"),
    userDomainName: r.str("user_domain_name", "Default"),
    projectDomainName: r.str("project_domain_name", "Default"),
    tokenCacheTime: r.int("token_cache_time", 300, 0),
    httpConnectTimeout: r.int("http_connect_timeout", 5, 1, 300),
  };
}

function readBuiltinKeystone(sections: Sections): BuiltinKeystoneConfig {
  const r = new Reader(sections, "keystone");
  const enabled = r.bool("enabled", false);
  return {
    enabled,
    usersFile: enabled ? path.resolve(r.required("users_file")) : null,
    tokenExpiration: r.int("token_expiration", 3600, 60),
    region: r.str("region", "RegionOne"),
  };
}

function readStaticTokens(sections: Sections): Map<string, StaticToken> {
  const tokens = new Map<string, StaticToken>();
  for (const [token, spec] of Object.entries(sections["static_tokens"] ?? {})) {
    const m = /^([^:\s]+):([^:\s]+):(admin|member)$/.exec(spec);
    if (!m) {
      throw new ConfigError(
        `Invalid configuration: [static_tokens] ${token} = "${spec}": expected <user_id>:<project_id>:<admin|member>`,
      );
    }
    tokens.set(token, { userId: m[1]!, projectId: m[2]!, isAdmin: m[3] === "admin" });
  }
  return tokens;
}
