/**
 * Load (issue 14, item 5): 64 concurrent clients on volume show and volume list, and 64 migrate
 * requests at once over distinct volumes, on the embedded default and on PostgreSQL + RabbitMQ.
 * Latencies are printed beside the targets (show p99 < 10 ms, migrate accept p99 < 50 ms on
 * loopback) and not asserted: the load generator shares the machine's two cores with the service.
 * What is asserted is that every request under load was answered correctly.
 */
import { performance } from "node:perf_hooks";

import { call, createVolumes, listVolumes, otherPool, pool } from "./client";
import { percentile, recordFigure } from "./figures";
import { type ReliabilityStack, STACK_MODES, startStack } from "./stack";

const CLIENTS = 64;
const SHOWS = Number(process.env["VMS_REL_SHOWS"] ?? 5000);
const LISTS = Number(process.env["VMS_REL_LISTS"] ?? 1000);

async function measure(
  stack: ReliabilityStack,
  n: number,
  path: (i: number) => string,
): Promise<{ ms: number[]; perSecond: number; failures: number }> {
  const t0 = performance.now();
  const answers = await pool(
    CLIENTS,
    Array.from({ length: n }, (_, i) => () => call(stack, "admin", "GET", path(i))),
  );
  const seconds = (performance.now() - t0) / 1000;
  return {
    ms: answers.map((a) => a.ms),
    perSecond: Math.round(n / seconds),
    failures: answers.filter((a) => a.status !== 200).length,
  };
}

function report(mode: string, what: string, ms: number[], perSecond: number | null, target: string): void {
  const p50 = percentile(ms, 50).toFixed(1);
  const p99 = percentile(ms, 99).toFixed(1);
  recordFigure({
    section: "load",
    name: `${mode}: ${what}`,
    value: `p50 ${p50} ms, p99 ${p99} ms${perSecond === null ? "" : `, ${perSecond}/s`}`,
    note: `target ${target}`,
  });
}

describe.each(STACK_MODES)("on the %s", (mode, setup) => {
  let stack: ReliabilityStack;
  let cleanup: () => Promise<void>;
  let ids: string[];

  beforeAll(async () => {
    const s = await setup();
    cleanup = s.cleanup;
    stack = await startStack({
      ...s.opts,
      nativeMigration: true,
      extra: "quota_volumes = -1\nquota_gigabytes = -1\nmax_concurrent_migrations = 0",
    });
    ids = await createVolumes(stack, CLIENTS, "load");
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
    await cleanup?.();
  });

  test(`${CLIENTS} clients: volume show and volume list answer every request`, async () => {
    // Warm-up: the first requests pay for connections and the JIT.
    await measure(stack, 200, (i) => `/volumes/${ids[i % ids.length]}`);
    const show = await measure(stack, SHOWS, (i) => `/volumes/${ids[i % ids.length]}`);
    const list = await measure(stack, LISTS, () => "/volumes/detail?limit=50");
    expect(show.failures).toBe(0);
    expect(list.failures).toBe(0);
    report(mode, `volume show × ${SHOWS}, ${CLIENTS} clients`, show.ms, show.perSecond, "p99 < 10 ms");
    report(mode, `volume list (detail, 50) × ${LISTS}, ${CLIENTS} clients`, list.ms, list.perSecond, "-");
  }, 600_000);

  test(`${CLIENTS} migrate requests at once over distinct volumes: all accepted`, async () => {
    const hosts = new Map((await listVolumes(stack)).map((v) => [v.id, v["os-vol-host-attr:host"]!]));
    const answers = await Promise.all(
      ids.map((id) =>
        call(stack, "admin", "POST", `/volumes/${id}/action`, {
          "os-migrate_volume": {
            host: otherPool(hosts.get(id)!),
            force_host_copy: false,
            lock_volume: false,
          },
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(ids.map(() => 202));
    report(
      mode,
      `migrate accept × ${CLIENTS} at once`,
      answers.map((a) => a.ms),
      null,
      "p99 < 50 ms",
    );
  }, 300_000);
});
