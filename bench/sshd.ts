/**
 * The two OpenSSH servers the cross-host benchmark copies between: the test suite's own loopback
 * sshd (test/integration/exec.sshd.ts: fresh host and client keys, killed by pid with every
 * connection it serves), seen as a runner spec for the engine and as OpenSSH client arguments for
 * the baselines.
 */
import type { SshRunnerSpec } from "../drivers/exec";
import { startSshd as startTestSshd } from "../test/integration/exec.sshd";

export interface BenchSshd {
  readonly name: string;
  readonly spec: SshRunnerSpec;
  /** The server's authorized_keys (where a host-to-host copy installs its one-copy key). */
  readonly authorizedKeysFile: string;
  /** OpenSSH client options and destination (`… root@127.0.0.1`) for the baselines. */
  readonly clientArgs: readonly string[];
  stop(): Promise<void>;
}

/** Starts a loopback `sshd -D` called NAME (its files live in its own temp dir). */
export async function startSshd(name: string): Promise<BenchSshd> {
  const sshd = await startTestSshd();
  const knownHosts = sshd.write("known_hosts", `${sshd.knownHostsLine("ed25519")}\n`);
  const port = String(sshd.port);
  return {
    name,
    spec: {
      kind: "ssh",
      host: "127.0.0.1",
      port: sshd.port,
      username: sshd.username,
      privateKeyPath: sshd.clientKey,
      knownHostsFile: knownHosts,
    },
    authorizedKeysFile: `${sshd.dir}/authorized_keys`,
    clientArgs: [
      ...["-i", sshd.clientKey, "-p", port, "-o", `UserKnownHostsFile=${knownHosts}`],
      ...["-o", "StrictHostKeyChecking=yes", "-o", "GlobalKnownHostsFile=/dev/null", "-o", "BatchMode=yes"],
      ...["-o", "LogLevel=ERROR", `${sshd.username}@127.0.0.1`],
    ],
    stop: () => sshd.cleanup(),
  };
}
