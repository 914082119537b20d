/** `npm run bench -- --evacuation`: runs evacuation.ts, prints its table, writes --json FILE. */
import fs from "node:fs";

import { abortOnSignals } from "./cleanup";
import { measureEvacuation } from "./evacuation";
import { buildEvacuationReport, formatEvacuationTable } from "./evacuationReport";
import type { BenchOptions } from "./options";

/** Caps of the run (max_parallel, per host, per pool) and the backends' max_concurrent_migrations. */
const PARALLEL = 8;

export async function runEvacuationBench(opts: BenchOptions, log: (line: string) => void): Promise<void> {
  const { signal, dispose } = abortOnSignals(log);
  try {
    const figures = await measureEvacuation({
      volumes: opts.evacuationVolumes,
      parallel: PARALLEL,
      log,
      signal,
    });
    const report = buildEvacuationReport(figures);
    process.stdout.write(`\n${formatEvacuationTable(report)}\n`);
    if ((report["errors"] as string[]).length > 0) {
      process.exitCode = 1;
    }
    if (opts.json) {
      fs.writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`wrote ${opts.json}`);
    }
  } finally {
    dispose();
  }
}
