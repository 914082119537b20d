// Pieces of the evacuations view (evacuations.js) that the planner shares: an evacuation's
// tone and total percent, its caps in one line, its totals, and the columns of its volumes (as
// planned, or with their progress and report).
import { html } from "htm/preact";

import { Badge, ProgressBar } from "../components.js";
import { bytes, duration, percent, rate, shortId } from "../lib/format.js";

export const ENDED = ["cancelled", "completed", "completed_with_errors", "failed"];

export function toneOf(status) {
  return status === "completed"
    ? "good"
    : status === "failed" || status === "completed_with_errors"
      ? "bad"
      : "";
}

export function totalPercent(e) {
  const t = e.totals ?? {};
  if (!t.bytes_total) {
    return ENDED.includes(e.status) ? 100 : null;
  }
  return Math.min(100, (t.bytes_done / t.bytes_total) * 100);
}

export function limitsOf(e) {
  const to = e.destination ? [].concat(e.destination).join(", ") : "any pool";
  const caps = `at most ${e.max_parallel} at once, ${e.max_parallel_per_host} per host, ${e.max_parallel_per_pool} per pool`;
  const bw = e.bandwidth_limit ? `${e.bandwidth_limit} MiB/s each` : "the backends' bandwidth limits";
  return `${shortId(e.id)} · to ${to} · ${caps} · ${bw}`;
}

export function Totals({ e }) {
  const t = e.totals ?? {};
  return html`<dl class="figures">
    <div>
      <dt>Volumes</dt>
      <dd>${t.volumes ?? 0}</dd>
    </div>
    <div>
      <dt>Pending</dt>
      <dd>${t.pending ?? 0}</dd>
    </div>
    <div>
      <dt>Running</dt>
      <dd>${t.running ?? 0}</dd>
    </div>
    <div>
      <dt>Succeeded</dt>
      <dd>${t.succeeded ?? 0}</dd>
    </div>
    <div>
      <dt>Failed</dt>
      <dd>${t.failed ?? 0}</dd>
    </div>
    <div>
      <dt>Skipped</dt>
      <dd>${t.skipped ?? 0}</dd>
    </div>
    <div>
      <dt>Cancelled</dt>
      <dd>${t.cancelled ?? 0}</dd>
    </div>
    <div>
      <dt>Data</dt>
      <dd>${bytes(t.bytes_done)} of ${bytes(t.bytes_total)}</dd>
    </div>
    <div>
      <dt>ETA</dt>
      <dd>${t.eta_seconds === null || t.eta_seconds === undefined ? "–" : duration(t.eta_seconds)}</dd>
    </div>
    <div>
      <dt>Shortfall</dt>
      <dd>${t.shortfall_gb ?? 0} GiB</dd>
    </div>
  </dl>`;
}

export function itemColumns(nameOf, planned) {
  const cols = [
    { key: "volume", label: "Volume", cell: (i) => html`<span class="name">${nameOf(i.volume_id)}</span>` },
    { key: "size", label: "Size", cell: (i) => `${i.size} GiB` },
    {
      key: "to",
      label: "From → to",
      cell: (i) => html`<code>${i.from}</code> → ${i.to ? html`<code>${i.to}</code>` : html`<em>stays</em>`}`,
    },
    {
      key: "state",
      label: planned ? "Plan" : "State",
      cell: (i) =>
        html`<${Badge} value=${planned && i.state === "pending" ? "to move" : i.state} />${
            i.reason ? html`<br /><small>${i.reason}</small>` : null
          }`,
    },
  ];
  if (planned) {
    return cols;
  }
  return [
    ...cols,
    {
      key: "progress",
      label: "Progress",
      cell: (i) => {
        if (i.state === "skipped") {
          return "–";
        }
        const p = i.state === "succeeded" ? 100 : (i.progress?.percent ?? (i.state === "running" ? null : 0));
        return html`<div class="progress-row">
            <${ProgressBar}
              small
              percent=${p}
              tone=${i.state === "failed" ? "bad" : i.state === "succeeded" ? "good" : ""}
              label=${`Evacuation of ${nameOf(i.volume_id)}`}
            />
            <span class="pct">${percent(p)}</span>
          </div>
          ${
            i.state === "running" && i.progress
              ? html`<small>${rate(i.progress.rate_bps)} · ETA ${duration(i.progress.eta_seconds)}</small>`
              : null
          }`;
      },
    },
    {
      key: "report",
      label: "Time · bytes · rate",
      cell: (i) =>
        i.duration_seconds === null || i.duration_seconds === undefined
          ? "–"
          : `${duration(i.duration_seconds)} · ${bytes(i.bytes)} · ${rate(i.average_bps)}`,
    },
  ];
}
