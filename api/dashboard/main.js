// Entry point: read how to sign in (GET config.json), then render the app.
import { render } from "preact";
import { html } from "htm/preact";

import { App } from "./app.js";

async function start() {
  const root = document.getElementById("app");
  let config;
  try {
    const res = await fetch("./config.json", { cache: "no-store" });
    if (!res.ok) {
      throw new Error(`config.json answered ${res.status}`);
    }
    config = await res.json();
  } catch (err) {
    root.textContent = `The dashboard could not start: ${err.message}`;
    return;
  }
  root.textContent = "";
  render(html`<${App} config=${config} />`, root);
}

void start();
