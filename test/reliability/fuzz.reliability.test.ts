/**
 * Fuzzing (issue 14): at least 10,000 generated requests over every route's path, query, headers
 * and body (fast-check, fixed seed), as admin and as member mostly, against the real all-in-one
 * process. No answer may be a 5xx, the process must live on, no shell may run a payload, and no
 * file may appear outside the data folders.
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

import fc from "fast-check";

import { waitFor } from "../helpers/stack";
import { pool } from "./client";
import { recordFigure } from "./figures";
import { fuzzCase, type Kind } from "./fuzzArbitraries";
import type { Pools } from "./fuzzWire";
import { describeRequest, headBytes, materialize, send } from "./fuzzWire";
import { type Identity, PROJECT, type ReliabilityStack, startStack } from "./stack";

const SEED = Number(process.env["VMS_FUZZ_SEED"] ?? 20_141_414);
const RUNS = Math.max(10_000, Number(process.env["VMS_FUZZ_RUNS"] ?? 0));
const IN_FLIGHT = 8;
/** Requests between two reads of the real objects (ids the fuzzer's own requests created). */
const BATCH = 500;
const REPO = path.resolve(__dirname, "../..");
/**
 * node's HTTP server refuses a request head (request line and headers) over 16 KiB with a 431 and
 * closes the socket; a client still sending then often sees the reset before the 431.
 */
const MAX_HEAD = 16 * 1024;

let stack: ReliabilityStack;
let realTmp: string;
/** The service's TMPDIR (and the test's os.tmpdir() while it runs): its own temp files land here. */
let privateTmp: string;
/** Every shell payload writes under here; `canary` is there so that `rm -rf` shows too. */
let marker: string;
const pools = {} as Pools;
const before = new Map<string, string[]>();
const savedTmpdir = process.env["TMPDIR"];

/** A request of the test's own (not counted): a 5xx throws, and so does any refusal unless `tolerant`. */
async function admin(
  method: string,
  p: string,
  body?: unknown,
  tolerant = false,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${stack.base}/v3/${PROJECT}${p}`, {
    method,
    headers: { ...stack.headers("admin", "3.71"), "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 500 || (!tolerant && res.status >= 300)) {
    throw new Error(`${method} ${p} answered ${res.status}: ${text}`);
  }
  return res.status < 300 && text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

type Listed = { id: string; status?: string }[];
const LISTS: [Kind, string, string][] = [
  ["volume", "/volumes/detail?all_tenants=1&limit=40", "volumes"],
  ["snapshot", "/snapshots?all_tenants=1&limit=40", "snapshots"],
  ["type", "/types", "volume_types"],
  ["qos", "/qos-specs", "qos_specs"],
  ["attachment", "/attachments?all_tenants=1", "attachments"],
  ["migration", "/migrations?limit=40", "migrations"],
  ["evacuation", "/evacuations", "evacuations"],
  ["message", "/messages?limit=40", "messages"],
];
let made = 0;
/**
 * How to make again an object of a kind the fuzzer deleted them all of, given the available
 * volumes (a snapshot and an attachment need one). The answer names the object as the request does.
 */
const REMAKE: [Kind, string, (ok: string[]) => object | undefined][] = [
  ["volume", "/volumes", () => ({ volume: { size: 1, name: `fz-${made++}`, metadata: { k1: "v1" } } })],
  ["snapshot", "/snapshots", (ok) => (ok[0] ? { snapshot: { volume_id: ok[0], force: true } } : undefined)],
  ["type", "/types", () => ({ volume_type: { name: `fz-${made++}`, extra_specs: { k1: "v" } } })],
  ["qos", "/qos-specs", () => ({ qos_specs: { name: `fz-${made++}`, maxIOPS: "100" } })],
  ["attachment", "/attachments", (ok) => (ok[1] ? { attachment: { volume_uuid: ok[1] } } : undefined)],
  // Once (evacuations stay listed): it moves file-2's volumes, and so makes migrations to act on.
  ["evacuation", "/evacuations", () => ({ evacuation: { source: "rel@file-2", disable_source: false } })],
];

/**
 * The pools of real ids are what exists now (the fuzzer's own creations included), and what the
 * fuzzer deleted is made again, so that requests reach real rows, files and workers all run long.
 * Returns the volumes and snapshots listed.
 */
async function refreshPools(): Promise<Listed> {
  const listed: Listed = [];
  for (const [kind, p, key] of LISTS) {
    const found = ((await admin("GET", p))[key] ?? []) as Listed;
    pools[kind] = found.map((o) => o.id);
    listed.push(...(kind === "volume" || kind === "snapshot" ? found : []));
  }
  const available = listed
    .filter((o) => o.status === "available" && pools.volume.includes(o.id))
    .map((o) => o.id);
  for (const [kind, p, body] of REMAKE) {
    for (let i = pools[kind].length; i < (kind === "volume" ? 2 : 1); i++) {
      const request = body(available);
      const key = Object.keys(request ?? {})[0] ?? "";
      const id = request && ((await admin("POST", p, request, true))[key] as { id?: string } | undefined)?.id;
      pools[kind].push(...(id ? [id] : []));
    }
  }
  return listed;
}

/** Top-level entries of a folder. */
const entries = (dir: string): string[] => fs.readdirSync(dir).sort();

beforeAll(async () => {
  realTmp = os.tmpdir();
  privateTmp = fs.mkdtempSync(path.join(realTmp, "vms-fuzz-"));
  process.env["TMPDIR"] = privateTmp;
  marker = path.join(privateTmp, "marker");
  fs.mkdirSync(marker);
  fs.writeFileSync(path.join(marker, "canary"), "");
  stack = await startStack();
  Object.assign(pools, {
    project: [PROJECT],
    key: ["k1", "volume_backend_name", "maxIOPS", "k:2"],
    tenant: [PROJECT, "other", "admin"],
    klass: ["default"],
    host: ["rel", "rel@file-1", "rel@file-2", "rel@file-1#file-1", "rel@file-2#file-2"],
    pool: ["rel@file-1#file-1", "rel@file-2#file-2"],
    backend: ["rel@file-1", "rel@file-2"],
    svcaction: ["enable", "disable", "disable-log-reason", "freeze"],
    file: ["index.html", "app.js", "main.js", "app.css", "preact.mjs", "htm.mjs", "uPlot.min.css"],
  });
  // The fixtures (two volumes, then a snapshot and an attachment once they are available, a volume
  // type, a QoS spec) are made by refreshPools, after the backends have reported their pools.
  const twoPools = async (): Promise<boolean> =>
    ((await admin("GET", "/scheduler-stats/get_pools"))["pools"] as unknown[]).length === 2;
  await waitFor(twoPools, "two pools", 60_000, 250);
  const ready = async (): Promise<boolean> =>
    (await refreshPools()).every((o) => o.status !== "creating") && pools.snapshot.length > 0;
  await waitFor(ready, "the fixtures", 120_000, 500);
  for (const dir of [privateTmp, realTmp, REPO, stack.stateDir]) {
    before.set(dir, entries(dir));
  }
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  process.env["TMPDIR"] = savedTmpdir;
  if (savedTmpdir === undefined) {
    delete process.env["TMPDIR"];
  }
  fs.rmSync(privateTmp, { recursive: true, force: true });
});

/** A backend object's file name (drivers/rawfile: volume_name_template over an id, and its snapshots). */
const BACKEND_FILE = /^(volume|snapshot)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What a payload would name a file it made (the real temp folder is shared: only these are ours). */
const PAYLOAD_NAME = /pwned|passwd|win\.ini/;

test(`${RUNS} fuzzed requests: no 5xx, the process alive, no shell, no stray file`, async () => {
  const t0 = Date.now();
  const cases = fc.sample(fuzzCase(marker), { seed: SEED, numRuns: RUNS });
  console.log(`fuzz seed ${SEED} (VMS_FUZZ_SEED=${SEED} replays it), ${cases.length} requests`);
  const base = new URL(stack.base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const byWho: Record<Identity, number> = { admin: 0, member: 0, other: 0, bad: 0, none: 0 };
  const byClass: Record<string, number> = {};
  const failures: string[] = [];
  for (let start = 0; start < cases.length; start += BATCH) {
    await refreshPools();
    const batch = cases.slice(start, start + BATCH).map((c) => async () => {
      const wire = materialize(c, pools);
      const outcome = await send(base, agent, wire);
      byWho[c.who]++;
      const refused = headBytes(wire) > MAX_HEAD ? "head refused" : "no answer";
      const cls = "error" in outcome ? refused : `${Math.floor(outcome.status / 100)}xx`;
      byClass[cls] = (byClass[cls] ?? 0) + 1;
      if (cls === "no answer" || cls === "5xx") {
        failures.push(describeRequest(wire, outcome));
      }
    });
    await pool(IN_FLIGHT, batch);
  }
  agent.destroy();
  const seconds = (Date.now() - t0) / 1000;
  console.log(`${cases.length} requests in ${seconds.toFixed(1)} s`, byWho, byClass);
  if (failures.length > 0) {
    console.error(`seed ${SEED}: ${failures.length} failing requests\n${failures.join("\n")}`);
  }

  const figures: [string, number | string, string?][] = [
    ["requests fuzzed", cases.length, "target ≥ 10000"],
    ["as admin", byWho.admin],
    ["as member", byWho.member],
    ["5xx answers", byClass["5xx"] ?? 0, "target 0"],
    ["4xx answers", byClass["4xx"] ?? 0],
    ["2xx answers", byClass["2xx"] ?? 0],
    ["requests without an answer", byClass["no answer"] ?? 0, "target 0"],
    ["resets of heads over 16 KiB", byClass["head refused"] ?? 0, "node's 431"],
    ["seed", SEED, "VMS_FUZZ_SEED"],
  ];
  for (const [name, value, note] of figures) {
    recordFigure({ section: "fuzzing", name, value, note });
  }

  expect(failures).toEqual([]);
  expect(cases.length).toBeGreaterThanOrEqual(10_000);
  expect(byWho.admin).toBeGreaterThan(cases.length * 0.3);
  expect(byWho.member).toBeGreaterThan(cases.length * 0.3);

  // The process lives on and answers.
  expect(stack.proc.child.exitCode).toBeNull();
  expect(stack.proc.child.signalCode).toBeNull();
  expect((await fetch(`${stack.base}/`)).status).toBe(300); // the version document, as Cinder's
  await admin("GET", "/volumes/detail");
  expect(stack.proc.output()).not.toMatch(/"msg":"request failed"/);

  // No payload ran in a shell: nothing made under the marker folder, nothing removed from it.
  expect(entries(marker)).toEqual(["canary"]);

  // No file outside the data folders. `before` was taken once the stack had started, so what it made
  // itself (its state folder, tsx's compile cache in its TMPDIR) needs no allow-list: in its TMPDIR,
  // its state folder and the repository root nothing may be new. The machine's temp folder is
  // shared with other runs, so there only an entry named like one of our payloads counts.
  for (const dir of [privateTmp, stack.stateDir, REPO]) {
    expect({ dir, entries: entries(dir) }).toEqual({ dir, entries: before.get(dir) });
  }
  const strays = entries(realTmp).filter((e) => !before.get(realTmp)!.includes(e) && PAYLOAD_NAME.test(e));
  expect(strays).toEqual([]);
  for (const backend of ["file-1", "file-2"]) {
    const odd = entries(path.join(stack.stateDir, backend)).filter((e) => !BACKEND_FILE.test(e));
    expect({ backend, odd }).toEqual({ backend, odd: [] });
  }
});
