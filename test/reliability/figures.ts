/**
 * The tier's figures: each test appends what it measured (one JSON line per figure) and
 * bin/report.ts prints them as one table at the end and writes them as JSON for CI.
 */
import fs from "node:fs";
import path from "node:path";

export const RESULTS_DIR = path.resolve(__dirname, ".results");
export const FIGURES_FILE = path.join(RESULTS_DIR, "figures.jsonl");

export interface Figure {
  /** The acceptance line it answers: fuzzing, faults, concurrency, authorisation, load. */
  section: string;
  name: string;
  value: number | string;
  /** What it is compared with (a target that is printed, not asserted), or a unit. */
  note?: string;
}

export function recordFigure(f: Figure): void {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.appendFileSync(FIGURES_FILE, `${JSON.stringify(f)}\n`);
}

/** Latency percentile (nearest rank) of samples in milliseconds. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) {
    return NaN;
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
