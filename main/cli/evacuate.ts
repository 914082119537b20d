/**
 * `vms evacuate SOURCE`: POST /evacuations (`{"evacuation": {...}}`, only the options given, the
 * service's defaults for the rest). `--dry-run` prints the plan and changes nothing; `--wait`
 * watches it each second, a bar for the total and one per running volume, until it ends: exit 0
 * when `completed`, 1 otherwise, with each failed volume's reason.
 */
import type { Command } from "commander";

import { collect, parseCount, parseCountOrZero } from "./args";
import { connect, ENDED_EVACUATION, type Evacuation, poll, sleep, type VolumeClient } from "./client";
import { printPlan } from "./evacuations";
import { onInterrupt } from "./interrupt";
import { printJson } from "./output";
import { type ProgressView, progressView } from "./progress";

interface EvacuateOptions {
  to?: string[];
  dryRun?: boolean;
  maxParallel?: number;
  maxPerHost?: number;
  maxPerPool?: number;
  maxRetries?: number;
  order?: string;
  includeInUse?: boolean;
  disableSource?: boolean;
  bandwidthLimit?: number;
  wait?: boolean;
  json?: boolean;
}

function requestBody(source: string, o: EvacuateOptions): Record<string, unknown> {
  const e: Record<string, unknown> = { source };
  if (o.to && o.to.length > 0) {
    e["destination"] = o.to.length === 1 ? o.to[0] : o.to;
  }
  const optional: [string, unknown][] = [
    ["dry_run", o.dryRun ? true : undefined],
    ["max_parallel", o.maxParallel],
    ["max_parallel_per_host", o.maxPerHost],
    ["max_parallel_per_pool", o.maxPerPool],
    ["max_retries", o.maxRetries],
    ["order", o.order],
    ["include_in_use", o.includeInUse ? true : undefined],
    ["disable_source", o.disableSource === false ? false : undefined],
    ["bandwidth_limit", o.bandwidthLimit],
  ];
  for (const [k, v] of optional) {
    if (v !== undefined) {
      e[k] = v;
    }
  }
  return { evacuation: e };
}

function sumRates(e: Evacuation): number | null {
  const running = (e.items ?? []).filter((i) => i.state === "running");
  return running.length === 0 ? null : running.reduce((s, i) => s + (i.progress?.rate_bps ?? 0), 0);
}

/** One frame: the total's bar, a bar per running volume, a line per volume that just ended. */
function draw(e: Evacuation, view: ProgressView, shown: Map<string, string>): void {
  const t = e.totals;
  const ended = (t["succeeded"] ?? 0) + (t["failed"] ?? 0) + (t["skipped"] ?? 0) + (t["cancelled"] ?? 0);
  view.update("total", {
    label: `total: ${ended}/${t["volumes"]} ended, ${t["running"]} running, ${t["failed"]} failed`,
    state: e.status ?? "-",
    percent: t["bytes_total"] ? Math.round(((t["bytes_done"] ?? 0) * 1000) / t["bytes_total"]) / 10 : null,
    rateBps: sumRates(e),
    etaSeconds: t["eta_seconds"] ?? null,
  });
  for (const i of e.items ?? []) {
    const was = shown.get(i.volume_id);
    if (i.state === "running") {
      shown.set(i.volume_id, i.state);
      view.update(i.volume_id, {
        label: `${i.volume_id.slice(0, 8)} → ${i.to ?? "?"}`,
        state: i.state,
        percent: i.progress?.percent ?? null,
        rateBps: i.progress?.rate_bps ?? null,
        etaSeconds: i.progress?.eta_seconds ?? null,
      });
    } else if (was === "running") {
      shown.set(i.volume_id, i.state);
      view.remove(i.volume_id);
      view.log(`volume ${i.volume_id}: ${i.state}${i.reason ? ` (${i.reason})` : ""}`);
    }
  }
}

async function watch(client: VolumeClient, first: Evacuation, view: ProgressView): Promise<Evacuation> {
  const id = first.id!;
  const stopAsking = onInterrupt({
    question: "cancel the evacuation? [y/N] ",
    view,
    cancel: () => client.evacuationAction(id, { "os-cancel": {} }),
    leaving: `the evacuation goes on in the service; to stop it: vms evacuations cancel ${id}`,
  });
  const shown = new Map<string, string>();
  try {
    let cur = first;
    for (;;) {
      draw(cur, view, shown);
      if (cur.status && ENDED_EVACUATION.has(cur.status)) {
        return cur;
      }
      await sleep(1000);
      cur = await poll(() => client.evacuation(id));
    }
  } finally {
    stopAsking();
    view.stop();
  }
}

async function evacuate(source: string, o: EvacuateOptions, cmd: Command): Promise<number> {
  const client = await connect(cmd.optsWithGlobals());
  const body = await client.post<{ evacuation: Evacuation }>("evacuations", requestBody(source, o));
  const e = body.evacuation;
  if (o.dryRun || !o.wait) {
    if (o.json) {
      printJson(body);
      return 0;
    }
    process.stdout.write(
      o.dryRun
        ? `Plan to evacuate ${source} (nothing changed):\n`
        : `Evacuation ${e.id} of ${source}: ${e.status}\n`,
    );
    printPlan(e);
    if (!o.dryRun) {
      process.stdout.write(`Watch it with: vms evacuations show ${e.id}\n`);
    }
    return 0;
  }
  // With --json the JSON alone goes to stdout; the progress goes to stderr.
  const out = o.json ? process.stderr : process.stdout;
  out.write(`Evacuation ${e.id} of ${source}: ${e.status}, ${e.totals["volumes"]} volumes\n`);
  const end = await watch(client, e, progressView(out));
  if (o.json) {
    printJson({ evacuation: end });
  } else {
    printPlan(end);
    process.stdout.write(`Evacuation ${end.id}: ${end.status}${end.error ? ` (${end.error})` : ""}\n`);
  }
  return end.status === "completed" ? 0 : 1;
}

export function registerEvacuate(program: Command): void {
  program
    .command("evacuate")
    .description("move every volume off a host, backend, pool or cluster")
    .argument("<source>", "host, host@backend, host@backend#pool or cluster")
    .option("--to <dest>", "where volumes may go (repeatable); default: the scheduler's choice", collect)
    .option("--dry-run", "print the plan and change nothing")
    .option("--max-parallel <n>", "migrations at once, in all", parseCount)
    .option("--max-per-host <n>", "migrations at once per source host", parseCount)
    .option("--max-per-pool <n>", "migrations at once per destination pool", parseCount)
    .option("--max-retries <n>", "tries again of a failed volume", parseCountOrZero)
    .option("--order <order>", "smallest_first, largest_first or oldest_first")
    .option("--include-in-use", "also move attached volumes (through Nova)")
    .option("--no-disable-source", "leave the source's services enabled")
    .option("--bandwidth-limit <mib>", "MiB/s of each migration's copy (an integer)", parseCount)
    .option("--wait", "watch it until it ends; exit 0 when completed")
    .option("--json", "print the API's JSON")
    .action(async (source: string, opts: EvacuateOptions, cmd: Command) => {
      process.exitCode = await evacuate(source, opts, cmd);
    });
}
