import { silentLogger } from "../../common/logger";
import type { Change, MigrationChange } from "../../db/changes";
import type { MigrationRow } from "../../db/migrationRecords";
import type { VolumeRow } from "../../db/volumes";
import { type ChangeBatch, ChangeFeed, type ChangeSource } from "../../services/events/changeFeed";

/** A source whose rows and clock the test sets; `since` is the window's start each read asked for. */
function fakeSource() {
  const s = {
    clock: 100_000,
    migrations: [] as MigrationChange[],
    volumes: [] as Change[],
    evacuations: [] as Change[],
    reads: [] as number[],
    fail: false,
  };
  const after = <T extends Change>(rows: T[], since: Date): T[] => rows.filter((r) => r.changed_at > since);
  const source: ChangeSource = {
    now: async () => {
      if (s.fail) {
        throw new Error("database down");
      }
      return new Date(s.clock);
    },
    migrations: async (since) => {
      s.reads.push(since.getTime());
      return after(s.migrations, since);
    },
    volumes: async (since) => after(s.volumes, since),
    evacuations: async (since) => after(s.evacuations, since),
    migrationRows: async (ids) => ids.map((id) => ({ id }) as MigrationRow),
    volumeRows: async (ids) => ids.map((id) => ({ id }) as VolumeRow),
  };
  return { s, source };
}

const at = (id: string, ms: number): Change => ({ id, changed_at: new Date(ms) });

test("the first poll only takes the reference; later polls send each change once, again when it changes again", async () => {
  const { s, source } = fakeSource();
  const feed = new ChangeFeed({ source, logger: silentLogger(), intervalMs: 60_000, overlapMs: 10_000 });
  s.volumes = [at("v-old", 95_000)];
  const batches: ChangeBatch[] = [];
  const stop = feed.subscribe((b) => batches.push(b));
  await feed.poll();
  expect(batches).toEqual([]);

  // A change after the reference, and one stamped before it but committed since (inside the overlap).
  s.clock = 101_000;
  s.migrations = [{ ...at("m1", 100_500), project_id: "demo" }];
  s.volumes = [at("v-old", 95_000), at("v-late", 99_000)];
  await feed.poll();
  expect(batches).toHaveLength(1);
  expect(batches[0]!.migrations).toEqual([{ id: "m1", project_id: "demo" }]);
  expect(batches[0]!.volumes.map((v) => v.id)).toEqual(["v-late"]);
  // The window reaches the overlap before the previous poll's time.
  expect(s.reads.at(-1)).toBe(90_000);

  // Nothing new: the rows still in the window are not sent again.
  s.clock = 102_000;
  await feed.poll();
  expect(batches).toHaveLength(1);

  // The same migration changed again: sent again; an evacuation shows up by id.
  s.clock = 103_000;
  s.migrations = [{ ...at("m1", 102_500), project_id: "demo" }];
  s.evacuations = [at("e1", 102_600)];
  await feed.poll();
  expect(batches).toHaveLength(2);
  expect(batches[1]!.migrations.map((m) => m.id)).toEqual(["m1"]);
  expect(batches[1]!.evacuationIds).toEqual(["e1"]);
  expect(batches[1]!.volumes).toEqual([]);
  stop();
  expect(feed.listenerCount).toBe(0);
});

test("a failed poll sends nothing and the next one covers the same window", async () => {
  const { s, source } = fakeSource();
  const feed = new ChangeFeed({ source, logger: silentLogger(), intervalMs: 60_000, overlapMs: 0 });
  const batches: ChangeBatch[] = [];
  const stop = feed.subscribe((b) => batches.push(b));
  await feed.poll();
  s.fail = true;
  s.clock = 101_000;
  s.volumes = [at("v1", 100_500)];
  await feed.poll();
  expect(batches).toEqual([]);
  s.fail = false;
  s.clock = 102_000;
  await feed.poll();
  expect(batches.map((b) => b.volumes.map((v) => v.id))).toEqual([["v1"]]);
  stop();
});

test("polls run on the timer while someone listens, and stop with the last listener", async () => {
  const { s, source } = fakeSource();
  const feed = new ChangeFeed({ source, logger: silentLogger(), intervalMs: 20, overlapMs: 0 });
  const stopA = feed.subscribe(() => undefined);
  const stopB = feed.subscribe(() => undefined);
  await new Promise((r) => setTimeout(r, 150));
  const polled = s.reads.length;
  expect(polled).toBeGreaterThanOrEqual(2);
  stopA();
  await new Promise((r) => setTimeout(r, 60));
  expect(s.reads.length).toBeGreaterThan(polled);
  stopB();
  await new Promise((r) => setTimeout(r, 30));
  const after = s.reads.length;
  await new Promise((r) => setTimeout(r, 120));
  expect(s.reads.length).toBe(after);
});
