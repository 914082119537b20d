/**
 * The admin commands of `vms` (commander). They talk to the volume API over HTTP only, with the
 * OpenStack clients' environment (`OS_*`, see auth.ts) and `--os-*` flags anywhere on the line.
 */
import { Command, CommanderError, Option } from "commander";

import { OS_OPTIONS } from "./auth";
import { CliError } from "./errors";
import { registerEvacuate } from "./evacuate";
import { registerEvacuations } from "./evacuations";
import { registerMigrate } from "./migrate";
import { registerMigrations } from "./migrations";

/** The process modes main/index.ts runs (`vms all|api|scheduler|volume`). */
export const PROCESS_MODES = ["all", "api", "scheduler", "volume"] as const;

export function buildProgram(): Command {
  const program = new Command("vms")
    .description("Volume migration service: run its processes, or drive migrations and evacuations")
    .showHelpAfterError()
    .exitOverride();
  for (const o of OS_OPTIONS) {
    program.addOption(new Option(o.flag, `${o.help}; ${o.env.join(", ")}`));
  }
  registerMigrate(program);
  registerMigrations(program);
  registerEvacuate(program);
  registerEvacuations(program);
  program.addHelpText(
    "after",
    [
      "",
      "Process modes (the service itself, see README):",
      "  vms all|api|scheduler|volume --config FILE [--backend NAME]…",
      "",
      "Environment as python-cinderclient's, e.g. on the embedded default:",
      "  export OS_AUTH_TYPE=noauth OS_ENDPOINT=http://127.0.0.1:8776/v3 OS_USER_ID=admin OS_PROJECT_ID=demo",
    ].join("\n"),
  );
  return program;
}

/** Runs the admin commands on `argv` (process.argv form); resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  process.exitCode = 0;
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors were printed by commander.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      process.stderr.write(`ERROR: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`ERROR: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
