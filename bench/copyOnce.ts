/**
 * One engine copy in its own process: `tsx bench/copyOnce.ts '{"engine":…,"req":…}'`. Prints
 * `BENCH_RESULT {seconds, result, maxRssMib, rssBeforeMib}`. The SSH connections are made and the
 * hosts' tools probed before the clock starts (a worker keeps both between copies), so the time is
 * the copy's alone.
 */
import { silentLogger } from "../common/logger";
import { RunnerFactory } from "../drivers/exec";
import type { VolumeCopier } from "../services/copy/types";
import { type EngineRef, type EngineRun, MARKER, type PlainCopyRequest } from "./engine";
import { timed } from "./measure";

type CopierClass = new (deps: { runners: RunnerFactory; logger: unknown; parallel?: number }) => VolumeCopier;

async function main(): Promise<void> {
  const { engine, req } = JSON.parse(process.argv[2] ?? "{}") as { engine: EngineRef; req: PlainCopyRequest };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(engine.module) as Record<string, unknown>;
  const Copier = mod[engine.className] as CopierClass | undefined;
  if (typeof Copier !== "function") {
    throw new Error(`${engine.module} does not export ${engine.className}`);
  }
  const runners = new RunnerFactory();
  const controller = new AbortController();
  process.on("SIGINT", () => controller.abort(new Error("interrupted")));
  try {
    const copier = new Copier({
      runners,
      logger: silentLogger(),
      ...(engine.streams ? { parallel: engine.streams } : {}),
    });
    await runners.get(req.source.runner).run(["true"]);
    await runners.get(req.dest.runner).run(["true"]);
    // A worker's copier probes each host once (python3, compressors, …) and keeps the answer.
    await copier.probeHosts?.([req.source, req.dest]);
    const rssBeforeMib = process.memoryUsage().rss / 1024 / 1024;
    let result: EngineRun["result"] | undefined;
    const seconds = await timed(async () => {
      result = await copier.copy({ ...req, signal: controller.signal });
    });
    // resourceUsage().maxRSS is in KiB on Linux.
    const maxRssMib = process.resourceUsage().maxRSS / 1024;
    const run: EngineRun = { seconds, result: result!, maxRssMib, rssBeforeMib };
    process.stdout.write(`${MARKER}${JSON.stringify(run)}\n`);
  } finally {
    await runners.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
