import type { BackendConfig } from "../../common/config";
import { type Logger, silentLogger } from "../../common/logger";
import { LocalRunner } from "./local";
import { SshRunner } from "./ssh";
import type { CommandRunner, RunnerSpec, SshRunnerSpec } from "./types";

export { LocalRunner } from "./local";
export { quoteArgv } from "./quote";
export { SshRunner, type SshRunnerOptions } from "./ssh";
export * from "./types";

/**
 * Builds (and caches) runners from specs that other workers send over the bus: one LocalRunner,
 * and one SshRunner (so one SSH connection) per host, port and user.
 */
export class RunnerFactory {
  private readonly local = new LocalRunner();
  private readonly ssh = new Map<string, { spec: SshRunnerSpec; runner: SshRunner }>();
  private readonly logger: Logger;

  constructor(deps: { logger?: Logger } = {}) {
    this.logger = deps.logger ?? silentLogger();
  }

  get(spec: RunnerSpec): CommandRunner {
    switch (spec.kind) {
      case "local":
        return this.local;
      case "ssh":
        return this.sshRunner(spec);
      default: {
        const never: never = spec;
        throw new Error(`Unknown runner kind: ${String((never as { kind: unknown }).kind)}`);
      }
    }
  }

  async close(): Promise<void> {
    const runners = [...this.ssh.values()].map((e) => e.runner);
    this.ssh.clear();
    await Promise.all([this.local.close(), ...runners.map((r) => r.close())]);
  }

  private sshRunner(spec: SshRunnerSpec): SshRunner {
    const key = `${spec.host}:${spec.port}:${spec.username}`;
    const cached = this.ssh.get(key);
    if (cached) {
      if (!sameCredentials(cached.spec, spec)) {
        // Two workers disagree on how to reach one host; the connection already made is kept.
        this.logger.warn({ where: cached.runner.where }, "ssh runner spec differs from the cached one");
      }
      return cached.runner;
    }
    const runner = new SshRunner({
      host: spec.host,
      port: spec.port,
      username: spec.username,
      privateKey: spec.privateKeyPath,
      knownHostsFile: spec.knownHostsFile,
      hostKeySha256: spec.hostKeySha256,
      readyTimeoutMs: spec.connectTimeoutMs ?? 20_000,
      logger: this.logger.child({ runner: `${spec.username}@${spec.host}:${spec.port}` }),
    });
    this.ssh.set(key, { spec, runner });
    return runner;
  }
}

function sameCredentials(a: SshRunnerSpec, b: SshRunnerSpec): boolean {
  return (
    a.privateKeyPath === b.privateKeyPath &&
    a.knownHostsFile === b.knownHostsFile &&
    a.hostKeySha256 === b.hostKeySha256
  );
}

/** Where a backend's commands run: its `ssh_*` storage host, or this machine. */
export function runnerSpecFor(backend: Pick<BackendConfig, "ssh">): RunnerSpec {
  const ssh = backend.ssh;
  if (ssh === null) {
    return { kind: "local" };
  }
  return {
    kind: "ssh",
    host: ssh.host,
    port: ssh.port,
    username: ssh.username,
    privateKeyPath: ssh.privateKey,
    // Only the set one is included: the spec is JSON on the bus, where undefined keys vanish anyway.
    ...(ssh.knownHostsFile !== null ? { knownHostsFile: ssh.knownHostsFile } : {}),
    ...(ssh.hostKeySha256 !== null ? { hostKeySha256: ssh.hostKeySha256 } : {}),
    connectTimeoutMs: ssh.connectTimeoutSecs * 1000,
  };
}
