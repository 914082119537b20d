// Volumes (GET volumes/detail; admins every project's): filter by pool, status and project; an
// admin migrates one to a pool picked from get_pools (os-migrate_volume); its owner or an admin
// retypes it (os-retype, with the types of GET types). A running migration shows in its row.
import { html } from "htm/preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import { Badge, ErrorNote, Field, ProgressBar, Section, Table, useAction } from "../components.js";
import { percent, shortId } from "../lib/format.js";
import { isActive } from "../lib/state.js";

const HOST = "os-vol-host-attr:host";
const PROJECT = "os-vol-tenant-attr:tenant_id";

const volumeName = (v) => v.name || shortId(v.id);

function MigrateForm({ api, volume, pools, onClose }) {
  const choices = pools.filter((p) => p.name !== volume[HOST]);
  // The first pool until one is picked (the pools may arrive after the form opened).
  const [picked, setDest] = useState("");
  const dest = choices.some((p) => p.name === picked) ? picked : (choices[0]?.name ?? "");
  const [force, setForce] = useState(false);
  const [lock, setLock] = useState(false);
  const [run, busy, error] = useAction();
  const [done, setDone] = useState(false);
  const submit = (e) => {
    e.preventDefault();
    void run(async () => {
      await api.action(`/volumes/${volume.id}`, "os-migrate_volume", {
        host: dest,
        force_host_copy: force,
        lock_volume: lock,
      });
      setDone(true);
    });
  };
  return html`<form class="panel" onSubmit=${submit} aria-labelledby="migrate-title">
    <h3 id="migrate-title" tabindex="-1">Migrate ${volumeName(volume)}</h3>
    <p class="muted">From <code>${volume[HOST] ?? "–"}</code> (${volume.size} GiB).</p>
    <${Field} id="migrate-dest" label="Destination pool">
      <select id="migrate-dest" value=${dest} onChange=${(e) => setDest(e.target.value)} required>
        ${choices.length === 0 ? html`<option value="">No other pool is available</option>` : null}
        ${choices.map(
          (p) =>
            html`<option value=${p.name}>
              ${p.name} · ${p.capabilities?.free_capacity_gb ?? "?"} GB free
            </option>`,
        )}
      </select>
    <//>
    <div class="checks">
      <label
        ><input type="checkbox" checked=${force} onChange=${(e) => setForce(e.target.checked)} /> Force host
        copy</label
      >
      <label
        ><input type="checkbox" checked=${lock} onChange=${(e) => setLock(e.target.checked)} /> Lock the
        volume</label
      >
    </div>
    <${ErrorNote} error=${error} />
    ${
      done
        ? html`<p class="note ok" role="status">
            Migration requested. Follow it under <a href="#/migrations">Migrations</a>.
          </p>`
        : null
    }
    <div class="buttons">
      <button class="btn primary" type="submit" disabled=${busy || !dest || done}>Migrate</button>
      <button class="btn" type="button" onClick=${onClose}>Close</button>
    </div>
  </form>`;
}

function RetypeForm({ api, volume, types, onClose }) {
  const choices = types.filter((t) => t.name !== volume.volume_type);
  const [picked, setType] = useState("");
  const type = choices.some((t) => t.name === picked) ? picked : (choices[0]?.name ?? "");
  const [policy, setPolicy] = useState("on-demand");
  const [run, busy, error] = useAction();
  const [done, setDone] = useState(false);
  const submit = (e) => {
    e.preventDefault();
    void run(async () => {
      await api.action(`/volumes/${volume.id}`, "os-retype", { new_type: type, migration_policy: policy });
      setDone(true);
    });
  };
  return html`<form class="panel" onSubmit=${submit} aria-labelledby="retype-title">
    <h3 id="retype-title" tabindex="-1">Retype ${volumeName(volume)}</h3>
    <p class="muted">Now <strong>${volume.volume_type ?? "no type"}</strong>.</p>
    <div class="field-row">
      <${Field} id="retype-type" label="New type">
        <select id="retype-type" value=${type} onChange=${(e) => setType(e.target.value)} required>
          ${choices.length === 0 ? html`<option value="">No other type exists</option>` : null}
          ${choices.map((t) => html`<option value=${t.name}>${t.name}</option>`)}
        </select>
      <//>
      <${Field} id="retype-policy" label="Migration policy">
        <select id="retype-policy" value=${policy} onChange=${(e) => setPolicy(e.target.value)}>
          <option value="never">never (in place only)</option>
          <option value="on-demand">on-demand (migrate if needed)</option>
        </select>
      <//>
    </div>
    <${ErrorNote} error=${error} />
    ${done ? html`<p class="note ok" role="status">Retype requested.</p>` : null}
    <div class="buttons">
      <button class="btn primary" type="submit" disabled=${busy || !type || done}>Retype</button>
      <button class="btn" type="button" onClick=${onClose}>Close</button>
    </div>
  </form>`;
}

function VolumeStatus({ volume, migration }) {
  return html`<div class="status-cell">
    <${Badge} value=${volume.status} />
    ${
      migration
        ? html`<div class="mini-progress">
            <${ProgressBar}
              small
              percent=${migration.progress?.percent ?? null}
              label=${`Migration of ${volumeName(volume)}`}
            />
            <small>${migration.state} ${percent(migration.progress?.percent)}</small>
          </div>`
        : null
    }
  </div>`;
}

export function VolumesView({ api, state, dispatch, reload, admin }) {
  const [error, setError] = useState(null);
  const [pools, setPools] = useState([]);
  const [types, setTypes] = useState([]);
  const [filters, setFilters] = useState({ pool: "", status: "", project: "" });
  const [panel, setPanel] = useState(null);
  const panelRef = useRef(null);

  useEffect(() => {
    api
      .get(admin ? "/volumes/detail?all_tenants=1" : "/volumes/detail")
      .then((r) => {
        dispatch({ type: "volumes", list: r.volumes });
        setError(null);
      })
      .catch(setError);
  }, [api, reload]);
  useEffect(() => {
    api.get("/types").then((r) => setTypes(r.volume_types), setError);
    if (admin) {
      api.get("/scheduler-stats/get_pools?detail=true").then((r) => setPools(r.pools), setError);
    }
  }, [api, reload]);
  useEffect(() => {
    panelRef.current?.querySelector("h3")?.focus();
  }, [panel]);

  const volumes = [...state.volumes.values()];
  const running = useMemo(() => {
    const byVolume = new Map();
    for (const m of state.migrations.values()) {
      if (isActive(m)) {
        byVolume.set(m.volume_id, m);
      }
    }
    return byVolume;
  }, [state.migrations]);
  const distinct = (f) => [...new Set(volumes.map(f).filter(Boolean))].sort();
  const statuses = distinct((v) => v.status);
  const projects = distinct((v) => v[PROJECT]);
  const poolNames = [...new Set([...pools.map((p) => p.name), ...distinct((v) => v[HOST])])].sort();
  const shown = volumes
    .filter(
      (v) =>
        (!filters.pool || v[HOST] === filters.pool) &&
        (!filters.status || v.status === filters.status) &&
        (!filters.project || v[PROJECT] === filters.project),
    )
    .sort((a, b) => volumeName(a).localeCompare(volumeName(b)));
  const setFilter = (k) => (e) => setFilters((f) => ({ ...f, [k]: e.target.value }));
  const select = (id, label, key, values) =>
    html`<${Field} id=${id} label=${label}>
      <select id=${id} value=${filters[key]} onChange=${setFilter(key)}>
        <option value="">All</option>
        ${values.map((v) => html`<option value=${v}>${v}</option>`)}
      </select>
    <//>`;

  const open = (kind, v) => setPanel({ kind, id: v.id });
  const busyVolume = (v) => v.status !== "available" && v.status !== "in-use";
  const columns = [
    {
      key: "name",
      label: "Volume",
      cell: (v) => html`<span class="name">${volumeName(v)}</span><br /><code class="id">${v.id}</code>`,
    },
    { key: "size", label: "Size", cell: (v) => `${v.size} GiB` },
    {
      key: "status",
      label: "Status",
      cell: (v) => html`<${VolumeStatus} volume=${v} migration=${running.get(v.id)} />`,
    },
    ...(admin
      ? [
          { key: "host", label: "Pool", cell: (v) => html`<code>${v[HOST] ?? "–"}</code>` },
          {
            key: "migstat",
            label: "Migration status",
            cell: (v) => v["os-vol-mig-status-attr:migstat"] ?? "–",
          },
        ]
      : []),
    { key: "project", label: "Project", cell: (v) => v[PROJECT] ?? "–" },
    { key: "type", label: "Type", cell: (v) => v.volume_type ?? "–" },
    {
      key: "actions",
      label: "Actions",
      cell: (v) =>
        html`<div class="buttons">
          ${
            admin
              ? html`<button
                  class="btn small"
                  type="button"
                  disabled=${busyVolume(v)}
                  aria-label=${`Migrate ${volumeName(v)}`}
                  onClick=${() => open("migrate", v)}
                >
                  Migrate…
                </button>`
              : null
          }
          <button
            class="btn small"
            type="button"
            disabled=${busyVolume(v)}
            aria-label=${`Retype ${volumeName(v)}`}
            onClick=${() => open("retype", v)}
          >
            Retype…
          </button>
        </div>`,
    },
  ];
  const target = panel && state.volumes.get(panel.id);
  return html`<${Section} title="Volumes" id="volumes">
    <div class="filters" role="group" aria-label="Filters">
      ${admin ? select("filter-pool", "Pool", "pool", poolNames) : null}
      ${select("filter-status", "Status", "status", statuses)}
      ${select("filter-project", "Project", "project", projects)}
    </div>
    <${ErrorNote} error=${error} />
    <div ref=${panelRef}>
      ${
        target && panel.kind === "migrate"
          ? html`<${MigrateForm}
              key=${target.id}
              api=${api}
              volume=${target}
              pools=${pools}
              onClose=${() => setPanel(null)}
            />`
          : null
      }
      ${
        target && panel.kind === "retype"
          ? html`<${RetypeForm}
              key=${target.id}
              api=${api}
              volume=${target}
              types=${types}
              onClose=${() => setPanel(null)}
            />`
          : null
      }
    </div>
    <${Table}
      columns=${columns}
      rows=${shown}
      rowKey=${(v) => v.id}
      caption=${`${shown.length} of ${volumes.length} volumes`}
      empty="No volume matches."
    />
  <//>`;
}
