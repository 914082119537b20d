/** The figures: computed from the runs, printed as a table with the targets, and as JSON. */
import type { EngineRef, EngineRun } from "./engine";
import type { HostFigures } from "./hostParts";
import { buildHostReport, HOST_TARGETS, hostEngineRuns, type HostKey, hostRows } from "./hostReport";
import type { LabFigures } from "./labParts";
import { median, MIB } from "./measure";
import type { XhostFigures } from "./xhost";

export interface RunInfo {
  engine: EngineRef;
  repeat: number;
  requestedMib: number;
  labMib: number | null;
  hostMib: number | null;
  xhostMib: number | null;
  notes: string[];
}

type Key =
  | "lab_dense_stream_ratio"
  | "lab_dense_verified_ratio"
  | "lab_sparse_thin_ratio"
  | "xhost_mixed_speedup"
  | "xhost_random_ratio"
  | "rss_mb";

/** Targets for the table only (not asserted). */
const TARGETS: Record<Key, { op: "≤" | "≥" | "<"; value: number }> = {
  lab_dense_stream_ratio: { op: "≤", value: 1.05 },
  lab_dense_verified_ratio: { op: "≤", value: 0.6 },
  lab_sparse_thin_ratio: { op: "≤", value: 0.2 },
  xhost_mixed_speedup: { op: "≥", value: 4 },
  xhost_random_ratio: { op: "≥", value: 0.9 },
  rss_mb: { op: "<", value: 150 },
};

const secs = (runs: readonly EngineRun[]): number[] => runs.map((r) => r.seconds);
const mbps = (mib: number | null, s: number): number => ((mib ?? NaN) * MIB) / 1e6 / s;
const chosen = (runs: readonly EngineRun[]): string | null =>
  runs[0] ? `${runs[0].result.compression ?? "?"}/${runs[0].result.transport ?? "?"}` : null;
const round = (x: number, digits = 3): number | null =>
  Number.isFinite(x) ? Number(x.toFixed(digits)) : null;

export function buildReport(
  info: RunInfo,
  lab: LabFigures | null,
  x: XhostFigures | null,
  host: HostFigures | null = null,
): Record<string, unknown> {
  const dd = median(lab?.ddSeconds ?? []);
  const ddSha = median(lab?.ddShaSeconds ?? []);
  const dense = median(secs(lab?.dense ?? []));
  const denseStream = median(secs(lab?.denseStream ?? []));
  const sparse = median(secs(lab?.sparse ?? []));
  const mixedBase = median(x?.mixed.baselineSeconds ?? []);
  const mixed = median(secs(x?.mixed.engine ?? []));
  const randomBase = median(x?.random.baselineSeconds ?? []);
  const random = median(secs(x?.random.engine ?? []));
  const full = [
    ...(lab?.dense ?? []),
    ...(lab?.denseStream ?? []),
    ...(lab?.sparse ?? []),
    ...(x?.mixed.engine ?? []),
    ...(x?.random.engine ?? []),
    ...hostEngineRuns(host),
  ];
  const hostReport = buildHostReport(host, info.hostMib);
  const rss = full.length > 0 ? Math.max(...full.map((r) => r.maxRssMib)) : NaN;
  const rssFull = Math.max(...(x?.random.engine ?? []).map((r) => r.maxRssMib));
  const figures: Record<Key, number | null> = {
    lab_dense_stream_ratio: round(denseStream / dd),
    lab_dense_verified_ratio: round(dense / ddSha),
    lab_sparse_thin_ratio: round(sparse / dd),
    xhost_mixed_speedup: round(mixedBase / mixed),
    xhost_random_ratio: round(randomBase / random),
    rss_mb: round(rss, 1),
  };
  return {
    ...hostReport.figures,
    ...figures,
    sizes_mib: { requested: info.requestedMib, host: info.hostMib, lab: info.labMib, xhost: info.xhostMib },
    notes: info.notes,
    errors: [...(host?.errors ?? []), ...(lab?.errors ?? []), ...(x?.errors ?? [])],
    statistic: `median of ${info.repeat}`,
    engine: `${info.engine.className} (${info.engine.module.replace(/^.*\/services\//, "services/")}.ts)`,
    seconds: {
      dd_lv_to_lv: lab?.ddSeconds ?? [],
      dd_sha256sum_lv_to_lv: lab?.ddShaSeconds ?? [],
      engine_dense_stream: secs(lab?.denseStream ?? []),
      engine_dense: secs(lab?.dense ?? []),
      engine_sparse: secs(lab?.sparse ?? []),
      ssh_gzip_mixed: x?.mixed.baselineSeconds ?? [],
      engine_mixed: secs(x?.mixed.engine ?? []),
      ssh_cat_random: x?.random.baselineSeconds ?? [],
      engine_random: secs(x?.random.engine ?? []),
    },
    mb_per_s: {
      dd_lv_to_lv: round(mbps(info.labMib, dd), 1),
      dd_sha256sum_lv_to_lv: round(mbps(info.labMib, ddSha), 1),
      engine_dense_stream: round(mbps(info.labMib, denseStream), 1),
      engine_dense: round(mbps(info.labMib, dense), 1),
      engine_sparse_effective: round(mbps(info.labMib, sparse), 1),
      ssh_gzip_mixed: round(mbps(info.xhostMib, mixedBase), 1),
      engine_mixed: round(mbps(info.xhostMib, mixed), 1),
      ssh_cat_random: round(mbps(info.xhostMib, randomBase), 1),
      engine_random: round(mbps(info.xhostMib, random), 1),
    },
    compression_transport: {
      dense: chosen(lab?.dense ?? []),
      sparse: chosen(lab?.sparse ?? []),
      mixed: chosen(x?.mixed.engine ?? []),
      random: chosen(x?.random.engine ?? []),
    },
    rss_by_size_mib: [
      ...(x?.rssBySize ?? []).map((r) => ({ size_mib: r.sizeMib, rss_mb: round(r.maxRssMib, 1) })),
      ...(Number.isFinite(rssFull) ? [{ size_mib: info.xhostMib, rss_mb: round(rssFull, 1) }] : []),
    ],
    rss_before_copy_mb: round(Math.max(...full.map((r) => r.rssBeforeMib)), 1),
    sparse_allocated_percent: {
      source: lab?.sparseSourcePercent ?? null,
      dest: lab?.sparseDestPercent ?? [],
    },
    host: hostReport.detail,
    xhost_volumes: x ? (x.plainFiles ? "plain files (no losetup)" : "loop devices, direct I/O") : null,
    targets: Object.fromEntries(
      Object.entries({ ...HOST_TARGETS, ...TARGETS }).map(([k, t]) => [k, `${t.op} ${t.value}`]),
    ),
  };
}

function meets(key: Key | HostKey, v: number | null): string {
  if (v === null) {
    return "–";
  }
  const t = target(key);
  const ok = t.op === "≤" ? v <= t.value : t.op === "≥" ? v >= t.value : v < t.value;
  return ok ? "✓" : "✗";
}

const target = (key: Key | HostKey): { op: string; value: number } =>
  key in HOST_TARGETS ? HOST_TARGETS[key as HostKey] : TARGETS[key as Key];

export function formatTable(report: Record<string, unknown>): string {
  const r = report as Record<Key | HostKey, number | null> & {
    seconds: Record<string, number[]>;
    mb_per_s: Record<string, number | null>;
    compression_transport: Record<string, string | null>;
    rss_by_size_mib: { size_mib: number; rss_mb: number }[];
    sizes_mib: { host: number | null; lab: number | null; xhost: number | null };
    notes: string[];
    errors: string[];
    statistic: string;
    engine: string;
  };
  const s = (k: string): string => {
    const m = median(r.seconds[k] ?? []);
    return Number.isFinite(m) ? `${m.toFixed(2)} s` : "–";
  };
  const rate = (k: string): string => `${r.mb_per_s[k] ?? "–"} MB/s`;
  const rows: [Key | HostKey, string][] = [
    ...hostRows(report),
    [
      "lab_dense_stream_ratio",
      `engine verify=stream ${s("engine_dense_stream")} (${rate("engine_dense_stream")}, ${r.compression_transport["dense"] ?? "–"}) / dd ${s("dd_lv_to_lv")} (${rate("dd_lv_to_lv")})`,
    ],
    [
      "lab_dense_verified_ratio",
      `engine verify=readback ${s("engine_dense")} (${rate("engine_dense")}) / dd+2×sha256sum ${s("dd_sha256sum_lv_to_lv")}`,
    ],
    [
      "lab_sparse_thin_ratio",
      `engine ${s("engine_sparse")} on 10%-written thin LV (${r.compression_transport["sparse"] ?? "–"}) / dd ${s("dd_lv_to_lv")}`,
    ],
    [
      "xhost_mixed_speedup",
      `ssh+gzip -1 ${s("ssh_gzip_mixed")} (${rate("ssh_gzip_mixed")}) / engine ${s("engine_mixed")} (${rate("engine_mixed")}, ${r.compression_transport["mixed"] ?? "–"})`,
    ],
    [
      "xhost_random_ratio",
      `ssh cat ${s("ssh_cat_random")} (${rate("ssh_cat_random")}) / engine ${s("engine_random")} (${rate("engine_random")}, ${r.compression_transport["random"] ?? "–"})`,
    ],
    [
      "rss_mb",
      `peak RSS of the copying process; by size: ${r.rss_by_size_mib.map((x) => `${x.size_mib} MiB → ${x.rss_mb}`).join(", ") || "–"}`,
    ],
  ];
  const lines = [
    `engine ${r.engine}; sizes: host ${r.sizes_mib.host ?? "–"} MiB, lab ${r.sizes_mib.lab ?? "–"} MiB, cross-host ${r.sizes_mib.xhost ?? "–"} MiB; ${r.statistic}`,
    "",
    `${"metric".padEnd(25)} ${"value".padStart(8)}  ${"target".padEnd(7)} ok  detail`,
  ];
  for (const [key, detail] of rows) {
    const t = target(key);
    lines.push(
      `${key.padEnd(25)} ${String(r[key] ?? "–").padStart(8)}  ${`${t.op} ${t.value}`.padEnd(7)} ${meets(key, r[key])}   ${detail}`,
    );
  }
  return [...lines, ...r.notes.map((n) => `note: ${n}`), ...r.errors.map((e) => `FAILED ${e}`)].join("\n");
}
