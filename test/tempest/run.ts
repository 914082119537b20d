/**
 * Runs one tempest module with `python3 -m testtools.run` (no stestr repository to set up, and one
 * process per module gives a per-module verdict) and reads its plain-text result: the closing
 * `OK` / `FAILED (failures=N, errors=M)`, `Ran N tests`, and each FAIL:/ERROR: block, from which
 * the last exception line (tempest's `Details: …` when the API answered) is kept as the reason.
 */
import { execFile } from "node:child_process";

import type { TempestWorkspace } from "./config";

/** Debian's interpreter: tempest is a Debian package, and `python3` on PATH may be another one. */
export const TEMPEST_PYTHON = process.env["VMS_TEMPEST_PYTHON"] ?? "/usr/bin/python3";

export interface TestFailure {
  test: string;
  reason: string;
}

export interface ModuleResult {
  module: string;
  ok: boolean;
  ran: number;
  failures: TestFailure[];
  seconds: number;
  output: string;
}

/** The last meaningful line of a traceback block: `Details: …` if present, else the exception. */
function reasonOf(block: string): string {
  const lines = block
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^-+$/.test(l) && !/^[}{]+$/.test(l));
  const details = lines.findIndex((l) => l.startsWith("Details:"));
  if (details >= 0) {
    const exception = lines[details - 1] ?? "";
    return `${exception} ${lines[details]}`.trim();
  }
  return lines[lines.length - 1] ?? "(no output)";
}

/** @internal Parses testtools.run's output. */
export function parseTesttoolsOutput(module: string, output: string, seconds = 0): ModuleResult {
  const ran = Number(/^Ran (\d+) tests?/m.exec(output)?.[1] ?? 0);
  const ok = /^OK\b/m.test(output) && ran > 0;
  const failures: TestFailure[] = [];
  const blocks = output.split(/^={50,}$/m).slice(1);
  for (const block of blocks) {
    const m = /^(FAIL|ERROR): (\S+)/m.exec(block);
    if (m) {
      const body = block.slice(block.indexOf("Traceback") >= 0 ? block.indexOf("Traceback") : 0);
      // Cut at the runner's summary that follows the last block.
      failures.push({
        test: m[2]!.replace(/\[id-[^\]]+\]$/, ""),
        reason: reasonOf(body.split(/^Ran \d+ tests?/m)[0]!),
      });
    }
  }
  if (!ok && failures.length === 0) {
    // An import error or a crash before any test: the tail says why.
    failures.push({ test: module, reason: reasonOf(output.split(/^Ran \d+ tests?/m)[0]!) });
  }
  return { module, ok, ran, failures, seconds, output };
}

export function runTempestModule(
  module: string,
  ws: TempestWorkspace,
  timeoutMs = 600_000,
): Promise<ModuleResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      TEMPEST_PYTHON,
      ["-m", "testtools.run", module],
      {
        cwd: ws.dir,
        env: { ...process.env, TEMPEST_CONFIG_DIR: ws.configDir, PYTHONWARNINGS: "ignore" },
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      },
      (_err, stdout, stderr) => {
        const seconds = Math.round((Date.now() - started) / 100) / 10;
        resolve(parseTesttoolsOutput(module, `${stdout}\n${stderr}`, seconds));
      },
    );
  });
}

/** Whether Debian's tempest can be imported by TEMPEST_PYTHON. */
export function tempestInstalled(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(TEMPEST_PYTHON, ["-c", "import tempest, testtools"], (err) => resolve(!err));
  });
}

export function summarize(results: readonly ModuleResult[]): string {
  return results
    .map((r) => {
      const head = `${r.ok ? "PASS" : "FAIL"} ${r.module}: ${r.ran} ran, ${r.failures.length} failed (${r.seconds} s)`;
      return [head, ...r.failures.map((f) => `    ${f.test}: ${f.reason}`)].join("\n");
    })
    .join("\n");
}
