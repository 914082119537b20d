// The app shell: sign-in or the console (header, navigation by #/view, the live status), the
// data store patched by live events, and polling every 5 s while the event stream is down.
import { html } from "htm/preact";
import { useCallback, useEffect, useMemo, useReducer, useState } from "preact/hooks";

import { createApi } from "./lib/api.js";
import { openEvents } from "./lib/events.js";
import { clearSession, loadSession, saveSession } from "./lib/session.js";
import { initialState, reducer } from "./lib/state.js";
import { DiskDrainsView } from "./views/diskDrains.js";
import { EvacuationsView } from "./views/evacuations.js";
import { MigrationsView } from "./views/migrations.js";
import { PoolsView } from "./views/pools.js";
import { ServicesView } from "./views/services.js";
import { SignIn } from "./views/signin.js";
import { VolumesView } from "./views/volumes.js";

const VIEWS = [
  { id: "migrations", title: "Migrations", admin: true, component: MigrationsView },
  { id: "evacuations", title: "Evacuations", admin: true, component: EvacuationsView },
  { id: "drains", title: "Disk drains", admin: true, component: DiskDrainsView },
  { id: "volumes", title: "Volumes", admin: false, component: VolumesView },
  { id: "pools", title: "Pools", admin: true, component: PoolsView },
  { id: "services", title: "Services", admin: true, component: ServicesView },
];

/** How often the views reload while live events cannot flow. */
const POLL_MS = 5000;

const LIVE_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting · refreshing every 5 s",
  closed: "Offline",
  unauthorized: "Signed out",
};

function useHashView(views) {
  const read = () => {
    const id = location.hash.replace(/^#\/?/, "");
    return views.some((v) => v.id === id) ? id : views[0].id;
  };
  const [view, setView] = useState(read);
  useEffect(() => {
    const onHash = () => setView(read());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, [views]);
  return view;
}

function Console({ session, onSignOut }) {
  const api = useMemo(() => createApi(session, { onUnauthorized: onSignOut }), [session]);
  const [state, dispatch] = useReducer(reducer, undefined, initialState);
  const [live, setLive] = useState("connecting");
  // Views reload their data whenever this changes: at start, when the stream (re)connects (to
  // catch what happened while it was down), and every 5 s while it is down.
  const [reload, setReload] = useState(0);
  const bump = useCallback(() => setReload((n) => n + 1), []);

  useEffect(() => {
    const stream = openEvents({
      url: api.eventsUrl,
      headers: api.headers,
      onEvent: (event, data) => {
        if (event === "migration" || event === "volume" || event === "evacuation") {
          dispatch({ type: event, item: data });
        }
      },
      onStatus: (s) => {
        setLive(s);
        if (s === "live") {
          bump();
        } else if (s === "unauthorized") {
          onSignOut();
        }
      },
    });
    return () => stream.close();
  }, [api]);

  useEffect(() => {
    if (live === "live") {
      return undefined;
    }
    const timer = setInterval(bump, POLL_MS);
    return () => clearInterval(timer);
  }, [live]);

  const views = VIEWS.filter((v) => session.admin || !v.admin);
  const current = useHashView(views);
  const View = views.find((v) => v.id === current).component;

  return html`<a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <div class="brand">Volume migrations</div>
      <nav aria-label="Views">
        <ul>
          ${views.map(
            (v) =>
              html`<li>
                <a href=${`#/${v.id}`} aria-current=${v.id === current ? "page" : undefined}>${v.title}</a>
              </li>`,
          )}
        </ul>
      </nav>
      <div class="who">
        <span class=${`live ${live}`} role="status" title="Live updates">${LIVE_TEXT[live] ?? live}</span>
        <span class="user"
          >${session.user} · ${session.projectName ?? session.project ?? "—"}
          <span class="role">${session.admin ? "admin" : "member"}</span></span
        >
        <button class="btn small ghost" type="button" onClick=${onSignOut}>Sign out</button>
      </div>
    </header>
    <main id="main" tabindex="-1">
      <${View}
        api=${api}
        state=${state}
        dispatch=${dispatch}
        reload=${reload}
        admin=${session.admin}
        session=${session}
        bump=${bump}
      />
    </main>`;
}

export function App({ config }) {
  const [session, setSession] = useState(loadSession);
  const signOut = useCallback(() => {
    clearSession();
    setSession(null);
  }, []);
  if (!session) {
    return html`<${SignIn}
      config=${config}
      onSignedIn=${(s) => {
        saveSession(s);
        setSession(s);
      }}
    />`;
  }
  return html`<${Console} key=${session.token} session=${session} onSignOut=${signOut} />`;
}
