import path from "node:path";

import { listEvacuationItems } from "../../db/evacuations";
import { listMigrations } from "../../db/migrationRecords";
import { getVolume } from "../../db/volumes";
import { startProcess } from "../helpers/processes";
import { waitFor } from "../helpers/stack";
import { type KillStack, startKillStack } from "./killStack";

/**
 * Issue 11, "kill -9 of any process mid-evacuation": on the distributed stack (PostgreSQL,
 * RabbitMQ, api, scheduler and two workers as real processes) the scheduler, which drives the
 * evacuation, is killed with SIGKILL mid-way and started again; once the dead process's lease has
 * run out the new one goes on where it stood, the evacuation completes, and every volume was
 * migrated exactly once.
 */
const HOST = "evackill";
const VOLUMES = 6;
let s: KillStack;

beforeAll(async () => {
  s = await startKillStack({ host: HOST, reportInterval: 1, copyBps: 0 });
}, 120_000);

afterAll(async () => {
  await s?.stop();
});

interface Evacuation {
  id: string;
  status: string;
  items: { volume_id: string; state: string }[];
}

test("the scheduler killed mid-evacuation: restarted, it finishes the evacuation and no volume moves twice", async () => {
  // Every volume on file-1: file-2 takes none while disabled.
  const off = await s.http("PUT", "/os-services/disable", {
    host: `${HOST}@file-2`,
    binary: "cinder-volume",
  });
  expect(off.status).toBe(200);
  const ids: string[] = [];
  for (let i = 0; i < VOLUMES; i++) {
    const created = await s.http("POST", "/volumes", { volume: { size: 1, name: `evac-${i}` } });
    expect(created.status).toBe(202);
    ids.push((created.json as { volume: { id: string } }).volume.id);
  }
  for (const id of ids) {
    const v = await waitFor(async () => {
      const row = await getVolume(s.t.db, id);
      return row?.status === "available" ? row : undefined;
    }, "volume available");
    expect(v.host).toBe(`${HOST}@file-1#file-1`);
  }
  const on = await s.http("PUT", "/os-services/enable", { host: `${HOST}@file-2`, binary: "cinder-volume" });
  expect(on.status).toBe(200);

  const posted = await s.http("POST", "/evacuations", {
    evacuation: { source: `${HOST}@file-1`, destination: `${HOST}@file-2`, max_parallel: 1 },
  });
  expect(posted.status).toBe(202);
  const evacuation = (posted.json as { evacuation: Evacuation }).evacuation;
  expect(evacuation.items).toHaveLength(VOLUMES);

  // Mid-way: at least one volume moved, at least two still to go.
  await waitFor(
    async () => {
      const items = await listEvacuationItems(s.t.db, evacuation.id);
      const done = items.filter((i) => i.state === "succeeded").length;
      const pending = items.filter((i) => i.state === "pending").length;
      return done >= 1 && pending >= 2;
    },
    "the evacuation under way",
    120_000,
    20,
  );
  await s.procs.get("scheduler")!.kill();
  const atKill = await listEvacuationItems(s.t.db, evacuation.id);
  expect(atKill.some((i) => i.state === "pending")).toBe(true);

  const restarted = await startProcess(["scheduler", "--config", path.join(s.stateDir, "cinder.conf")], {
    readyLine: /scheduler started/,
  });
  s.procs.set("scheduler", restarted);

  const done = await waitFor(
    async () => {
      const r = await s.http("GET", `/evacuations/${evacuation.id}`);
      const e = (r.json as { evacuation: Evacuation }).evacuation;
      return ["completed", "completed_with_errors", "cancelled", "failed"].includes(e.status) ? e : undefined;
    },
    "the evacuation to end",
    240_000,
    500,
  );
  expect(done.status).toBe("completed");
  expect(done.items.map((i) => i.state)).toEqual(Array(VOLUMES).fill("succeeded"));
  for (const id of ids) {
    // Exactly one migration per volume, and it succeeded.
    expect((await listMigrations(s.t.db, { volumeId: id })).map((m) => m.state)).toEqual(["success"]);
    expect((await getVolume(s.t.db, id))!.host).toBe(`${HOST}@file-2#file-2`);
  }
  // The restarted scheduler took the evacuation over and logged its summary.
  expect(restarted.output()).toMatch(/driving evacuation/);
  expect(restarted.output()).toContain(
    `evacuation ${evacuation.id} completed: ${VOLUMES}/${VOLUMES} volumes moved`,
  );
}, 420_000);
