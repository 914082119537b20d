// Disk drains (admin; GET disk-drains): each drain's backend, PV and volume group, its status, a
// progress bar with percent, bytes moved, rate and ETA, how often it resumed and its error; an
// admin cancels a pending or moving one (os-cancel). Drains are not in the live event stream, so
// this view reads the list again every 5 s while it is open (the default pvmove interval).
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { Badge, ErrorNote, ProgressBar, Section, Table, useAction, usePolled } from "../components.js";
import { bytes, duration, percent, rate, time } from "../lib/format.js";

const REFRESH_MS = 5000;
/** What os-cancel accepts (the API answers 409 otherwise). */
const CANCELLABLE = ["pending", "moving"];
const ENDED = ["completed", "cancelled", "failed"];

const toneOf = (d) => (d.status === "completed" ? "good" : d.status === "failed" ? "bad" : "");
const nameOf = (d) => `${d.pv} on ${d.backend}`;

function CancelButton({ api, d, onDone }) {
  const [asking, setAsking] = useState(false);
  const [run, busy, error] = useAction();
  if (!CANCELLABLE.includes(d.status)) {
    return d.status === "cancelling" ? html`<span class="muted">Cancel requested</span>` : "–";
  }
  const cancel = () =>
    run(() => api.action(`/disk-drains/${d.id}`, "os-cancel")).then(() => {
      setAsking(false);
      onDone();
    });
  return html`<div class="inline-form">
    ${
      asking
        ? html`<span>Cancel the drain of ${nameOf(d)}? Extents already moved stay moved.</span>
            <button class="btn small danger" type="button" disabled=${busy} onClick=${cancel}>
              Yes, cancel it
            </button>
            <button class="btn small" type="button" onClick=${() => setAsking(false)}>No</button>`
        : html`<button
            class="btn small danger"
            type="button"
            aria-label=${`Cancel the drain of ${nameOf(d)}`}
            onClick=${() => setAsking(true)}
          >
            Cancel…
          </button>`
    }
    <${ErrorNote} error=${error} />
  </div>`;
}

function progressCell(d) {
  const p = d.progress ?? {};
  const shown = d.status === "completed" ? 100 : p.percent;
  return html`<div class="progress-row">
      <${ProgressBar} small percent=${shown} tone=${toneOf(d)} label=${`Drain of ${nameOf(d)}`} />
      <span class="pct">${percent(shown)}</span>
    </div>
    <small>${bytes(p.bytes_moved)} of ${bytes(p.bytes_total)}</small>`;
}

function rateCell(d) {
  const p = d.progress ?? {};
  if (ENDED.includes(d.status)) {
    return "–";
  }
  const eta = p.eta_seconds === null || p.eta_seconds === undefined ? "–" : duration(p.eta_seconds);
  return html`<span class="one-line">${rate(p.rate_bps)}</span><br /><small class="one-line"
      >ETA ${eta}</small
    >`;
}

export function DiskDrainsView({ api, reload }) {
  const [drains, error, done] = usePolled(api, "/disk-drains", "disk_drains", reload, REFRESH_MS);

  const columns = [
    { key: "backend", label: "Backend", cell: (d) => html`<code class="one-line">${d.backend}</code>` },
    {
      key: "pv",
      label: "PV",
      cell: (d) =>
        html`<code>${d.pv}</code><br /><small
            >${d.volume_group}${d.remove_from_group ? " · then vgreduce" : ""}</small
          >`,
    },
    { key: "status", label: "Status", cell: (d) => html`<${Badge} value=${d.status} />` },
    { key: "progress", label: "Progress", cell: progressCell },
    { key: "rate", label: "Rate · ETA", cell: rateCell },
    { key: "resumes", label: "Resumes", cell: (d) => String(d.resumes ?? 0) },
    {
      key: "error",
      label: "Error",
      cell: (d) => (d.error ? html`<small class="error-text">${d.error}</small>` : "–"),
    },
    {
      key: "time",
      label: "Started · finished",
      cell: (d) =>
        html`<span class="one-line">${time(d.started_at ?? d.created_at)}</span><br /><small class="one-line"
            >${time(d.finished_at)}</small
          >`,
    },
    {
      key: "action",
      label: "Action",
      cell: (d) => html`<${CancelButton} api=${api} d=${d} onDone=${done} />`,
    },
  ];
  const active = (drains ?? []).filter((d) => !ENDED.includes(d.status));
  // Those not over first, then the newest (the API lists newest first).
  const rows = drains === null ? [] : [...active, ...drains.filter((d) => ENDED.includes(d.status))];
  return html`<${Section} title=${`Disk drains (${active.length} active)`} id="disk-drains">
    <p class="muted">
      pvmove moves every extent off a storage host's physical volume onto the other PVs of its volume group
      while the volumes stay in use. Start one with POST disk-drains; this list is read again every 5 s.
    </p>
    <p class="visually-hidden" aria-live="polite" aria-atomic="true">
      ${active.map((d) => `${nameOf(d)}: ${d.status} ${percent(d.progress?.percent)}`).join(". ")}
    </p>
    <${ErrorNote} error=${error} />
    ${
      drains === null
        ? html`<p>Loading…</p>`
        : html`<${Table} columns=${columns} rows=${rows} rowKey=${(d) => d.id} empty="No disk drain yet." />`
    }
  <//>`;
}
