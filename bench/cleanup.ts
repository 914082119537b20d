/**
 * Everything the bench makes (LVs, loop devices, sshd processes, temp dirs) is registered here as
 * it is made, and undone newest first in the run's `finally`, which a Ctrl-C reaches too: the
 * signal aborts the run's AbortSignal instead of ending the process.
 */
export class Cleanup {
  private readonly steps: { what: string; undo: () => Promise<void> | void }[] = [];

  add(what: string, undo: () => Promise<void> | void): void {
    this.steps.push({ what, undo });
  }

  /** Runs every step once, newest first; failures are reported and do not stop the others. */
  async run(log: (line: string) => void): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.undo();
      } catch (err) {
        log(`cleanup: could not ${step.what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

/** An AbortSignal that SIGINT/SIGTERM abort (once; a second signal only repeats the notice). */
export function abortOnSignals(log: (line: string) => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    log(`${sig}: stopping, cleaning up (LVs, loop devices, sshd, temp files)…`);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
