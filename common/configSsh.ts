/**
 * A backend's `ssh_*` options: the storage host its commands run on over SSH. Without `ssh_host`
 * the backend's commands run on the worker's own machine.
 */
import path from "node:path";

import type { Reader } from "./configReader";
import { ConfigError } from "./errors";

export interface SshBackendConfig {
  /** `ssh_host`: host name or IP address of the storage host. */
  host: string;
  /** `ssh_port`. @defaultValue 22 */
  port: number;
  /** `ssh_user`. @defaultValue "root" */
  username: string;
  /** `ssh_private_key`: absolute path of the private key file (public-key auth only). */
  privateKey: string;
  /** `ssh_known_hosts`: absolute path of an OpenSSH known_hosts file; or null when pinned. */
  knownHostsFile: string | null;
  /** `ssh_host_key_sha256`: the pinned host key fingerprint (`SHA256:…`); or null. */
  hostKeySha256: string | null;
  /** `ssh_connect_timeout`: seconds for the TCP connect, handshake and authentication. @defaultValue 20 */
  connectTimeoutSecs: number;
}

const SSH_KEYS = [
  "ssh_host",
  "ssh_port",
  "ssh_user",
  "ssh_private_key",
  "ssh_known_hosts",
  "ssh_host_key_sha256",
  "ssh_connect_timeout",
];

export function readSsh(
  r: Reader,
  section: string,
  options: Readonly<Record<string, string>>,
): SshBackendConfig | null {
  const set = Object.keys(options).filter((k) => k.startsWith("ssh_") && options[k] !== "");
  // A misspelt option would otherwise be ignored and the backend silently run commands locally.
  const unknown = set.find((k) => !SSH_KEYS.includes(k));
  if (unknown !== undefined) {
    throw new ConfigError(
      `Invalid configuration: [${section}] ${unknown} is not an option; the SSH options are ${SSH_KEYS.join(", ")}`,
    );
  }
  if (r.str("ssh_host", "") === "") {
    if (set.length > 0) {
      throw new ConfigError(`Invalid configuration: [${section}] ${set[0]} is set but ssh_host is not`);
    }
    return null;
  }
  const knownHosts = r.str("ssh_known_hosts", "");
  const pinned = r.str("ssh_host_key_sha256", "");
  if ((knownHosts === "") === (pinned === "")) {
    // Never accept a host key unchecked: that is what lets an impostor receive a volume's data.
    throw new ConfigError(
      `Invalid configuration: [${section}] set exactly one of ssh_known_hosts and ssh_host_key_sha256`,
    );
  }
  return {
    host: r.match("ssh_host", "", /^(?!-)[A-Za-z0-9._:-]{1,253}$/, "a host name or IP address"),
    port: r.int("ssh_port", 22, 1, 65535),
    username: r.match("ssh_user", "root", /^[A-Za-z_][A-Za-z0-9._-]{0,31}$/, "a user name"),
    privateKey: path.resolve(r.required("ssh_private_key")),
    knownHostsFile: knownHosts === "" ? null : path.resolve(knownHosts),
    hostKeySha256:
      pinned === ""
        ? null
        : r.match(
            "ssh_host_key_sha256",
            "",
            /^SHA256:[A-Za-z0-9+/]{43}$/,
            "SHA256:<43 base64 characters>, as ssh-keygen -lf prints it",
          ),
    connectTimeoutSecs: r.int("ssh_connect_timeout", 20, 1, 600),
  };
}
