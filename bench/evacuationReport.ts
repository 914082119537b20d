/** The evacuation's figures (evacuation.ts): issue 11's targets, a table, and the JSON. */
import type { EvacuationFigures } from "./evacuation";
import { median } from "./measure";

type Key = "plan_seconds" | "volumes_per_minute" | "bookkeeping_percent";

/** Targets for the table only (not asserted); issue 11 item 5. volumes_per_minute has none. */
const TARGETS: Record<Key, { op: "<"; value: number } | null> = {
  plan_seconds: { op: "<", value: 2 },
  volumes_per_minute: null,
  bookkeeping_percent: { op: "<", value: 5 },
};

const round = (x: number, digits = 3): number | null =>
  Number.isFinite(x) ? Number(x.toFixed(digits)) : null;

export function buildEvacuationReport(f: EvacuationFigures): Record<string, unknown> {
  const errors: string[] = [];
  if (f.status !== "completed" || f.succeeded !== f.volumes) {
    errors.push(`the evacuation ended ${f.status} with ${f.succeeded}/${f.volumes} volumes moved`);
  }
  if (f.verified !== f.volumes) {
    errors.push(`${f.verified}/${f.volumes} volumes read back their data on the destination`);
  }
  if (f.planned_items !== f.volumes) {
    errors.push(`the dry run planned ${f.planned_items} of ${f.volumes} volumes`);
  }
  // The API's own duration (first start to finished_at) when it has one; the bench's wall time
  // (POST to the ended status seen, up to one watch interval later) otherwise.
  const runSeconds = f.run_report_seconds ?? f.run_wall_seconds;
  return {
    plan_seconds: round(median(f.plan_api_seconds)),
    volumes_per_minute: round((f.succeeded * 60) / runSeconds, 1),
    // Over the bench's wall time: the ticks it counts are the ones inside that same window.
    bookkeeping_percent: round((100 * f.ticks.total_seconds) / f.run_wall_seconds, 2),
    evacuation: {
      ...f,
      plan_call_median_seconds: round(median(f.plan_call_seconds)),
      run_seconds: runSeconds,
      bookkeeping:
        "wall time of the evacuation driver's ticks (lease, settling items, starting migrations through " +
        "os-migrate_volume's path, ending) between the POST and the end, over that time; an upper bound: " +
        "a tick's awaits also wait for the copies and workers sharing the process and PGlite",
    },
    errors,
  };
}

function meets(key: Key, v: unknown): string {
  const t = TARGETS[key];
  if (t === null || typeof v !== "number") {
    return "  ";
  }
  return v < t.value ? "✓ " : "✗ ";
}

export function formatEvacuationTable(r: Record<string, unknown>): string {
  const e = r["evacuation"] as EvacuationFigures & {
    plan_call_median_seconds: number | null;
    run_seconds: number;
  };
  const l = e.load_average_1m;
  const plans = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(", ");
  const rows: [Key, string][] = [
    [
      "plan_seconds",
      `dry run of ${e.planned_items} volumes, POST round trip (median of ${plans(e.plan_api_seconds)} s); the plan call alone ${e.plan_call_median_seconds ?? "–"} s (load ${l.plan})`,
    ],
    [
      "volumes_per_minute",
      `${e.succeeded}/${e.volumes} moved in ${e.run_seconds} s, caps ${e.parallel}/${e.parallel}/${e.parallel} (load ${l.run_start} → ${l.run_end})`,
    ],
    [
      "bookkeeping_percent",
      `${e.ticks.count} driver ticks, ${e.ticks.total_seconds.toFixed(1)} s of ${e.run_wall_seconds} s (median ${e.ticks.median_ms} ms, max ${e.ticks.max_ms} ms)`,
    ],
  ];
  const lines = [
    `evacuation of ${e.volumes} volumes (1 GiB sparse raw files, 1 MiB written) from demo@file-1 to demo@file-2, embedded default; made in ${e.create_seconds} s`,
    "",
    `${"metric".padEnd(20)} ${"value".padStart(8)}  ${"target".padEnd(7)} ok  detail`,
  ];
  for (const [key, detail] of rows) {
    const t = TARGETS[key];
    lines.push(
      `${key.padEnd(20)} ${String(r[key] ?? "–").padStart(8)}  ${(t ? `${t.op} ${t.value}` : "").padEnd(7)} ${meets(key, r[key])}  ${detail}`,
    );
  }
  return [...lines, ...(r["errors"] as string[]).map((x) => `FAILED ${x}`)].join("\n");
}
