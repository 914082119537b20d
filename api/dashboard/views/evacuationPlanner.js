// The evacuations view's planner: the form, its dry run (each volume's destination or why it
// stays, and the shortfall) and the start of the evacuation it previewed.
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { ErrorNote, Field, Section, Table, useAction } from "../components.js";
import { bytes } from "../lib/format.js";
import { itemColumns } from "./evacuationParts.js";

const ORDERS = [
  ["smallest_first", "Smallest first"],
  ["largest_first", "Largest first"],
  ["oldest_first", "Oldest first"],
];
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

export function Planner({ api, nameOf, sources, onStarted }) {
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
