// Small shared pieces of the views: progress bar, status badge, field, notices, responsive table.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";

/** A labelled progress bar (role=progressbar); `percent` null shows an indeterminate bar. */
export function ProgressBar({ percent, label, tone = "", small = false }) {
  const known = percent !== null && percent !== undefined;
  const p = known ? Math.max(0, Math.min(100, percent)) : 0;
  return html`<div
    class=${`bar ${tone} ${small ? "small" : ""} ${known ? "" : "unknown"}`}
    role="progressbar"
    aria-label=${label}
    aria-valuemin="0"
    aria-valuemax="100"
    aria-valuenow=${known ? p : undefined}
    aria-valuetext=${known ? `${p.toFixed(p >= 100 ? 0 : 1)} %` : "not known yet"}
  >
    <span style=${{ width: `${p}%` }}></span>
  </div>`;
}

const TONES = {
  up: "good",
  enabled: "good",
  success: "good",
  succeeded: "good",
  completed: "good",
  available: "good",
  down: "bad",
  error: "bad",
  failed: "bad",
  completed_with_errors: "warn",
  disabled: "muted",
  skipped: "muted",
  cancelled: "muted",
  cancelling: "warn",
  paused: "warn",
  queued: "warn",
  pending: "muted",
};

export function Badge({ value }) {
  return html`<span class=${`badge ${TONES[value] ?? "info"}`}>${value ?? "–"}</span>`;
}

/** A label and its control, tied by id (the control is the child). */
export function Field({ id, label, hint, children }) {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    ${children} ${hint ? html`<small id=${`${id}-hint`}>${hint}</small>` : null}
  </div>`;
}

export function ErrorNote({ error }) {
  return error ? html`<p class="note error" role="alert">${error.message ?? String(error)}</p>` : null;
}

/**
 * Runs an async action with a busy flag and its error: `[run, busy, error]`; `run(fn)` returns
 * fn's result, or undefined when it threw (the error is then shown).
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (err) {
      setError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return [run, busy, error];
}

/**
 * A table that becomes one card per row on a phone (CSS reads each cell's data-label).
 * columns: [{ key, label, cell(row) }]
 */
export function Table({ columns, rows, rowKey, caption, empty = "Nothing to show.", rowClass }) {
  return html`<div class="table-wrap">
    <table class="responsive">
      ${
        caption
          ? html`<caption>
              ${caption}
            </caption>`
          : null
      }
      <thead>
        <tr>
          ${columns.map((c) => html`<th scope="col">${c.label}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${
          rows.length === 0
            ? html`<tr class="empty">
                <td colspan=${columns.length}>${empty}</td>
              </tr>`
            : rows.map(
                (r) =>
                  html`<tr key=${rowKey(r)} class=${rowClass ? rowClass(r) : ""}>
                    ${columns.map((c) => html`<td data-label=${c.label}><div class="cell">${c.cell(r)}</div></td>`)}
                  </tr>`,
              )
        }
      </tbody>
    </table>
  </div>`;
}

export function Section({ title, actions, children, id }) {
  const headingId = id ? `${id}-title` : undefined;
  return html`<section class="card" aria-labelledby=${headingId} id=${id}>
    <div class="card-head">
      <h2 id=${headingId}>${title}</h2>
      ${actions ? html`<div class="card-actions">${actions}</div>` : null}
    </div>
    ${children}
  </section>`;
}

/**
 * A list the event stream does not carry, read again every `everyMs` while the view is open, when
 * the page asks (`reload`) and after an action (`refresh`). `[rows or null, error, refresh]`.
 */
export function usePolled(api, path, key, reload, everyMs) {
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);
  const [again, setAgain] = useState(0);
  useEffect(() => {
    api
      .get(path)
      .then((r) => {
        setRows(r[key]);
        setError(null);
      })
      .catch(setError);
  }, [api, path, key, reload, again]);
  useEffect(() => {
    const t = setInterval(() => setAgain((n) => n + 1), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return [rows, error, () => setAgain((n) => n + 1)];
}
