// Migrations (admin; GET migrations): the running ones with a live progress bar, MB/s, ETA,
// transport, compression and the bandwidth limit, which an admin changes
// (set_bandwidth_limit) or cancels (cancel); then the history with outcome, duration and the
// source and destination checksums.
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";

import { Badge, ErrorNote, ProgressBar, Section, Table, useAction } from "../components.js";
import { between, bytes, duration, parseTime, percent, rate, shortId, time } from "../lib/format.js";
import { isActive } from "../lib/state.js";
import { ThroughputChart } from "./throughput.js";

const MiB = 1024 * 1024;

function useVolumeName(state) {
  return (id) => {
    const v = state.volumes.get(id);
    return v?.name || shortId(id);
  };
}

function LimitForm({ api, m, name }) {
  const current = m.bps_limit ? String(Math.round(m.bps_limit / MiB)) : "";
  const [value, setValue] = useState(current);
  const [run, busy, error] = useAction();
  const id = `limit-${m.id}`;
  const apply = (bps) => run(() => api.action(`/migrations/${m.id}`, "set_bandwidth_limit", { bps }));
  const submit = (e) => {
    e.preventDefault();
    void apply(Math.round(Number(value) * MiB));
  };
  return html`<form class="inline-form limit" onSubmit=${submit}>
    <div class="field">
      <label for=${id}>Bandwidth limit<span class="visually-hidden"> of ${name}</span> (MiB/s)</label>
      <input
        id=${id}
        type="number"
        min="1"
        step="1"
        inputmode="numeric"
        required
        value=${value}
        placeholder=${m.bps_limit ? "" : "none"}
        onInput=${(e) => setValue(e.target.value)}
      />
    </div>
    <button class="btn small" type="submit" disabled=${busy}>Set limit</button>
    <button
      class="btn small ghost"
      type="button"
      disabled=${busy || !m.bps_limit}
      onClick=${() => apply(null)}
    >
      No limit
    </button>
    <${ErrorNote} error=${error} />
  </form>`;
}

function CancelButton({ api, m, name }) {
  const [asking, setAsking] = useState(false);
  const [run, busy, error] = useAction();
  const cancelling = m.cancel_requested_at !== null && m.cancel_requested_at !== undefined;
  if (cancelling) {
    return html`<span class="muted">Cancel requested ${time(m.cancel_requested_at)}</span>`;
  }
  if (!["starting", "queued", "migrating"].includes(m.state)) {
    return null;
  }
  return html`<div class="inline-form">
    ${
      asking
        ? html`<span>Cancel the migration of ${name}?</span>
            <button
              class="btn small danger"
              type="button"
              disabled=${busy}
              onClick=${() => run(() => api.action(`/migrations/${m.id}`, "cancel")).then(() => setAsking(false))}
            >
              Yes, cancel it
            </button>
            <button class="btn small" type="button" onClick=${() => setAsking(false)}>No</button>`
        : html`<button
            class="btn small danger"
            type="button"
            aria-label=${`Cancel the migration of ${name}`}
            onClick=${() => setAsking(true)}
          >
            Cancel…
          </button>`
    }
    <${ErrorNote} error=${error} />
  </div>`;
}

/** Finished this recently, a migration stays among the running ones (its bar at its end). */
const RECENT_MS = 3 * 60 * 1000;
const recent = (m) => !isActive(m) && m.finished_at && Date.now() - parseTime(m.finished_at) < RECENT_MS;

function Running({ api, m, name }) {
  const p = m.progress ?? {};
  const active = isActive(m);
  const tone = m.state === "success" ? "good" : m.state === "error" ? "bad" : "";
  const headingId = `run-${m.id}`;
  return html`<article class="card migration" aria-labelledby=${headingId} data-migration=${m.id}>
    <div class="card-head">
      <h3 id=${headingId}>${name}</h3>
      <div class="card-actions">
        <${Badge}
          value=${m.state}
        />${m.queue_position ? html` <span class="tag">#${m.queue_position} in queue</span>` : null}
      </div>
    </div>
    <p class="route"><code>${m.source_host}</code> → <code>${m.dest_host ?? m.requested_dest}</code></p>
    <div class="progress-row">
      <${ProgressBar} percent=${p.percent} tone=${tone} label=${`Migration of ${name}`} />
      <span class="pct">${percent(p.percent)}</span>
    </div>
    <dl class="figures">
      <div>
        <dt>Copied</dt>
        <dd>${bytes(p.bytes_done)} of ${bytes(p.bytes_total)}</dd>
      </div>
      <div>
        <dt>Rate</dt>
        <dd>${rate(p.rate_bps)}</dd>
      </div>
      <div>
        <dt>ETA</dt>
        <dd>${p.eta_seconds === null || p.eta_seconds === undefined ? "–" : duration(p.eta_seconds)}</dd>
      </div>
      <div>
        <dt>Transport</dt>
        <dd>${m.transport ?? "–"}</dd>
      </div>
      <div>
        <dt>Compression</dt>
        <dd>${m.compression ?? "–"}</dd>
      </div>
      <div>
        <dt>Limit</dt>
        <dd>${m.bps_limit ? `${+(m.bps_limit / MiB).toFixed(1)} MiB/s` : "none"}</dd>
      </div>
      <div>
        <dt>Flow</dt>
        <dd>${m.flow ?? "–"}</dd>
      </div>
    </dl>
    ${m.error ? html`<p class="note error">${m.error}</p>` : null}
    ${
      active
        ? html`<div class="actions-row">
            <${LimitForm} key=${`${m.id}-${m.bps_limit}`} api=${api} m=${m} name=${name} />
            <${CancelButton} api=${api} m=${m} name=${name} />
          </div>`
        : null
    }
  </article>`;
}

/** One sentence per running migration for screen readers, said when its state or quarter changes. */
function useAnnouncement(active, nameOf) {
  const last = useRef(new Map());
  const [text, setText] = useState("");
  useEffect(() => {
    const said = [];
    for (const m of active) {
      const quarter = Math.floor((m.progress?.percent ?? 0) / 25);
      const key = `${m.state}/${quarter}`;
      if (last.current.get(m.id) !== key) {
        last.current.set(m.id, key);
        said.push(`${nameOf(m.volume_id)}: ${m.state} ${percent(m.progress?.percent)}`);
      }
    }
    if (said.length) {
      setText(said.join(". "));
    }
  }, [active]);
  return text;
}

function checksumCell(m) {
  const { source, dest } = m.checksums ?? {};
  if (!source && !dest) {
    return "–";
  }
  const same = source && source === dest;
  return html`<span class="checksums" title=${`source ${source ?? "–"}\ndestination ${dest ?? "–"}`}>
    <code>${source ? source.slice(0, 12) : "–"}</code> / <code>${dest ? dest.slice(0, 12) : "–"}</code>
    ${same ? html` <span class="badge good">match</span>` : source && dest ? html` <span class="badge bad">differ</span>` : null}
  </span>`;
}

export function MigrationsView({ api, state, dispatch, reload }) {
  const [error, setError] = useState(null);
  const nameOf = useVolumeName(state);
  useEffect(() => {
    api
      .get("/migrations")
      .then((r) => {
        dispatch({ type: "migrations", list: r.migrations });
        setError(null);
      })
      .catch(setError);
    api
      .get("/volumes/detail?all_tenants=1")
      .then((r) => dispatch({ type: "volumes", list: r.volumes }), setError);
  }, [api, reload]);

  const all = [...state.migrations.values()];
  const active = all.filter(isActive);
  const shown = all
    .filter((m) => isActive(m) || recent(m))
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
  const history = all
    .filter((m) => !isActive(m))
    .sort((a, b) => (b.finished_at ?? b.created_at).localeCompare(a.finished_at ?? a.created_at));
  const rateRef = useRef(0);
  rateRef.current = active.reduce((n, m) => n + (m.progress?.rate_bps ?? 0), 0);
  const announcement = useAnnouncement(shown, nameOf);

  const columns = [
    { key: "volume", label: "Volume", cell: (m) => html`<span class="name">${nameOf(m.volume_id)}</span>` },
    {
      key: "route",
      label: "From → to",
      cell: (m) => html`<code>${m.source_host}</code> → <code>${m.dest_host ?? m.requested_dest}</code>`,
    },
    {
      key: "outcome",
      label: "Outcome",
      cell: (m) =>
        html`<${Badge}
            value=${m.state}
          />${m.error ? html`<br /><small class="error-text">${m.error}</small>` : null}`,
    },
    {
      key: "flow",
      label: "Flow",
      cell: (m) => [m.flow, m.transport, m.compression].filter(Boolean).join(" · ") || "–",
    },
    { key: "started", label: "Started", cell: (m) => time(m.started_at ?? m.created_at) },
    {
      key: "duration",
      label: "Duration",
      cell: (m) => duration(between(m.started_at ?? m.created_at, m.finished_at)),
    },
    {
      key: "bytes",
      label: "Copied",
      cell: (m) => {
        const s = between(m.started_at ?? m.created_at, m.finished_at);
        const avg = s > 0 ? m.progress.bytes_done / s : null;
        return html`${bytes(m.progress?.bytes_done)}${avg ? html`<br /><small>${rate(avg)} average</small>` : null}`;
      },
    },
    { key: "checksums", label: "Checksums (source / destination)", cell: checksumCell },
  ];

  return html`<div class="stack">
    <${Section} title=${`Running (${active.length})`} id="running">
      <p class="muted">Migrations in progress, and those that ended in the last 3 minutes.</p>
      <p class="visually-hidden" aria-live="polite" aria-atomic="true">${announcement}</p>
      <${ErrorNote} error=${error} />
      <${ThroughputChart} rateRef=${rateRef} />
      ${
        shown.length === 0
          ? html`<p class="muted">
              No migration is running. Start one from <a href="#/volumes">Volumes</a>.
            </p>`
          : html`<div class="grid wide">
              ${shown.map((m) => html`<${Running} key=${m.id} api=${api} m=${m} name=${nameOf(m.volume_id)} />`)}
            </div>`
      }
    <//>
    <${Section} title="History" id="history">
      <${Table}
        columns=${columns}
        rows=${history}
        rowKey=${(m) => m.id}
        empty="No migration has finished yet."
      />
    <//>
  </div>`;
}
