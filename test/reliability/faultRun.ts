/**
 * One fault injected in the middle of a generic copy between the two raw-file backends, and what
 * must hold after it (issue 14 item 2): the data intact, the migration finished or cleanly
 * rolled back with a reason, nothing for an operator to reset or clean up, every service up.
 * Everything is read through the API, as an operator would (the all-in-one's embedded database
 * cannot be opened from outside its process).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

import { waitFor } from "../helpers/stack";
import { otherPool } from "./client";

export interface ApiTarget {
  /** `http://host:port/v3/<project>` */
  base: string;
  /** An admin's headers. */
  headers: Record<string, string>;
}

export interface FaultTarget {
  api: ApiTarget;
  /** state_path: the raw-file backends' folders are `file-1/` and `file-2/` in it. */
  stateDir: string;
  /** Each process's captured output by role, for a failure's post-mortem. */
  logs?: () => Map<string, string>;
}

/**
 * The last warnings and errors each process logged (pino levels 40+, and anything not JSON), for
 * the CI log when a fault run fails: CI keeps no files, so this is all a later reader has.
 */
export function warningsOf(t: FaultTarget, perProcess = 25): string {
  const out: string[] = [];
  for (const [role, text] of t.logs?.() ?? []) {
    const lines = text.split("\n").filter((l) => {
      const m = /^\{"level":(\d+)/.exec(l);
      return l.trim() !== "" && (!m || Number(m[1]) >= 40);
    });
    out.push(`--- ${role}: last ${Math.min(perProcess, lines.length)} of ${lines.length} warnings`);
    out.push(...lines.slice(-perProcess).map((l) => l.slice(0, 600)));
  }
  return out.join("\n");
}

/** The volume the faults move back and forth, and the sha256 its data must keep. */
export interface TrackedVolume {
  id: string;
  sha: string;
}

export interface FaultOutcome {
  state: "success" | "error";
  /** The migration's error when it rolled back. */
  error: string | null;
  /** How far the copy was when the fault was injected. */
  atPercent: number;
  /** From the injection to the migration's end. */
  settleMs: number;
}

const MiB = 1024 * 1024;
const BACKENDS = ["file-1", "file-2"] as const;
const GiB = 1024 * MiB;
/** Written at a time when filling a volume. */
const CHUNK = 16 * MiB;

interface Migration {
  id: string;
  state: string;
  error: string | null;
  progress: { bytes_done: number; bytes_total: number | null };
}

interface Volume {
  id: string;
  status: string;
  "os-vol-host-attr:host": string;
  "os-vol-mig-status-attr:migstat": string | null;
  "os-vol-mig-status-attr:name_id": string | null;
}

const run = promisify(execFile);

/**
 * The file's sha256 by openssl, which uses the CPU's SHA instructions (a quarter of sha256sum's
 * CPU time for 1 GiB), without blocking this process's polls meanwhile.
 */
async function sha256(file: string): Promise<string> {
  const { stdout } = await run("openssl", ["dgst", "-sha256", "-r", file]);
  return stdout.split(" ")[0]!;
}

/** One request, bounded; `undefined` when nobody answered (the API process down or restarting). */
export async function request(
  api: ApiTarget,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> } | undefined> {
  try {
    const res = await fetch(`${api.base}${url}`, {
      method,
      signal: AbortSignal.timeout(30_000),
      headers: { ...api.headers, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  } catch {
    return undefined;
  }
}

/** GET's body when it is a 200, else `undefined` (polls go on through outages). */
async function get<T>(api: ApiTarget, url: string, key: string): Promise<T | undefined> {
  const r = await request(api, "GET", url);
  return r?.status === 200 ? (r.json[key] as T) : undefined;
}

function backendOf(host: string): string {
  return host.split("@")[1]!.split("#")[0]!;
}

function volumeFile(t: FaultTarget, v: Volume): string {
  return path.join(
    t.stateDir,
    backendOf(v["os-vol-host-attr:host"]),
    `volume-${v["os-vol-mig-status-attr:name_id"] ?? v.id}`,
  );
}

/**
 * A 1 GiB volume filled with random data, and its file's sha256. Filled, not sparse: the copy
 * skips holes, so only real data makes it last as long as volume_copy_bps_limit says.
 */
export async function createTrackedVolume(t: FaultTarget, name: string): Promise<TrackedVolume> {
  const created = await request(t.api, "POST", "/volumes", { volume: { size: 1, name } });
  expect(created?.status).toBe(202);
  const id = (created!.json["volume"] as { id: string }).id;
  const v = await waitFor(async () => {
    const got = await get<Volume>(t.api, `/volumes/${id}`, "volume");
    return got?.status === "available" ? got : undefined;
  }, `volume ${name} available`);
  const fd = fs.openSync(volumeFile(t, v), "r+");
  for (let at = 0; at < GiB; at += CHUNK) {
    fs.writeSync(fd, randomBytes(CHUNK), 0, CHUNK, at);
  }
  fs.closeSync(fd);
  return { id, sha: await sha256(volumeFile(t, v)) };
}

/**
 * Every volume service and scheduler `up`, enabled, with a heartbeat written after SINCE (so a
 * restarted process, not the row its killed predecessor left, is what reports).
 */
export async function servicesUp(t: FaultTarget, since: number, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    async () => {
      const rows = await get<{ state: string; status: string; updated_at: string | null }[]>(
        t.api,
        "/os-services",
        "services",
      );
      return (
        rows !== undefined &&
        rows.length >= 3 &&
        rows.every(
          (s) =>
            s.state === "up" &&
            s.status === "enabled" &&
            Date.parse(`${s.updated_at ?? ""}Z`) >= since - 1000,
        )
      );
    },
    "every service up with a fresh heartbeat",
    timeoutMs,
    250,
  );
}

/**
 * Migrates the tracked volume to the other backend, calls INJECT (with the source and destination
 * backends) once the copy has done AT_LEAST of its bytes, then checks everything the issue asks of
 * the outcome.
 */
export async function migrateThroughFault(
  t: FaultTarget,
  vol: TrackedVolume,
  atLeast: number,
  inject: (backends: { source: string; dest: string }) => Promise<void>,
): Promise<FaultOutcome> {
  // Every service reporting now, not merely within service_down_time: a heartbeat 14 s old passes
  // `up` here and may be past the scheduler's 15 s by the time it places the copy.
  await servicesUp(t, Date.now() - 2000);
  const before = (await get<Volume>(t.api, `/volumes/${vol.id}`, "volume"))!;
  const source = before["os-vol-host-attr:host"];
  const dest = otherPool(source);
  const earlier = new Set(
    ((await get<Migration[]>(t.api, `/migrations?volume_id=${vol.id}`, "migrations")) ?? []).map((m) => m.id),
  );
  const accepted = await request(t.api, "POST", `/volumes/${vol.id}/action`, {
    "os-migrate_volume": { host: dest, force_host_copy: true },
  });
  expect(accepted?.status).toBe(202);

  const running = await waitFor(
    async () => {
      const list = await get<Migration[]>(t.api, `/migrations?volume_id=${vol.id}`, "migrations");
      const m = list?.find((x) => !earlier.has(x.id));
      if (m && (m.state === "success" || m.state === "error")) {
        throw new Error(`the migration ended (${m.state}: ${m.error}) before the fault could be injected`);
      }
      const total = m?.progress.bytes_total ?? 0;
      return m?.state === "migrating" && total > 0 && m.progress.bytes_done >= total * atLeast
        ? m
        : undefined;
    },
    `${atLeast * 100} % of the copy`,
    120_000,
    50,
  );
  const atPercent = Math.round((running.progress.bytes_done * 100) / running.progress.bytes_total!);
  const injectedAt = Date.now();
  await inject({ source: backendOf(source), dest: backendOf(dest) });

  const done = await waitFor(
    async () => {
      const m = await get<Migration>(t.api, `/migrations/${running.id}`, "migration");
      return m && (m.state === "success" || m.state === "error") ? m : undefined;
    },
    "the migration's end",
    240_000,
    250,
  );
  const settleMs = Date.now() - injectedAt;
  await checkAftermath(t, vol, done, { source, dest });
  await servicesUp(t, injectedAt);
  return { state: done.state as FaultOutcome["state"], error: done.error, atPercent, settleMs };
}

/** The volume usable, its data intact, and no temp volume, stray file or active migration left. */
async function checkAftermath(
  t: FaultTarget,
  vol: TrackedVolume,
  m: Migration,
  hosts: { source: string; dest: string },
): Promise<void> {
  const v = (await get<Volume>(t.api, `/volumes/${vol.id}`, "volume"))!;
  // Nothing to reset-state: the volume is usable and its migration status is final.
  expect({ status: v.status, migstat: v["os-vol-mig-status-attr:migstat"] }).toEqual({
    status: "available",
    migstat: m.state,
  });
  if (m.state === "success") {
    expect(v["os-vol-host-attr:host"]).toBe(hosts.dest);
  } else {
    // A clean error says why, and the volume stayed where its data is.
    expect(m.error).toEqual(expect.stringMatching(/\S/));
    expect(v["os-vol-host-attr:host"]).toBe(hosts.source);
  }
  const file = volumeFile(t, v);
  // Hashed while the leftovers are awaited: both take seconds on a busy machine.
  const [sha] = await Promise.all([sha256(file), onlyVolumeLeft(t, vol, file)]);
  expect(sha).toBe(vol.sha);
}

/** Waits until the volume's file and row are all that is left: no temp volume, file or active migration. */
async function onlyVolumeLeft(t: FaultTarget, vol: TrackedVolume, file: string): Promise<void> {
  const expected = `${path.basename(path.dirname(file))}/${path.basename(file)}`;
  let seen = "";
  // The temp volume (or the old source) is removed after the migration ends: give it time.
  await waitFor(
    async () => {
      const files = BACKENDS.flatMap((b) => {
        const dir = path.join(t.stateDir, b);
        return fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => `${b}/${f}`) : [];
      });
      const volumes = (await get<{ id: string }[]>(t.api, "/volumes?all_tenants=1", "volumes"))?.map(
        (x) => x.id,
      );
      const active = (await get<Migration[]>(t.api, "/migrations?active=true", "migrations"))?.map(
        (x) => x.id,
      );
      seen = JSON.stringify({ files, volumes, active });
      return seen === JSON.stringify({ files: [expected], volumes: [vol.id], active: [] });
    },
    `only ${expected} left`,
    120_000,
    250,
  ).catch((e: unknown) => {
    throw new Error(`${(e as Error).message} (no temp volume, stray file or active migration); saw ${seen}`);
  });
}
