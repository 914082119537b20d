// The live event stream (GET /v3/{project_id}/events, server-sent events) read with fetch() and a
// stream reader rather than EventSource: EventSource cannot send headers, and the token must go
// in X-Auth-Token like on every other call, never in the URL. This module does what EventSource
// would: parse the text/event-stream format, honour `retry:`, and reconnect after a cut. A stream
// silent for longer than two heartbeats is treated as cut.
//
// Status reported to onStatus: "connecting", "live", "reconnecting" (after a cut; the app polls
// meanwhile), "unauthorized" (401: the session is over), "closed".

const SILENCE_MS = 40_000;
const MAX_BACKOFF_MS = 30_000;

/** Feeds text chunks; calls onMessage(event, data) per complete message (comments are skipped). */
export function sseParser(onMessage, onRetry) {
  let buffer = "";
  let event = "";
  let data = [];
  const line = (l) => {
    if (l === "") {
      if (data.length) {
        onMessage(event || "message", data.join("\n"));
      }
      event = "";
      data = [];
      return;
    }
    if (l.startsWith(":")) {
      return;
    }
    const i = l.indexOf(":");
    const field = i < 0 ? l : l.slice(0, i);
    const value = i < 0 ? "" : l.slice(i + 1).replace(/^ /, "");
    if (field === "event") {
      event = value;
    } else if (field === "data") {
      data.push(value);
    } else if (field === "retry" && /^\d+$/.test(value)) {
      onRetry?.(Number(value));
    }
  };
  return (chunk) => {
    buffer += chunk;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop();
    lines.forEach(line);
  };
}

export function openEvents({ url, headers, onEvent, onStatus }) {
  let closed = false;
  let controller = null;
  let retryMs = 2000;
  let failures = 0;
  const status = (s) => !closed && onStatus(s);

  async function once() {
    controller = new AbortController();
    let silence = null;
    const quiet = () => {
      clearTimeout(silence);
      silence = setTimeout(() => controller.abort(), SILENCE_MS);
    };
    quiet();
    try {
      const res = await fetch(url, {
        headers: { ...headers(), Accept: "text/event-stream" },
        cache: "no-store",
        signal: controller.signal,
      });
      if (res.status === 401) {
        status("unauthorized");
        return false;
      }
      if (!res.ok || !res.body) {
        throw new Error(`events answered ${res.status}`);
      }
      const parse = sseParser(
        (event, data) => {
          let payload;
          try {
            payload = JSON.parse(data);
          } catch {
            return;
          }
          if (event === "ready") {
            failures = 0;
            status("live");
          }
          onEvent(event, payload);
        },
        (ms) => (retryMs = ms),
      );
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          break;
        }
        quiet();
        parse(value);
      }
    } catch {
      // A cut, a refused connection or the silence timer: reconnect below.
    } finally {
      clearTimeout(silence);
    }
    return true;
  }

  (async () => {
    status("connecting");
    while (!closed) {
      if (!(await once())) {
        return;
      }
      if (closed) {
        return;
      }
      failures += 1;
      status("reconnecting");
      const wait = Math.min(retryMs * 2 ** Math.min(failures - 1, 5), MAX_BACKOFF_MS);
      await new Promise((r) => setTimeout(r, wait));
    }
  })();

  return {
    close() {
      closed = true;
      controller?.abort();
      onStatus("closed");
    },
  };
}
