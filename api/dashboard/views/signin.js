// Sign-in matching the API's auth_strategy: noauth (user and project: the token is
// "<user>:<project>"), static (a token from [static_tokens]), keystone (a password token from the
// identity endpoint, scoped to a project). Then one call decides admin or member.
import { html } from "htm/preact";
import { useState } from "preact/hooks";

import { ErrorNote, Field, useAction } from "../components.js";
import { keystoneToken, probeAdmin } from "../lib/session.js";

function NoauthFields({ form, set }) {
  return html` <${Field} id="signin-user" label="User">
      <input
        id="signin-user"
        name="user"
        autocomplete="username"
        required
        value=${form.user}
        onInput=${(e) => set({ user: e.target.value })}
      />
    <//>
    <${Field} id="signin-project" label="Project">
      <input
        id="signin-project"
        name="project"
        required
        value=${form.project}
        onInput=${(e) => set({ project: e.target.value })}
      />
    <//>`;
}

function StaticFields({ form, set }) {
  return html`<${Field} id="signin-token" label="Token" hint="One of the API's [static_tokens].">
    <input
      id="signin-token"
      name="token"
      type="password"
      autocomplete="current-password"
      required
      aria-describedby="signin-token-hint"
      value=${form.token}
      onInput=${(e) => set({ token: e.target.value })}
    />
  <//>`;
}

function KeystoneFields({ form, set }) {
  const text = (id, label, key, attrs = {}) =>
    html`<${Field} id=${id} label=${label}>
      <input
        id=${id}
        name=${key}
        required
        value=${form[key]}
        onInput=${(e) => set({ [key]: e.target.value })}
        ...${attrs}
      />
    <//>`;
  return html` ${text("signin-username", "User name", "username", { autocomplete: "username" })}
    ${text("signin-password", "Password", "password", { type: "password", autocomplete: "current-password" })}
    ${text("signin-kproject", "Project", "project")}
    <div class="field-row">
      ${text("signin-udomain", "User domain", "userDomain")}
      ${text("signin-pdomain", "Project domain", "projectDomain")}
    </div>`;
}

const KINDS = { keystone: "Keystone password", static: "static token", noauth: "noauth" };

export function SignIn({ config, onSignedIn }) {
  const strategy = config.auth_strategy;
  const [form, setForm] = useState({
    user: "admin",
    project: "demo",
    token: "",
    username: "",
    password: "",
    userDomain: "Default",
    projectDomain: "Default",
  });
  const set = (patch) => setForm((f) => ({ ...f, ...patch }));
  const [run, busy, error] = useAction();

  const submit = (e) => {
    e.preventDefault();
    void run(async () => {
      let session;
      if (strategy === "keystone") {
        const t = await keystoneToken(config.keystone_url, form);
        session = { strategy, token: t.token, project: t.project, projectName: t.projectName, user: t.user };
      } else if (strategy === "static") {
        session = { strategy, token: form.token.trim(), project: null, user: "token" };
      } else {
        const user = form.user.trim();
        const project = form.project.trim();
        session = { strategy, token: `${user}:${project}`, project, projectName: project, user };
      }
      session.admin = await probeAdmin(session.project, session.token);
      onSignedIn(session);
    });
  };

  const Fields =
    strategy === "keystone" ? KeystoneFields : strategy === "static" ? StaticFields : NoauthFields;
  return html`<main class="signin" id="main">
    <form class="card" onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title">Volume migrations</h1>
      <p class="muted">${`Sign in (${KINDS[strategy] ?? strategy}). The token stays in this tab only.`}</p>
      <${Fields} form=${form} set=${set} />
      <${ErrorNote} error=${error} />
      <button class="btn primary" type="submit" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
    </form>
  </main>`;
}
