import path from "node:path";

import { type ServiceProcess, startProcess } from "../helpers/processes";
import { type DistStack, type Role, startDistStack } from "./distStack";
import {
  createTrackedVolume,
  type FaultOutcome,
  type FaultTarget,
  migrateThroughFault,
  type TrackedVolume,
  warningsOf,
} from "./faultRun";
import { recordFigure } from "./figures";
import { type OwnPostgres, type OwnRabbit, startOwnPostgres, startOwnRabbit } from "./ownServers";
import { PROJECT, type ReliabilityStack, startStack } from "./stack";

/**
 * Issue 14 item 2, the faults that need no lab: each injected VMS_REL_FAULT_REPEAT times (2 by
 * default) in the middle of a generic copy of a 1 GiB volume with random data in it, moved back
 * and forth between two raw-file backends. After each, faultRun.ts checks the data, the
 * migration's end (finished, or a clean error with a reason), that nothing is left over and that
 * every service is up again; the figures say how many were injected and survived, and how each
 * ended.
 */
const REPEAT = Math.max(1, Number(process.env["VMS_REL_FAULT_REPEAT"] ?? 2));
const MiB = 1024 * 1024;
/**
 * 1 GiB at 128 MiB/s: about 8 s of copy, so that a fault lands mid-copy (progress is written
 * every second) and a dozen faults stay within a few minutes.
 */
const COPY_BPS = 128 * MiB;
/**
 * Where the repeats strike: a quarter of the way, before the first checkpoint (the copy's two
 * parallel 256 MiB segments end at half), and past two thirds, after it, so that a killed copy
 * is seen both rolled back and resumed.
 */
const STRIKE_AT = [0.25, 0.65];

/**
 * Injects a fault kind REPEAT times on the tracked volume and records what happened. SUCCESS_WORD
 * names a migration that ended `success`: "resumed" where the copying process died, "finished"
 * where the copy went on.
 */
async function injectRepeatedly(
  kind: string,
  successWord: string,
  target: FaultTarget,
  vol: TrackedVolume,
  inject: (i: number, backends: { source: string; dest: string }) => Promise<void>,
  opts: { mustFinish?: boolean } = {},
): Promise<void> {
  const outcomes: FaultOutcome[] = [];
  const took: number[] = [];
  let injected = 0;
  try {
    for (let i = 0; i < REPEAT; i++) {
      const t0 = Date.now();
      outcomes.push(
        await migrateThroughFault(target, vol, STRIKE_AT[i % STRIKE_AT.length]!, async (backends) => {
          injected++;
          await inject(i, backends);
        }),
      );
      took.push(Date.now() - t0);
    }
  } catch (e) {
    console.log(`${kind} failed; what the processes logged:\n${warningsOf(target)}`);
    throw e;
  } finally {
    const ends = (state: string): number => outcomes.filter((o) => o.state === state).length;
    const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    recordFigure({ section: "faults", name: `${kind}: injected`, value: injected });
    recordFigure({
      section: "faults",
      name: `${kind}: survived`,
      value: outcomes.length,
      note: `of ${injected}`,
    });
    recordFigure({
      section: "faults",
      name: `${kind}: ended`,
      value: `${successWord} ${ends("success")}, rolled back ${ends("error")}`,
      note: outcomes
        .map(
          (o, i) =>
            `at ${o.atPercent} %: ${o.state}, settled in ${secs(o.settleMs)}, ${secs(took[i]!)} in all`,
        )
        .join("; "),
    });
  }
  expect(outcomes).toHaveLength(REPEAT);
  if (opts.mustFinish) {
    // Item 6: this fault is routine; a clean rollback is not enough, the copy must finish.
    expect(outcomes.map((o) => `${o.state}${o.error ? `: ${o.error}` : ""}`)).toEqual(
      outcomes.map(() => "success"),
    );
  }
}

/** The distributed stack, its own servers and its volume; started while the all-in-one tests run. */
interface DistWorld {
  pg?: OwnPostgres;
  rabbit?: OwnRabbit;
  s?: DistStack;
  vol?: TrackedVolume;
}
const world: DistWorld = {};
let distReady: Promise<void> = Promise.resolve();

async function startDistWorld(w: DistWorld): Promise<void> {
  // Both awaited even when one fails, so that afterAll finds whatever did start.
  const started = await Promise.allSettled([
    startOwnPostgres().then((pg) => (w.pg = pg)),
    startOwnRabbit().then((rabbit) => (w.rabbit = rabbit)),
  ]);
  for (const r of started) {
    if (r.status === "rejected") {
      throw r.reason;
    }
  }
  w.s = await startDistStack({
    adminPgUrl: w.pg!.adminUrl,
    transportUrl: w.rabbit!.url,
    copyBps: COPY_BPS,
    reportInterval: 1,
    // Short enough that a dead or cut-off service is seen down within the test, long enough for
    // heartbeats late on a busy machine.
    serviceDownTime: 15,
  });
  w.vol = await createTrackedVolume(w.s, "fault-distributed");
}

beforeAll(() => {
  distReady = startDistWorld(world);
  // Awaited by the distributed tests; a failure is theirs to report.
  distReady.catch(() => undefined);
});

afterAll(async () => {
  await distReady.catch(() => undefined);
  await world.s?.stop();
  await Promise.all([world.pg?.destroy(), world.rabbit?.destroy()]);
}, 120_000);

describe("all-in-one process on the embedded default", () => {
  let stack: ReliabilityStack;
  let proc: ServiceProcess;
  let vol: TrackedVolume;
  const target = (): FaultTarget => ({
    api: { base: `${stack.base}/v3/${PROJECT}`, headers: stack.headers("admin") },
    stateDir: stack.stateDir,
    logs: () => new Map([["all", proc.output()]]),
  });

  beforeAll(async () => {
    stack = await startStack({ extra: `volume_copy_bps_limit = ${COPY_BPS}` });
    proc = stack.proc;
    vol = await createTrackedVolume(target(), "fault-allinone");
  }, 180_000);

  afterAll(async () => {
    // The process started last; stack.stop() then finds its own one gone and removes the folder.
    await proc?.stop();
    await stack?.stop();
  });

  test("kill -9 of the all-in-one process mid-copy, then a restart", async () => {
    await injectRepeatedly("all-in-one kill -9", "resumed", target(), vol, async () => {
      await proc.kill();
      proc = await startProcess(["all", "--config", path.join(stack.stateDir, "cinder.conf")], {
        env: { VMS_LOG_LEVEL: process.env["VMS_LOG_LEVEL"] ?? "warn" },
        readyLine: /listening on http/,
        readyTimeoutMs: 180_000,
      });
    });
  }, 600_000);
});

describe("distributed stack on PostgreSQL and RabbitMQ of its own", () => {
  beforeAll(() => distReady, 300_000);

  const restart = async (role: Role): Promise<void> => {
    await world.s!.procs.get(role)!.kill();
    await world.s!.start(role);
  };

  test("kill -9 of the source volume worker mid-copy, then a restart", async () => {
    await injectRepeatedly("source worker kill -9", "resumed", world.s!, world.vol!, (_, { source }) =>
      restart(source as Role),
    );
  }, 600_000);

  test.each([["scheduler"], ["api"]] as const)(
    "kill -9 of the %s process mid-copy, then a restart",
    async (role) => {
      await injectRepeatedly(`${role} kill -9`, "finished", world.s!, world.vol!, () => restart(role));
    },
    600_000,
  );

  test("RabbitMQ restart mid-copy", async () => {
    await injectRepeatedly(
      "RabbitMQ restart",
      "finished",
      world.s!,
      world.vol!,
      async () => {
        await world.rabbit!.stop();
        await world.rabbit!.start();
      },
      { mustFinish: true },
    );
  }, 600_000);

  test("PostgreSQL restart mid-copy (stop -m fast, then -m immediate: a crash)", async () => {
    await injectRepeatedly("PostgreSQL restart", "finished", world.s!, world.vol!, async (i) => {
      await world.pg!.stop(i % 2 === 0 ? "fast" : "immediate");
      await world.pg!.start();
    });
  }, 600_000);
});
