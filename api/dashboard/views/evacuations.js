// Evacuations (admin; /evacuations): the planner (evacuationPlanner.js), whose dry run previews
// the plan, then runs it; the list; one evacuation's progress in total and per volume, pause /
// resume / cancel / delete, and its report.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";

import { Badge, ErrorNote, ProgressBar, Section, Table, useAction } from "../components.js";
import { bytes, duration, percent, rate, shortId, time } from "../lib/format.js";
import { ENDED, itemColumns, limitsOf, toneOf, totalPercent, Totals } from "./evacuationParts.js";
import { Planner } from "./evacuationPlanner.js";

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
