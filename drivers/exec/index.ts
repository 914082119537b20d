import { LocalRunner } from "./local";
import type { CommandRunner, RunnerSpec } from "./types";

export * from "./types";
export { LocalRunner } from "./local";

/** Builds (and caches) runners from specs that other workers send over the bus. */
export class RunnerFactory {
  private readonly local = new LocalRunner();

  get(spec: RunnerSpec): CommandRunner {
    switch (spec.kind) {
      case "local":
        return this.local;
      default: {
        const never: never = spec.kind;
        throw new Error(`Unknown runner kind: ${String(never)}`);
      }
    }
  }

  async close(): Promise<void> {
    await this.local.close();
  }
}
