/**
 * `vms migrate VOLUME HOST`: POST os-migrate_volume as cinderclient does, then find the migration
 * record it created (the newest one of the volume not there before); with `--bandwidth-limit` set
 * its copy limit, with `--wait` watch it each second until it ends: exit 0 once the volume has
 * moved, 1 with the migration's error otherwise.
 */
import type { Command } from "commander";

import { mibToBps, parseMib } from "./args";
import { connect, FINISHED_MIGRATION, type Migration, poll, sleep, type VolumeClient } from "./client";
import { CliError } from "./errors";
import { onInterrupt } from "./interrupt";
import { formatBytes, type ProgressView, progressView } from "./progress";

interface MigrateOptions {
  wait?: boolean;
  bandwidthLimit?: number;
  forceHostCopy?: boolean;
  lockVolume?: boolean;
}

async function findNew(client: VolumeClient, volumeId: string, known: Set<string>): Promise<Migration> {
  for (let i = 0; i < 20; i++) {
    const m = (await client.listMigrations({ volumeId })).find((x) => !known.has(x.id));
    if (m) {
      return m;
    }
    await sleep(250);
  }
  throw new CliError(`the migration of volume ${volumeId} was accepted but its record did not appear`);
}

/** Watches one migration until it is `success` or `error`; returns its last state. */
export async function watchMigration(
  client: VolumeClient,
  m: Migration,
  label: string,
  view: ProgressView,
): Promise<Migration> {
  const stopAsking = onInterrupt({
    question: "cancel the migration? [y/N] ",
    view,
    cancel: () => client.migrationAction(m.id, { cancel: {} }),
    leaving: `the migration goes on in the service; to stop it: vms migrations cancel ${m.id}`,
  });
  try {
    let cur = m;
    for (;;) {
      const p = cur.progress;
      view.update(cur.id, {
        label,
        state: cur.state,
        percent: p.percent,
        rateBps: p.rate_bps,
        etaSeconds: p.eta_seconds,
      });
      if (FINISHED_MIGRATION.has(cur.state)) {
        return cur;
      }
      await sleep(1000);
      cur = await poll(() => client.migration(m.id));
    }
  } finally {
    stopAsking();
    view.stop();
  }
}

async function migrate(volumeId: string, host: string, opts: MigrateOptions, cmd: Command): Promise<number> {
  const client = await connect(cmd.optsWithGlobals());
  const known = new Set((await client.listMigrations({ volumeId })).map((m) => m.id));
  await client.post(`volumes/${encodeURIComponent(volumeId)}/action`, {
    "os-migrate_volume": {
      host,
      force_host_copy: opts.forceHostCopy === true,
      lock_volume: opts.lockVolume === true,
    },
  });
  if (!opts.wait && opts.bandwidthLimit === undefined) {
    process.stdout.write(`Migration of volume ${volumeId} to ${host} requested.\n`);
    return 0;
  }
  const m = await findNew(client, volumeId, known);
  process.stdout.write(`Migration ${m.id} of volume ${volumeId} to ${host}: ${m.state}\n`);
  if (opts.bandwidthLimit !== undefined) {
    try {
      await client.migrationAction(m.id, { set_bandwidth_limit: { bps: mibToBps(opts.bandwidthLimit) } });
    } catch (err) {
      process.stderr.write(`WARNING: the bandwidth limit was not set: ${(err as Error).message}\n`);
    }
  }
  if (!opts.wait) {
    process.stdout.write(`Watch it with: vms migrations show ${m.id}\n`);
    return 0;
  }
  const end = await watchMigration(client, m, `${volumeId.slice(0, 8)} → ${host}`, progressView());
  if (end.state === "success") {
    const sum = end.checksums.dest ? `, sha256 ${end.checksums.dest.slice(0, 16)}…` : "";
    process.stdout.write(
      `Volume ${volumeId} migrated to ${end.dest_host ?? host} (${formatBytes(end.progress.bytes_done)} copied${sum}).\n`,
    );
    return 0;
  }
  process.stderr.write(
    `ERROR: migration ${end.id} of volume ${volumeId} failed: ${end.error ?? "no reason recorded"}\n`,
  );
  return 1;
}

export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description("migrate a volume to another pool (as cinder migrate)")
    .argument("<volume>", "volume id")
    .argument("<host>", "destination host@backend#pool")
    .option("--wait", "watch it until it ends; exit 0 on success, 1 with the reason on failure")
    .option("--bandwidth-limit <mib>", "MiB/s of this migration's copy", parseMib)
    .option("--force-host-copy", "copy through the hosts even when the driver could move it itself")
    .option("--lock-volume", "refuse other actions on the volume while it moves")
    .action(async (volume: string, host: string, opts: MigrateOptions, cmd: Command) => {
      process.exitCode = await migrate(volume, host, opts, cmd);
    });
}
