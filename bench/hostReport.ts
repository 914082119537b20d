/** The same-host figures of this machine (hostParts.ts): ratios, their targets, and table rows. */
import type { EngineRun } from "./engine";
import type { HostFigures, HostRun } from "./hostParts";
import { median, MIB } from "./measure";

export type HostKey = "host_dense_stream_ratio" | "host_dense_verified_ratio" | "host_sparse_file_ratio";

/** Targets for the table only (not asserted); issue 13's acceptance. */
export const HOST_TARGETS: Record<HostKey, { op: "≤"; value: number }> = {
  host_dense_stream_ratio: { op: "≤", value: 1.05 },
  host_dense_verified_ratio: { op: "≤", value: 0.6 },
  host_sparse_file_ratio: { op: "≤", value: 0.2 },
};

const secs = (runs: readonly EngineRun[]): number[] => runs.map((r) => r.seconds);
const round = (x: number, digits = 3): number | null =>
  Number.isFinite(x) ? Number(x.toFixed(digits)) : null;

export function hostEngineRuns(h: HostFigures | null): EngineRun[] {
  return h ? [...h.engine.stream, ...h.engine.readback, ...h.engine.sparse] : [];
}

/** The three ratios, and the detail the JSON carries beside them. */
export function buildHostReport(
  h: HostFigures | null,
  mib: number | null,
): { figures: Record<HostKey, number | null>; detail: Record<string, unknown> } {
  const dd = median(h?.seconds.dd ?? []);
  const ddSha = median(h?.seconds.dd_sha256sum ?? []);
  const m = {
    engine_stream: median(secs(h?.engine.stream ?? [])),
    engine_readback: median(secs(h?.engine.readback ?? [])),
    engine_sparse: median(secs(h?.engine.sparse ?? [])),
  };
  const figures: Record<HostKey, number | null> = {
    host_dense_stream_ratio: round(m.engine_stream / dd),
    host_dense_verified_ratio: round(m.engine_readback / ddSha),
    host_sparse_file_ratio: round(m.engine_sparse / dd),
  };
  const load = Object.fromEntries(
    Object.entries(h?.load ?? {}).map(([k, v]) => [k, round(median(v as number[]), 2)]),
  ) as Record<HostRun, number | null>;
  const runs = { dd: h?.seconds.dd, dd_sha256sum: h?.seconds.dd_sha256sum };
  return {
    figures,
    detail: {
      size_mib: mib,
      direct_io: h?.directIo ?? null,
      seconds: {
        ...runs,
        engine_stream: secs(h?.engine.stream ?? []),
        engine_readback: secs(h?.engine.readback ?? []),
        engine_sparse: secs(h?.engine.sparse ?? []),
      },
      mb_per_s: {
        dd: round(((mib ?? NaN) * MIB) / 1e6 / dd, 1),
        dd_sha256sum: round(((mib ?? NaN) * MIB) / 1e6 / ddSha, 1),
        engine_stream: round(((mib ?? NaN) * MIB) / 1e6 / m.engine_stream, 1),
        engine_readback: round(((mib ?? NaN) * MIB) / 1e6 / m.engine_readback, 1),
        engine_sparse_effective: round(((mib ?? NaN) * MIB) / 1e6 / m.engine_sparse, 1),
      },
      load_average_1m: load,
      sparse_allocated_percent: { source: h?.sparseSourcePercent ?? null, dest: h?.sparseDestPercent ?? [] },
    },
  };
}

/** Table rows: key, value, detail (medians, rates and the load average beside them). */
export function hostRows(report: Record<string, unknown>): [HostKey, string][] {
  const d = report["host"] as
    | { seconds: Record<string, number[] | undefined>; load_average_1m: Record<string, number | null> }
    | undefined;
  const s = (k: string): string => {
    const v = median(d?.seconds[k] ?? []);
    return Number.isFinite(v) ? `${v.toFixed(2)} s` : "–";
  };
  const l = (k: string): string => `load ${d?.load_average_1m[k] ?? "–"}`;
  return [
    [
      "host_dense_stream_ratio",
      `engine verify=stream ${s("engine_stream")} (${l("engine_stream")}) / dd ${s("dd")} (${l("dd")})`,
    ],
    [
      "host_dense_verified_ratio",
      `engine verify=readback ${s("engine_readback")} (${l("engine_readback")}) / dd+2×sha256sum ${s("dd_sha256sum")} (${l("dd_sha256sum")})`,
    ],
    [
      "host_sparse_file_ratio",
      `engine on 10%-written sparse file ${s("engine_sparse")} (${l("engine_sparse")}) / dd ${s("dd")}`,
    ],
  ];
}
