/** A RunnerFactory that records what its runners are asked to run, for tests of the copy engine. */
import path from "node:path";

import { RunnerFactory } from "../../drivers/exec";
import type { CommandRunner, RunnerSpec } from "../../drivers/exec/types";

export class RecordingRunners extends RunnerFactory {
  /** Every argv run or spawned, in order. */
  readonly calls: (readonly string[])[] = [];

  override get(spec: RunnerSpec): CommandRunner {
    const inner = super.get(spec);
    const calls = this.calls;
    // A proxy, not a new object: the direct transport asks whether the source's runner is SSH.
    return new Proxy(inner, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (prop === "run" || prop === "spawn") {
          return (argv: readonly string[], opts: unknown) => {
            calls.push(argv);
            return (value as (a: readonly string[], o: unknown) => unknown).call(target, argv, opts);
          };
        }
        return typeof value === "function" ? (value as () => unknown).bind(target) : value;
      },
    });
  }

  /**
   * Each call as "<program> <name>" (bash -c SCRIPT NAME …, python3 -I -S -c SCRIPT MODE …), and
   * its last argument after that when `withLast`.
   */
  labels(withLast = false): string[] {
    return this.calls.map((argv) => {
      const label = `${path.basename(argv[0]!)} ${argv[argv.indexOf("-c") + 2]}`;
      return withLast ? `${label} ${argv.at(-1)}` : label;
    });
  }
}
