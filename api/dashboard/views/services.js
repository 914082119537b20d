// Services (GET os-services): up or down by heartbeat, enabled or disabled (with the reason), and
// enable / disable through PUT os-services/enable|disable-log-reason. Up/down follows the clock,
// not a row change, so this view reads the list again every 10 s while it is open.
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { Badge, ErrorNote, Section, Table, useAction, usePolled } from "../components.js";
import { time } from "../lib/format.js";

const REFRESH_MS = 10_000;

function Toggle({ api, service, onDone }) {
  const [reason, setReason] = useState("");
  const [run, busy, error] = useAction();
  const id = `reason-${service.binary}-${service.host}`.replace(/[^a-z0-9-]/gi, "-");
  const body = { host: service.host, binary: service.binary };
  if (service.status === "disabled") {
    return html`<div class="inline-form">
      <button
        class="btn small"
        type="button"
        disabled=${busy}
        onClick=${() => run(() => api.put("/os-services/enable", body)).then(onDone)}
      >
        Enable
      </button>
      <${ErrorNote} error=${error} />
    </div>`;
  }
  const disable = (e) => {
    e.preventDefault();
    const r = reason.trim();
    void run(() =>
      r
        ? api.put("/os-services/disable-log-reason", { ...body, disabled_reason: r })
        : api.put("/os-services/disable", body),
    ).then(onDone);
  };
  return html`<form class="inline-form" onSubmit=${disable}>
    <label class="visually-hidden" for=${id}>Reason to disable ${service.host}</label>
    <input
      id=${id}
      placeholder="Reason (optional)"
      value=${reason}
      maxlength="255"
      onInput=${(e) => setReason(e.target.value)}
    />
    <button class="btn small danger" type="submit" disabled=${busy}>Disable</button>
    <${ErrorNote} error=${error} />
  </form>`;
}

export function ServicesView({ api, reload }) {
  const [services, error, done] = usePolled(api, "/os-services", "services", reload, REFRESH_MS);
  const columns = [
    { key: "binary", label: "Binary", cell: (s) => s.binary },
    { key: "host", label: "Host", cell: (s) => html`<code>${s.host}</code>` },
    { key: "zone", label: "Zone", cell: (s) => s.zone },
    { key: "state", label: "State", cell: (s) => html`<${Badge} value=${s.state} />` },
    {
      key: "status",
      label: "Status",
      cell: (s) =>
        html`<${Badge}
            value=${s.status}
          />${s.disabled_reason ? html` <small>${s.disabled_reason}</small>` : null}`,
    },
    { key: "updated", label: "Last heartbeat", cell: (s) => time(s.updated_at) },
    {
      key: "action",
      label: "Action",
      cell: (s) => html`<${Toggle} api=${api} service=${s} onDone=${done} />`,
    },
  ];
  return html`<${Section} title="Services" id="services">
    <p class="muted">A disabled volume service receives no new volumes and no migrations.</p>
    <${ErrorNote} error=${error} />
    ${
      services === null
        ? html`<p>Loading…</p>`
        : html`<${Table} columns=${columns} rows=${services} rowKey=${(s) => `${s.binary}/${s.host}`} />`
    }
  <//>`;
}
