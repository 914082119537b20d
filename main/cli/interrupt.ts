/**
 * Ctrl-C while `--wait` watches a migration or an evacuation. With a terminal on stdin it asks
 * whether to cancel the work (the answer "y" cancels it through the API and the wait goes on until
 * it has stopped; anything else goes back to watching). Without one, or on a second Ctrl-C at the
 * question, `vms` leaves at once (exit 130) and the work goes on in the service.
 */
import { createInterface } from "node:readline";

import type { ProgressView } from "./progress";

export interface InterruptOptions {
  /** E.g. "cancel the migration? [y/N] ". */
  question: string;
  view: ProgressView;
  cancel: () => Promise<void>;
  /** Printed when leaving without cancelling, e.g. how to cancel later. */
  leaving: string;
}

/** Installs the SIGINT handler; the returned function removes it. */
export function onInterrupt(o: InterruptOptions): () => void {
  let asking = false;
  const leave = (): never => {
    o.view.stop();
    process.stderr.write(`\n${o.leaving}\n`);
    process.exit(130);
  };
  const handler = (): void => {
    if (asking) {
      return;
    }
    if (!process.stdin.isTTY) {
      leave();
    }
    asking = true;
    o.view.hold(true);
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    rl.on("SIGINT", () => {
      rl.close();
      leave();
    });
    rl.question(`\n${o.question}`, (answer) => {
      rl.close();
      asking = false;
      o.view.hold(false);
      if (!/^y(es)?$/i.test(answer.trim())) {
        o.view.log("going on watching (Ctrl-C again to be asked again)");
        return;
      }
      o.cancel().then(
        () => o.view.log("cancel requested; waiting for it to stop"),
        (err: unknown) => o.view.log(`cannot cancel: ${(err as Error).message}`),
      );
    });
  };
  process.on("SIGINT", handler);
  return () => {
    process.off("SIGINT", handler);
  };
}
