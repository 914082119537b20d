/** `vms evacuations list|show|pause|resume|cancel`: the evacuations resource (admin only). */
import type { Command } from "commander";

import { connect, type Evacuation } from "./client";
import { printFields, printJson, printTable, text } from "./output";
import { formatBytes, formatEta, formatPercent, formatRate } from "./progress";

function donePercent(e: Evacuation): number | null {
  const total = e.totals["bytes_total"];
  const done = e.totals["bytes_done"];
  if (!total || done === null || done === undefined) {
    return null;
  }
  return Math.round((done * 1000) / total) / 10;
}

/** The items (the plan, or where each volume stands) and the totals. */
export function printPlan(e: Evacuation): void {
  const items = e.items ?? [];
  // Progress columns only once something has moved (a plan has none).
  const moving = items.some((i) => i.progress !== null);
  if (items.length > 0) {
    printTable(
      ["VOLUME", "SIZE", "FROM", "TO", "STATE", ...(moving ? ["DONE", "RATE"] : []), "REASON"],
      items.map((i) => [
        i.volume_id,
        `${i.size} GiB`,
        i.from,
        i.to ?? "-",
        i.state,
        ...(moving
          ? [formatPercent(i.progress?.percent ?? null), formatRate(i.progress?.rate_bps ?? null)]
          : []),
        i.reason ?? "",
      ]),
    );
  }
  const t = e.totals;
  const shortfall = t["shortfall_gb"] ? `, ${t["shortfall_gb"]} GiB without room` : "";
  process.stdout.write(
    `${t["volumes"]} volumes: ${t["pending"]} pending, ${t["running"]} running, ${t["succeeded"]} succeeded, ` +
      `${t["failed"]} failed, ${t["skipped"]} skipped${shortfall}, ${t["cancelled"]} cancelled; ` +
      `${formatBytes(t["bytes_done"])} of ${formatBytes(t["bytes_total"])} moved\n`,
  );
}

function showEvacuation(e: Evacuation): void {
  const report = (e["report"] ?? {}) as Record<string, number | string | null>;
  printFields([
    ["id", text(e.id)],
    ["status", text(e.status)],
    ["source", e.source],
    ["destination", e.destination ? e.destination.join(", ") : "(the scheduler's choice)"],
    ["max_parallel", text(e["max_parallel"])],
    ["max_parallel_per_host", text(e["max_parallel_per_host"])],
    ["max_parallel_per_pool", text(e["max_parallel_per_pool"])],
    ["order", text(e["order"])],
    ["include_in_use", text(e["include_in_use"])],
    ["bandwidth_limit", e["bandwidth_limit"] ? `${text(e["bandwidth_limit"])} MiB/s` : "backend default"],
    ["disabled_services", text(e["disabled_services"])],
    ["progress", `${formatPercent(donePercent(e))}, ETA ${formatEta(e.totals["eta_seconds"] ?? null)}`],
    ["throughput", formatRate((report["throughput_bps"] as number | null) ?? null)],
    ["error", text(e.error)],
    ["created_at", text(e["created_at"])],
    ["finished_at", text(e["finished_at"])],
  ]);
  process.stdout.write("\n");
  printPlan(e);
}

export function registerEvacuations(program: Command): void {
  const evacuations = program
    .command("evacuations")
    .description("list, show, pause, resume and cancel evacuations");

  evacuations
    .command("list")
    .description("evacuations, newest first")
    .option("--json", "print the API's JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const client = await connect(cmd.optsWithGlobals());
      const body = await client.get<{ evacuations: Evacuation[] }>("evacuations");
      if (opts.json) {
        printJson(body);
        return;
      }
      printTable(
        [
          "ID",
          "STATUS",
          "SOURCE",
          "DESTINATION",
          "VOLUMES",
          "SUCCEEDED",
          "FAILED",
          "SKIPPED",
          "DONE",
          "CREATED",
        ],
        body.evacuations.map((e) => [
          text(e.id),
          text(e.status),
          e.source,
          e.destination ? e.destination.join(",") : "-",
          text(e.totals["volumes"]),
          text(e.totals["succeeded"]),
          text(e.totals["failed"]),
          text(e.totals["skipped"]),
          formatPercent(donePercent(e)),
          text(e["created_at"]),
        ]),
      );
    });

  evacuations
    .command("show")
    .description("one evacuation: its limits, each volume and the totals")
    .argument("<id>", "evacuation id")
    .option("--json", "print the API's JSON")
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const client = await connect(cmd.optsWithGlobals());
      const body = await client.get<{ evacuation: Evacuation }>(`evacuations/${encodeURIComponent(id)}`);
      if (opts.json) {
        printJson(body);
      } else {
        showEvacuation(body.evacuation);
      }
    });

  const actions = [
    ["pause", "os-pause", "start no more migrations; running ones go on"],
    ["resume", "os-resume", "start migrations again"],
    ["cancel", "os-cancel", "start nothing more and cancel the running migrations"],
  ] as const;
  for (const [name, action, help] of actions) {
    evacuations
      .command(name)
      .description(help)
      .argument("<id>", "evacuation id")
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const client = await connect(cmd.optsWithGlobals());
        await client.evacuationAction(id, { [action]: {} });
        process.stdout.write(`Evacuation ${id}: ${name} requested.\n`);
      });
  }
}
