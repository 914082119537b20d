/** How the fuzzer turns a generated case into bytes on the wire, and sends it (node's http, raw). */
import http from "node:http";

import { type BodySpec, type FuzzCase, type Kind, type Mutation, ROUTES } from "./fuzzArbitraries";
import { TOKENS } from "./stack";

/** Not a timing target: an answer this late means the request hung. */
export const HUNG_MS = 120_000;
export const NO_ID = "00000000-0000-4000-8000-000000000000";

export type Pools = Record<Kind, string[]>;
export interface Wire {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}
export type Outcome = { status: number; text: string } | { error: string };

/** What node's HTTP client lets through unchanged: a path of 0x21–0xff, header values without CR/LF. */
export const RAW_OK = /^[\x21-\xff]*$/;
export const headerSafe = (v: string): string => v.replace(/[^\t\x20-\x7e\x80-\xff]/g, "?");
/** encodeURIComponent, with lone surrogates made U+FFFD first (it throws on them). */
export const uri = (v: string): string => encodeURIComponent(Buffer.from(v, "utf8").toString("utf8"));

export function encode(v: string, how: FuzzCase["encoding"]): string {
  if (how === "raw" && RAW_OK.test(v)) {
    return v;
  }
  return how === "double" ? uri(uri(v)) : uri(v);
}

/** Every node of a JSON value, as key paths (the root is []). */
export function nodes(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const kids = typeof v === "object" && v !== null ? Object.keys(v) : [];
  return [at, ...kids.flatMap((k) => nodes((v as Record<string, unknown>)[k], [...at, k]))];
}

/** Sets (or with `drop`, removes) the node at `at`; own properties only, so `__proto__` is a key. */
export function setAt(root: unknown, at: (string | number)[], value: unknown, drop = false): unknown {
  if (at.length === 0) {
    return drop ? undefined : value;
  }
  const parent = at.slice(0, -1).reduce((o: unknown, k) => (o as Record<string, unknown>)[k], root);
  const key = String(at[at.length - 1]);
  if (drop) {
    delete (parent as Record<string, unknown>)[key];
  } else {
    Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return root;
}

export function getAt(root: unknown, at: (string | number)[]): unknown {
  return at.reduce((o: unknown, k) => (o as Record<string, unknown>)[k], root);
}

/** A valid body changed by the mutations; numbers too large for a double are written as raw text. */
export function mutate(valid: unknown, mutations: Mutation[]): string {
  let body: unknown = structuredClone(valid ?? {});
  const numbers: string[] = [];
  for (const m of mutations) {
    if (m.op === "strings") {
      body = JSON.parse(JSON.stringify(body) ?? "null", (_k, v: unknown) =>
        typeof v === "string" ? m.value : v,
      );
      continue;
    }
    const all = nodes(body);
    const at = all[m.at % all.length]!;
    const here = getAt(body, at);
    if (m.op === "drop" || m.op === "wrap") {
      body = m.op === "drop" ? setAt(body, at, undefined, true) : setAt(body, at, [here]);
    } else if (m.op === "set") {
      body = setAt(body, at, structuredClone(m.value));
    } else if (m.op === "number") {
      body = setAt(body, at, `\u0000number${numbers.push(m.text) - 1}\u0000`);
    } else if (typeof here === "object" && here !== null && !Array.isArray(here)) {
      setAt(here, [m.key], structuredClone(m.value));
    } else {
      body = setAt(body, at, setAt({}, [m.key], structuredClone(m.value)));
    }
  }
  const text = JSON.stringify(body) ?? "";
  return numbers.reduce((t, n, i) => t.replace(`"\\u0000number${i}\\u0000"`, n), text);
}

/** `text` put inside a valid JSON object body as one more key (or the body itself). */
export function inside(valid: unknown, key: string, text: string): string {
  const json = JSON.stringify(valid ?? {});
  return json.startsWith("{") && json !== "{}" ? `{"${key}":${text},${json.slice(1)}` : text;
}

export function bodyText(spec: BodySpec, valid: unknown): Buffer | undefined {
  const deep = (n: number, objects: boolean): string =>
    objects ? `${'{"a":'.repeat(n)}1${"}".repeat(n)}` : `${"[".repeat(n)}1${"]".repeat(n)}`;
  switch (spec.kind) {
    case "none":
      return undefined;
    case "valid":
      return valid === undefined ? undefined : Buffer.from(JSON.stringify(valid));
    case "mutated":
      return Buffer.from(mutate(valid, spec.mutations));
    case "json":
      return Buffer.from(JSON.stringify(spec.value));
    case "raw":
      return Buffer.from(spec.text);
    case "bytes":
      return Buffer.from(spec.bytes);
    case "deep": {
      const text = deep(spec.levels, spec.objects);
      return Buffer.from(spec.inside ? inside(valid, "deep", text) : text);
    }
    case "huge":
      return Buffer.from(inside(valid, "pad", JSON.stringify("x".repeat(spec.bytes))));
  }
}

/** The concrete request of a symbolic case, with real values taken from `pools` as they are now. */
export function materialize(c: FuzzCase, pools: Pools): Wire {
  const route = ROUTES[c.route]!;
  const real = (kind: Kind, n: number): string => {
    const values = pools[kind];
    return values.length > 0 ? values[n % values.length]! : NO_ID;
  };
  const params = new Map<Kind, string>();
  let i = 0;
  let p = route.path;
  if (c.project === null) {
    p = p.replace("/{project}", "");
  }
  p = p.replace(/\{(\w+)\}/g, (_m, kind: Kind) => {
    const seg = kind === "project" ? c.project! : (c.segments[i++] ?? { real: 0 });
    const value = "real" in seg ? real(kind, seg.real) : seg.text;
    params.set(kind, value);
    return encode(value, c.encoding);
  });
  const ctx = { pick: (kind: Kind) => real(kind, c.pick), param: (kind: Kind) => params.get(kind) ?? "k1" };
  const pairs = [...(c.validQuery && route.query ? route.query(ctx) : []), ...c.query];
  const query = pairs.map(([k, v]) => `${encode(k, c.encoding)}=${encode(v, c.encoding)}`).join("&");
  const headers: Record<string, string> = {};
  for (const h of c.headers) {
    const at = h.indexOf(": ");
    headers[h.slice(0, at)] = headerSafe(h.slice(at + 2));
  }
  if (c.who !== "none") {
    headers["X-Auth-Token"] = TOKENS[c.who];
  }
  if (c.version !== undefined) {
    headers["OpenStack-API-Version"] = headerSafe(c.version);
  }
  if (c.contentType !== undefined) {
    headers["Content-Type"] = headerSafe(c.contentType);
  }
  const body = bodyText(c.body, route.body?.(ctx));
  if (body !== undefined) {
    // node frames a GET's or DELETE's body only when told its length (else it runs into the next request).
    headers["Content-Length"] = String(body.length);
  }
  return { method: route.method, path: query ? `${p}?${query}` : p, headers, body };
}

export function send(base: URL, agent: http.Agent, w: Wire): Promise<Outcome> {
  return new Promise((resolve) => {
    const { method, path: p, headers, body } = w;
    const req = http.request({ host: base.hostname, port: base.port, agent, method, path: p, headers });
    req.setTimeout(HUNG_MS, () => req.destroy(new Error(`no answer in ${HUNG_MS} ms`)));
    req.on("error", (err) => resolve({ error: String(err) }));
    req.on("response", (res) => {
      // The event stream never ends: its status is the answer.
      if (String(res.headers["content-type"]).startsWith("text/event-stream")) {
        res.destroy();
        resolve({ status: res.statusCode ?? 0, text: "(event stream)" });
        return;
      }
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text = text.length < 2000 ? text + chunk : text));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", (err) => resolve({ error: String(err) }));
    });
    req.end(body);
  });
}

/** Bytes of the request head as node writes it (with its own Host and Connection lines). */
export function headBytes(w: Wire): number {
  const lines = Object.entries(w.headers).map(([k, v]) => `${k}: ${v}\r\n`);
  return Buffer.byteLength(
    `${w.method} ${w.path} HTTP/1.1\r\nHost: 127.0.0.1:65535\r\n${lines.join("")}`,
    "latin1",
  );
}

export function describeRequest(w: Wire, o: Outcome): string {
  const body = w.body === undefined ? "(none)" : JSON.stringify(w.body.toString("utf8").slice(0, 300));
  const answer = "error" in o ? o.error : `${o.status} ${o.text.slice(0, 500)}`;
  const head = `${w.method} ${w.path.slice(0, 500)}\n  headers ${JSON.stringify(w.headers)}`;
  return `${head}\n  body ${body}\n  → ${answer}`;
}
