/** `vms migrations list|show|cancel|limit`: the migrations resource (admin only). */
import type { Command } from "commander";

import { mibToBps, parseLimit } from "./args";
import { connect, type Migration } from "./client";
import { printFields, printJson, printTable, text } from "./output";
import { formatBytes, formatEta, formatPercent, formatRate } from "./progress";

function short(s: string | null, n: number): string {
  if (!s) {
    return "-";
  }
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function listRow(m: Migration): string[] {
  const p = m.progress;
  return [
    m.id,
    m.volume_id,
    m.state,
    m.flow ?? "-",
    m.source_host,
    m.dest_host ?? m.requested_dest,
    formatPercent(p.percent),
    formatRate(p.rate_bps),
    formatEta(p.eta_seconds),
    short(m.error, 60),
  ];
}

export function showMigration(m: Migration): void {
  const p = m.progress;
  printFields([
    ["id", m.id],
    ["volume_id", m.volume_id],
    ["kind", m.kind],
    ["state", m.state],
    ["flow", text(m.flow)],
    ["source_host", m.source_host],
    ["requested_dest", m.requested_dest],
    ["dest_host", text(m.dest_host)],
    [
      "progress",
      `${formatPercent(p.percent)} (${formatBytes(p.bytes_done)} of ${formatBytes(p.bytes_total)})`,
    ],
    ["rate", formatRate(p.rate_bps)],
    ["eta", formatEta(p.eta_seconds)],
    // The effective limit: the migration's own, else its backend's volume_copy_bps_limit.
    ["bandwidth_limit", m.bps_limit === null ? "none" : `${(m.bps_limit / 1048576).toFixed(1)} MiB/s`],
    ["transport", text(m["transport"])],
    ["compression", text(m["compression"])],
    ["source_checksum", text(m.checksums.source)],
    ["dest_checksum", text(m.checksums.dest)],
    ["queue_position", text(m["queue_position"])],
    ["error", text(m.error)],
    ["created_at", m.created_at],
    ["started_at", text(m["started_at"])],
    ["finished_at", text(m.finished_at)],
    ["cancel_requested_at", text(m["cancel_requested_at"])],
  ]);
}

export function registerMigrations(program: Command): void {
  const migrations = program.command("migrations").description("list, show, cancel and limit migrations");

  migrations
    .command("list")
    .description("migrations, newest first")
    .option("--active", "only those not finished")
    .option("--volume <id>", "only those of one volume")
    .option("--json", "print the API's JSON")
    .action(async (opts: { active?: boolean; volume?: string; json?: boolean }, cmd: Command) => {
      const client = await connect(cmd.optsWithGlobals());
      const q = new URLSearchParams();
      if (opts.active) {
        q.set("active", "true");
      }
      if (opts.volume) {
        q.set("volume_id", opts.volume);
      }
      const qs = q.toString();
      const body = await client.get<{ migrations: Migration[] }>(`migrations${qs ? `?${qs}` : ""}`);
      if (opts.json) {
        printJson(body);
        return;
      }
      printTable(
        ["ID", "VOLUME", "STATE", "FLOW", "FROM", "TO", "DONE", "RATE", "ETA", "ERROR"],
        body.migrations.map(listRow),
      );
    });

  migrations
    .command("show")
    .description("one migration with its progress, checksums and error")
    .argument("<id>", "migration id")
    .option("--json", "print the API's JSON")
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const client = await connect(cmd.optsWithGlobals());
      const body = await client.get<{ migration: Migration }>(`migrations/${encodeURIComponent(id)}`);
      if (opts.json) {
        printJson(body);
      } else {
        showMigration(body.migration);
      }
    });

  migrations
    .command("cancel")
    .description("stop a migration (honoured within about 2 s until it is completing)")
    .argument("<id>", "migration id")
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const client = await connect(cmd.optsWithGlobals());
      await client.migrationAction(id, { cancel: {} });
      process.stdout.write(`Cancel of migration ${id} requested.\n`);
    });

  migrations
    .command("limit")
    .description("set a migration's copy bandwidth; null or 0 for the backend's default")
    .argument("<id>", "migration id")
    .argument("<mib>", "MiB/s, or null/0 for the backend's volume_copy_bps_limit", parseLimit)
    .action(async (id: string, mib: number | null, _opts: unknown, cmd: Command) => {
      const client = await connect(cmd.optsWithGlobals());
      await client.migrationAction(id, { set_bandwidth_limit: { bps: mib === null ? null : mibToBps(mib) } });
      process.stdout.write(
        mib === null
          ? `Migration ${id} copies at its backend's default limit.\n`
          : `Migration ${id} limited to ${mib} MiB/s.\n`,
      );
    });
}
