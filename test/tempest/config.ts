/**
 * tempest.conf and accounts.yaml for a run against the Keystone stack (clients.md §7):
 * pre-provisioned credentials (one admin, one member) so tempest needs no Keystone admin API,
 * only cinder available, both backends named for the multi-backend tests.
 */
import fs from "node:fs";
import path from "node:path";

import type { KeystoneStack, StackUser } from "./stack";

export interface TempestWorkspace {
  /** TEMPEST_CONFIG_DIR: holds tempest.conf and accounts.yaml. */
  configDir: string;
  /** Where tempest runs (its cwd) and writes tempest.log. */
  dir: string;
}

function account(u: StackUser): string {
  return [
    `- username: ${u.name}`,
    `  project_name: ${u.project}`,
    `  password: "${u.password}"`,
    "  domain_name: Default",
    "  roles:",
    ...u.roles.map((r) => `    - ${r}`),
  ].join("\n");
}

export function writeTempestConfig(stack: KeystoneStack, backends: string[], dir: string): TempestWorkspace {
  const configDir = path.join(dir, "etc");
  fs.mkdirSync(path.join(dir, "lock"), { recursive: true });
  fs.mkdirSync(configDir, { recursive: true });
  const accounts = path.join(configDir, "accounts.yaml");
  fs.writeFileSync(accounts, `${[stack.admin, stack.member, stack.alt].map(account).join("\n")}\n`);
  const conf = {
    DEFAULT: { log_dir: dir, log_file: "tempest.log" },
    auth: {
      use_dynamic_credentials: "False",
      test_accounts_file: accounts,
      default_credentials_domain_name: "Default",
      admin_domain_name: "Default",
    },
    identity: { auth_version: "v3", uri_v3: stack.authUrl, region: "RegionOne" },
    "identity-feature-enabled": { api_v2: "False" },
    service_available: { cinder: "True", nova: "False", glance: "False", neutron: "False", swift: "False" },
    volume: {
      catalog_type: "volumev3",
      region: "RegionOne",
      backend_names: backends.join(","),
      // The raw-file backends answer in a second or two (a 1 GiB copy in a few); fail in well under
      // tempest's default 300 s when a status never comes.
      build_interval: "1",
      build_timeout: "45",
      volume_size: "1",
      // What the raw-file backends report, for the tests that pin a type to them.
      storage_protocol: "file",
      vendor_name: "Open Source",
      // Run the microversioned tests (messages 3.3, limits 3.39, attachments 3.27 …).
      max_microversion: "latest",
    },
    "volume-feature-enabled": {
      multi_backend: "True",
      snapshot: "True",
      backup: "False",
      // os-volume-manage with the raw-file driver's reference: source-name volume-<id>.
      manage_volume: "True",
    },
    oslo_concurrency: { lock_path: path.join(dir, "lock") },
  };
  const text = Object.entries(conf)
    .map(([section, opts]) =>
      [`[${section}]`, ...Object.entries(opts).map(([k, v]) => `${k} = ${v}`)].join("\n"),
    )
    .join("\n\n");
  fs.writeFileSync(path.join(configDir, "tempest.conf"), `${text}\n`);
  return { configDir, dir };
}
