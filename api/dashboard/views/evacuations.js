// Evacuations (admin; /evacuations): a form whose dry run previews the plan (each volume's
// destination or why it stays, and the shortfall), then runs it; the list; one evacuation's
// progress in total and per volume, pause / resume / cancel / delete, and its report.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";

import { Badge, ErrorNote, Field, ProgressBar, Section, Table, useAction } from "../components.js";
import { bytes, duration, percent, rate, shortId, time } from "../lib/format.js";

const ORDERS = [
  ["smallest_first", "Smallest first"],
  ["largest_first", "Largest first"],
  ["oldest_first", "Oldest first"],
];
const ENDED = ["cancelled", "completed", "completed_with_errors", "failed"];

function toneOf(status) {
  return status === "completed"
    ? "good"
    : status === "failed" || status === "completed_with_errors"
      ? "bad"
      : "";
}

function totalPercent(e) {
  const t = e.totals ?? {};
  if (!t.bytes_total) {
    return ENDED.includes(e.status) ? 100 : null;
  }
  return Math.min(100, (t.bytes_done / t.bytes_total) * 100);
}

/** The request body from the form's fields (blank fields are left to the API's defaults). */
function requestOf(f, dryRun) {
  const dest = f.destination
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const int = (v) => (v === "" ? undefined : Number(v));
  return {
    evacuation: {
      source: f.source.trim(),
      ...(dest.length ? { destination: dest.length === 1 ? dest[0] : dest } : {}),
      dry_run: dryRun,
      max_parallel: int(f.maxParallel),
      max_parallel_per_host: int(f.perHost),
      max_parallel_per_pool: int(f.perPool),
      order: f.order,
      include_in_use: f.includeInUse,
      disable_source: f.disableSource,
      bandwidth_limit: f.bandwidth === "" ? null : Number(f.bandwidth),
    },
  };
}

/** One sentence for the plan: what moves, what stays, what finds no room, what gets disabled. */
function planSummary(plan) {
  const t = plan.totals;
  const parts = [
    `${t.volumes} volumes: ${t.pending} to move (${bytes(t.bytes_total)}), ${t.skipped} staying`,
  ];
  if (t.shortfall_gb) {
    parts.push(`${t.shortfall_gb} GiB find no room`);
  }
  const disable = plan.disabled_services?.length
    ? ` Would disable ${plan.disabled_services.join(", ")}.`
    : "";
  return `${parts.join(", ")}.${disable}`;
}

function limitsOf(e) {
  const to = e.destination ? [].concat(e.destination).join(", ") : "any pool";
  const caps = `at most ${e.max_parallel} at once, ${e.max_parallel_per_host} per host, ${e.max_parallel_per_pool} per pool`;
  const bw = e.bandwidth_limit ? `${e.bandwidth_limit} MiB/s each` : "the backends' bandwidth limits";
  return `${shortId(e.id)} · to ${to} · ${caps} · ${bw}`;
}

function Totals({ e }) {
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

function itemColumns(nameOf, planned) {
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

function Planner({ api, nameOf, sources, onStarted }) {
  const [form, setForm] = useState({
    source: "",
    destination: "",
    maxParallel: "6",
    perHost: "2",
    perPool: "2",
    order: "smallest_first",
    bandwidth: "",
    includeInUse: false,
    disableSource: true,
  });
  const [plan, setPlan] = useState(null);
  const [run, busy, error] = useAction();
  const set =
    (k, prop = "value") =>
    (e) => {
      setForm((f) => ({ ...f, [k]: e.target[prop] }));
      setPlan(null);
    };
  const preview = (e) => {
    e.preventDefault();
    void run(async () => setPlan((await api.post("/evacuations", requestOf(form, true))).evacuation));
  };
  const start = () =>
    run(async () => {
      const created = (await api.post("/evacuations", requestOf(form, false))).evacuation;
      setPlan(null);
      onStarted(created);
    });
  const num = (id, label, key, hint) =>
    html`<${Field} id=${id} label=${label} hint=${hint}>
      <input
        id=${id}
        type="number"
        min="1"
        step="1"
        inputmode="numeric"
        value=${form[key]}
        onInput=${set(key)}
        aria-describedby=${hint ? `${id}-hint` : undefined}
      />
    <//>`;
  return html`<${Section} title="New evacuation" id="new-evacuation">
    <form class="planner" onSubmit=${preview}>
      <div class="field-row">
        <${Field} id="evac-source" label="Source" hint="A host, host@backend, host@backend#pool or cluster.">
          <input
            id="evac-source"
            required
            list="evac-sources"
            value=${form.source}
            onInput=${set("source")}
            aria-describedby="evac-source-hint"
            autocomplete="off"
          />
          <datalist id="evac-sources">${sources.map((s) => html`<option value=${s} />`)}</datalist>
        <//>
        <${Field}
          id="evac-dest"
          label="Destination (optional)"
          hint="Empty: the scheduler chooses. Several: comma-separated."
        >
          <input
            id="evac-dest"
            list="evac-sources"
            value=${form.destination}
            onInput=${set("destination")}
            aria-describedby="evac-dest-hint"
            autocomplete="off"
          />
        <//>
      </div>
      <div class="field-row">
        ${num("evac-max", "Max parallel", "maxParallel")}
        ${num("evac-per-host", "Per source host", "perHost")}
        ${num("evac-per-pool", "Per destination pool", "perPool")}
        <${Field} id="evac-order" label="Order">
          <select id="evac-order" value=${form.order} onChange=${set("order")}>
            ${ORDERS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
          </select>
        <//>
        ${num("evac-bw", "Bandwidth limit (MiB/s)", "bandwidth", "Per migration; empty: the backend's.")}
      </div>
      <div class="checks">
        <label
          ><input type="checkbox" checked=${form.includeInUse} onChange=${set("includeInUse", "checked")} />
          Include in-use volumes</label
        >
        <label
          ><input type="checkbox" checked=${form.disableSource} onChange=${set("disableSource", "checked")} />
          Disable the source's services</label
        >
      </div>
      <${ErrorNote} error=${error} />
      <div class="buttons">
        <button class="btn" type="submit" disabled=${busy}>Preview plan</button>
      </div>
    </form>
    ${
      plan
        ? html`<div class="plan" aria-labelledby="plan-title">
            <h3 id="plan-title" tabindex="-1">Plan for ${plan.source}</h3>
            <p role="status">${planSummary(plan)}</p>
            <${Table}
              columns=${itemColumns(nameOf, true)}
              rows=${plan.items ?? []}
              rowKey=${(i) => i.volume_id}
              empty="No volume on this source."
            />
            <div class="buttons">
              <button class="btn primary" type="button" disabled=${busy} onClick=${start}>
                Run this evacuation
              </button>
              <button class="btn" type="button" onClick=${() => setPlan(null)}>Discard</button>
            </div>
          </div>`
        : null
    }
  <//>`;
}

function Controls({ api, e, onChanged, onDeleted }) {
  const [run, busy, error] = useAction();
  const [asking, setAsking] = useState(false);
  const act = (name) => run(() => api.action(`/evacuations/${e.id}`, name)).then(onChanged);
  const buttons = [];
  if (e.status === "running") {
    buttons.push(
      html`<button class="btn" type="button" disabled=${busy} onClick=${() => act("os-pause")}>
        Pause
      </button>`,
    );
  }
  if (e.status === "paused") {
    buttons.push(
      html`<button class="btn" type="button" disabled=${busy} onClick=${() => act("os-resume")}>
        Resume
      </button>`,
    );
  }
  if (e.status === "running" || e.status === "paused") {
    buttons.push(
      asking
        ? html`<span>Cancel: no new migration starts, running ones stop.</span>
            <button
              class="btn danger"
              type="button"
              disabled=${busy}
              onClick=${() => act("os-cancel").then(() => setAsking(false))}
            >
              Yes, cancel it
            </button>
            <button class="btn" type="button" onClick=${() => setAsking(false)}>No</button>`
        : html`<button class="btn danger" type="button" onClick=${() => setAsking(true)}>Cancel…</button>`,
    );
  }
  if (ENDED.includes(e.status)) {
    buttons.push(
      html`<button
        class="btn ghost"
        type="button"
        disabled=${busy}
        onClick=${() => run(() => api.del(`/evacuations/${e.id}`)).then(onDeleted)}
      >
        Delete
      </button>`,
    );
  }
  return html`<div class="buttons">${buttons}<${ErrorNote} error=${error} /></div>`;
}

function Detail({ api, e, nameOf, onChanged, onDeleted }) {
  const r = e.report ?? {};
  const p = totalPercent(e);
  return html`<${Section}
    title=${`Evacuation of ${e.source}`}
    id="evacuation-detail"
    actions=${html`<${Badge} value=${e.status} />`}
  >
    <p class="muted">${limitsOf(e)}</p>
    <div class="progress-row big" aria-live="polite">
      <${ProgressBar} percent=${p} tone=${toneOf(e.status)} label=${`Evacuation of ${e.source}`} />
      <span class="pct">${percent(p)}</span>
    </div>
    <${Totals} e=${e} />
    ${e.error ? html`<p class="note error">${e.error}</p>` : null}
    <${Controls} api=${api} e=${e} onChanged=${onChanged} onDeleted=${onDeleted} />
    <h3>Volumes</h3>
    <${Table}
      columns=${itemColumns(nameOf, false)}
      rows=${e.items ?? []}
      rowKey=${(i) => i.volume_id}
      empty="No volume."
    />
    <h3>Report</h3>
    <dl class="figures">
      <div>
        <dt>Started</dt>
        <dd>${time(r.started_at)}</dd>
      </div>
      <div>
        <dt>Finished</dt>
        <dd>${time(r.finished_at)}</dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd>${duration(r.duration_seconds)}</dd>
      </div>
      <div>
        <dt>Copied</dt>
        <dd>${bytes(r.bytes)}</dd>
      </div>
      <div>
        <dt>Throughput</dt>
        <dd>${rate(r.throughput_bps)}</dd>
      </div>
      <div>
        <dt>Volumes moved</dt>
        <dd>${r.volumes_moved ?? 0}</dd>
      </div>
      <div>
        <dt>Volumes per minute</dt>
        <dd>${r.volumes_per_minute ?? "–"}</dd>
      </div>
    </dl>
  <//>`;
}

export function EvacuationsView({ api, state, dispatch, reload }) {
  const [error, setError] = useState(null);
  const [selected, setSelected] = useState(null);
  const [sources, setSources] = useState([]);
  const [again, setAgain] = useState(0);
  const nameOf = (id) => state.volumes.get(id)?.name || shortId(id);

  useEffect(() => {
    api
      .get("/evacuations")
      .then((r) => {
        dispatch({ type: "evacuations", list: r.evacuations });
        setError(null);
      })
      .catch(setError);
    api
      .get("/volumes/detail?all_tenants=1")
      .then((r) => dispatch({ type: "volumes", list: r.volumes }), setError);
  }, [api, reload, again]);
  useEffect(() => {
    Promise.all([api.get("/os-services?binary=cinder-volume"), api.get("/scheduler-stats/get_pools")])
      .then(([s, p]) => {
        const names = new Set();
        for (const svc of s.services) {
          names.add(svc.host.split("@")[0]);
          names.add(svc.host);
        }
        p.pools.forEach((pool) => names.add(pool.name));
        setSources([...names].sort());
      })
      .catch(setError);
  }, [api]);
  useEffect(() => {
    if (selected) {
      api
        .get(`/evacuations/${selected}`)
        .then((r) => dispatch({ type: "evacuation", item: r.evacuation }), setError);
    }
  }, [api, selected, reload, again]);

  const list = [...state.evacuations.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
  const current = selected ? state.evacuations.get(selected) : null;
  const changed = () => setAgain((n) => n + 1);
  const columns = [
    { key: "source", label: "Source", cell: (e) => html`<code>${e.source}</code>` },
    { key: "status", label: "Status", cell: (e) => html`<${Badge} value=${e.status} />` },
    {
      key: "progress",
      label: "Progress",
      cell: (e) =>
        html`<div class="progress-row">
          <${ProgressBar}
            small
            percent=${totalPercent(e)}
            tone=${toneOf(e.status)}
            label=${`Evacuation of ${e.source}`}
          />
          <span class="pct">${percent(totalPercent(e))}</span>
        </div>`,
    },
    {
      key: "counts",
      label: "Volumes",
      cell: (e) =>
        `${e.totals?.succeeded ?? 0} moved · ${e.totals?.running ?? 0} running · ${e.totals?.pending ?? 0} pending · ${e.totals?.failed ?? 0} failed`,
    },
    { key: "created", label: "Created", cell: (e) => time(e.created_at) },
    {
      key: "open",
      label: "Details",
      cell: (e) =>
        html`<button
          class="btn small"
          type="button"
          aria-pressed=${e.id === selected}
          aria-label=${`Show the evacuation of ${e.source}`}
          onClick=${() => setSelected(e.id)}
        >
          Show
        </button>`,
    },
  ];

  return html`<div class="stack">
    <${Planner}
      api=${api}
      nameOf=${nameOf}
      sources=${sources}
      onStarted=${(e) => {
        dispatch({ type: "evacuation", item: e });
        setSelected(e.id);
      }}
    />
    <${ErrorNote} error=${error} />
    ${
      current
        ? html`<${Detail}
            api=${api}
            e=${current}
            nameOf=${nameOf}
            onChanged=${changed}
            onDeleted=${() => {
              setSelected(null);
              changed();
            }}
          />`
        : null
    }
    <${Section} title="Evacuations" id="evacuation-list">
      <${Table}
        columns=${columns}
        rows=${list}
        rowKey=${(e) => e.id}
        empty="No evacuation yet."
        rowClass=${(e) => (e.id === selected ? "selected" : "")}
      />
    <//>
  </div>`;
}
