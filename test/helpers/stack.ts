import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { type AppConfig, parseConfig } from "../../common/config";
import { silentLogger } from "../../common/logger";
import type { Db } from "../../db/connection";
import { RunnerFactory } from "../../drivers/exec";
import { MemoryBus } from "../../services/rpc/memory";
import type { Bus } from "../../services/rpc/types";
import { startSchedulerService } from "../../services/scheduler/service";
import {
  type RunningService,
  startVolumeService,
  type VolumeServiceDeps,
} from "../../services/volume/service";

/** A config with two raw-file backends under a fresh temp directory. */
export function twoBackendConfig(extra = ""): { config: AppConfig; stateDir: string } {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-state-"));
  const config = parseConfig(
    `[DEFAULT]
host = test
state_path = ${stateDir}
enabled_backends = file-1, file-2
report_interval = 1
# Generous: on a loaded 2-core machine a heartbeat can be seconds late, and a destination that
# looks down refuses the migration (400) the test is about.
service_down_time = 60
${extra}
[file-1]
volume_driver = rawfile
rawfile_directory = $state_path/file-1
[file-2]
volume_driver = rawfile
rawfile_directory = $state_path/file-2
`,
    {},
  );
  return { config, stateDir };
}

export interface InProcessStack {
  bus: Bus;
  services: RunningService[];
  stop(): Promise<void>;
}

/** Scheduler and one worker per backend in this process, over the in-process bus. */
export async function startInProcessStack(
  db: Db,
  config: AppConfig,
  opts: Pick<VolumeServiceDeps, "wrapCopier"> = {},
): Promise<InProcessStack> {
  const logger = silentLogger();
  const bus = new MemoryBus({ logger });
  const runners = new RunnerFactory();
  const services: RunningService[] = [];
  for (const backend of config.backends) {
    services.push(await startVolumeService({ db, bus, config, backend, runners, logger, ...opts }));
  }
  services.push(await startSchedulerService({ db, bus, config, logger }));
  return {
    bus,
    services,
    async stop() {
      for (const s of services) {
        await s.stop();
      }
      await bus.close();
    },
  };
}

/** Polls until `fn` returns a truthy value (bounded), for state that other components change. */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 30_000,
  pollMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
