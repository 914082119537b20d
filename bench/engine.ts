/**
 * The copy engine under test, reached only through the VolumeCopier interface: whichever class of
 * services/copy declares `implements VolumeCopier` (found by reading the sources when the bench
 * starts, so it keeps working while the engine is rewritten). Each copy runs in a child process
 * (copyOnce.ts) so its peak RSS is the copy's own.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

import type { CopyRequest, CopyResult } from "../services/copy/types";

const COPY_DIR = path.join(__dirname, "../services/copy");
const MARKER = "BENCH_RESULT ";
const KILL_GRACE_MS = 15_000;

export interface EngineRef {
  /** Module path without extension, for require(). */
  module: string;
  className: string;
  /** Segments in flight (`--streams`, the engine's `parallel`); null: the engine's default. */
  streams?: number | null;
}

/** What copyOnce.ts reports. */
export interface EngineRun {
  seconds: number;
  result: CopyResult;
  maxRssMib: number;
  /** RSS once the modules were loaded and the SSH connections made, before copy() started. */
  rssBeforeMib: number;
}

/** The request as JSON: everything of CopyRequest but the callbacks and the signal. */
export type PlainCopyRequest = Omit<CopyRequest, "signal" | "onProgress" | "bpsLimit" | "onCheckpoint">;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      return sourceFiles(p);
    }
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

/**
 * The VolumeCopier classes of services/copy; WANTED picks one by name. Otherwise one from index.ts
 * wins, then any but the original DdCopier (a new engine next to the old one), then the first.
 */
export function findEngine(wanted: string | null): EngineRef {
  const found: EngineRef[] = [];
  for (const file of sourceFiles(COPY_DIR).sort()) {
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(/export\s+class\s+(\w+)[^{]*?\bimplements\b[^{]*?\bVolumeCopier\b/g)) {
      found.push({ module: file.replace(/\.ts$/, ""), className: m[1]! });
    }
  }
  if (wanted !== null) {
    const hit = found.find((e) => e.className === wanted);
    if (!hit) {
      throw new Error(`--engine ${wanted}: services/copy has ${found.map((e) => e.className).join(", ")}`);
    }
    return hit;
  }
  const pick =
    found.find((e) => path.basename(e.module) === "index") ??
    found.find((e) => e.className !== "DdCopier") ??
    found[0];
  if (!pick) {
    throw new Error(`no class in ${COPY_DIR} implements VolumeCopier`);
  }
  return pick;
}

/** Runs one copy in a child process; rejects if it fails, is aborted or takes over TIMEOUTMS. */
export function runEngineCopy(
  engine: EngineRef,
  req: PlainCopyRequest,
  opts: { signal: AbortSignal; timeoutMs: number },
): Promise<EngineRun> {
  const args = [...process.execArgv, path.join(__dirname, "copyOnce.ts"), JSON.stringify({ engine, req })];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (err = (err + s).slice(-4000)));
    // SIGINT first: the engine cancels and removes what it installed (a direct copy's key);
    // SIGKILL if it has not ended within the grace period.
    let hard: NodeJS.Timeout | undefined;
    const kill = (): void => {
      child.kill("SIGINT");
      hard ??= setTimeout(() => child.kill("SIGKILL"), KILL_GRACE_MS);
    };
    const timer = setTimeout(kill, opts.timeoutMs);
    opts.signal.addEventListener("abort", kill, { once: true });
    child.on("error", reject);
    child.on("close", (code, sig) => {
      clearTimeout(timer);
      clearTimeout(hard);
      opts.signal.removeEventListener("abort", kill);
      const line = out.split("\n").find((l) => l.startsWith(MARKER));
      if (code === 0 && line) {
        resolve(JSON.parse(line.slice(MARKER.length)) as EngineRun);
        return;
      }
      if (opts.signal.aborted) {
        reject(opts.signal.reason instanceof Error ? opts.signal.reason : new Error("interrupted"));
        return;
      }
      const why = sig ? `was killed (${sig})` : `exited ${code}`;
      reject(new Error(`engine copy ${why}: ${err.trim() || out.trim()}`));
    });
  });
}

export { MARKER };
