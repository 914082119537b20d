// Pools (GET scheduler-stats/get_pools?detail=true): capacity as the scheduler sees it: total,
// allocated by this service, free, and thin provisioning against max_over_subscription_ratio.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";

import { Badge, ErrorNote, Section } from "../components.js";
import { gb } from "../lib/format.js";

function share(part, whole) {
  return whole > 0 ? Math.max(0, Math.min(100, (part / whole) * 100)) : 0;
}

function Pool({ pool }) {
  const c = pool.capabilities ?? {};
  const total = Number(c.total_capacity_gb) || 0;
  const free = Number(c.free_capacity_gb) || 0;
  const allocated = Number(c.allocated_capacity_gb) || 0;
  const provisioned = Number(c.provisioned_capacity_gb ?? allocated) || 0;
  const reserved = Number(c.reserved_percentage) || 0;
  const ratio = Number(c.max_over_subscription_ratio) || 1;
  const used = Math.max(0, total - free);
  const thin = c.thin_provisioning_support === true;
  const oversub = total > 0 ? provisioned / total : 0;
  const id = `pool-${pool.name.replace(/[^a-z0-9]/gi, "-")}`;
  return html`<article class="pool card" aria-labelledby=${id}>
    <div class="card-head">
      <h3 id=${id}>${pool.name}</h3>
      <div class="card-actions">
        <${Badge} value=${c.backend_state ?? "up"} />
        <span class="tag">${thin ? "thin" : "thick"}</span>
        <span class="tag">${c.storage_protocol ?? ""}</span>
      </div>
    </div>
    <div
      class="capacity"
      role="img"
      aria-label=${`${pool.name}: ${gb(used)} used, ${gb(free)} free of ${gb(total)}`}
    >
      <span class="used" style=${{ width: `${share(used, total)}%` }}></span>
      <span class="reserved" style=${{ width: `${share((total * reserved) / 100, total)}%` }}></span>
    </div>
    <dl class="figures">
      <div>
        <dt>Total</dt>
        <dd>${gb(total)}</dd>
      </div>
      <div>
        <dt>Used on disk</dt>
        <dd>${gb(used)}</dd>
      </div>
      <div>
        <dt>Free</dt>
        <dd>${gb(free)}</dd>
      </div>
      <div>
        <dt>Allocated to volumes</dt>
        <dd>${gb(allocated)}</dd>
      </div>
      <div>
        <dt>Reserved</dt>
        <dd>${reserved} %</dd>
      </div>
    </dl>
    <div class="oversub">
      <div class="label-row">
        <span>Over-subscription</span>
        <span>${gb(provisioned)} provisioned · ${oversub.toFixed(2)} of max ${ratio}×</span>
      </div>
      <div
        class="bar small ${oversub > ratio ? "bad" : oversub > ratio * 0.8 ? "warn" : ""}"
        role="progressbar"
        aria-label=${`${pool.name} over-subscription`}
        aria-valuemin="0"
        aria-valuemax=${ratio}
        aria-valuenow=${oversub.toFixed(2)}
      >
        <span style=${{ width: `${share(oversub, ratio)}%` }}></span>
      </div>
    </div>
  </article>`;
}

/** Finished migrations so far: capacity changes when one ends, so the pools are read again. */
function finishedCount(migrations) {
  let n = 0;
  for (const m of migrations.values()) {
    n += m.state === "success" || m.state === "error" ? 1 : 0;
  }
  return n;
}

export function PoolsView({ api, reload, state }) {
  const [pools, setPools] = useState(null);
  const [error, setError] = useState(null);
  const [again, setAgain] = useState(0);
  const finished = finishedCount(state.migrations);
  useEffect(() => {
    api
      .get("/scheduler-stats/get_pools?detail=true")
      .then((r) => {
        setPools(r.pools);
        setError(null);
      })
      .catch(setError);
  }, [api, reload, again, finished]);
  const refresh = html`<button class="btn small" type="button" onClick=${() => setAgain((n) => n + 1)}>
    Refresh
  </button>`;
  return html`<${Section} title="Pools" id="pools" actions=${refresh}>
    <p class="muted">Pools of volume services that are up and enabled, as the scheduler places volumes.</p>
    <${ErrorNote} error=${error} />
    ${
      pools === null
        ? html`<p>Loading…</p>`
        : pools.length === 0
          ? html`<p>No pool is available (are the volume services up and enabled?).</p>`
          : html`<div class="grid">${pools.map((p) => html`<${Pool} key=${p.name} pool=${p} />`)}</div>`
    }
  <//>`;
}
