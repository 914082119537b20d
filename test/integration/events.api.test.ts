/**
 * GET /v3/{project_id}/events (server-sent events for the dashboard) on a real PostgreSQL: the
 * changes a caller may see arrive as `migration`, `volume` and `evacuation` events (admins: all;
 * members: their project's volumes and their migrations' progress only), with the same token
 * header as every call; heartbeats; streams end when the process shuts down.
 */
import type { AddressInfo } from "node:net";

import express from "express";

import { initRequest, setCaller, setUrlProject } from "../../api/context";
import { eventsRouter } from "../../api/routes/events";
import { silentLogger } from "../../common/logger";
import { insertMigration, recordProgress } from "../../db/migrationRecords";
import { EvacuationApi } from "../../services/evacuation/evacuationApi";
import { ChangeFeed, databaseSource } from "../../services/events/changeFeed";
import { MigrationApi } from "../../services/volumeApi/migrationApi";
import { VolumeApi } from "../../services/volumeApi/volumeApi";
import {
  addVolume,
  addVolumeService,
  ADMIN,
  type Harness,
  MEMBER,
  OTHER,
  send,
  startHarness,
} from "./api.harness";

interface Event {
  event: string;
  data: Record<string, unknown>;
}

/** An open stream: its events as they come, and a comment count (heartbeats). */
interface Stream {
  status: number;
  contentType: string | null;
  events: Event[];
  comments: number;
  next(pred: (e: Event) => boolean, timeoutMs?: number): Promise<Event>;
  ended: Promise<void>;
  close(): void;
}

async function open(url: string, token?: string): Promise<Stream> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: token ? { "X-Auth-Token": token } : {}, signal: ac.signal });
  const s: Stream = {
    status: res.status,
    contentType: res.headers.get("content-type"),
    events: [],
    comments: 0,
    next: async (pred, timeoutMs = 8000) => {
      const t0 = Date.now();
      for (;;) {
        const hit = s.events.find(pred);
        if (hit) {
          return hit;
        }
        if (Date.now() - t0 > timeoutMs) {
          throw new Error(
            `no such event within ${timeoutMs} ms; got ${JSON.stringify(s.events.map((e) => e.event))}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    ended: Promise.resolve(),
    close: () => ac.abort(),
  };
  if (res.status !== 200 || !res.body) {
    return s;
  }
  s.ended = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let i;
        while ((i = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          if (block.startsWith(":")) {
            s.comments += 1;
            continue;
          }
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) {
            s.events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
          }
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return s;
}

let h: Harness;
let base: string;
let server: ReturnType<express.Express["listen"]>;
const streams: Stream[] = [];

beforeAll(async () => {
  h = await startHarness();
  await addVolumeService(h, "node@lvm");
  await addVolumeService(h, "node@lvm2");
  server = h.app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  streams.forEach((s) => s.close());
  await new Promise((r) => server.close(r));
  await h.close();
});

async function stream(token?: string, path = "/v3/demo/events"): Promise<Stream> {
  const s = await open(`${base}${path}`, token);
  streams.push(s);
  return s;
}

test("no token: 401 and no stream", async () => {
  const s = await stream(undefined);
  expect(s.status).toBe(401);
});

test("each caller gets the changes it may see: volumes, migrations with progress, evacuations", async () => {
  const admin = await stream(ADMIN);
  const member = await stream(MEMBER);
  const other = await stream(OTHER, "/v3/other/events");
  expect(admin.status).toBe(200);
  expect(admin.contentType).toMatch(/^text\/event-stream/);
  expect((await admin.next((e) => e.event === "ready")).data).toMatchObject({
    admin: true,
    project_id: "demo",
  });
  expect((await member.next((e) => e.event === "ready")).data).toMatchObject({
    admin: false,
    user_id: "alice",
  });
  await other.next((e) => e.event === "ready");
  // Let the feed take its reference before anything changes.
  await new Promise((r) => setTimeout(r, 1200));

  const v = await addVolume(h, { name: "live-vol" });
  const temp = await addVolume(h, { name: "temp-vol", migration_target_of: v.id, host: "node@lvm2#lvm2" });
  const adminVol = await admin.next((e) => e.event === "volume" && e.data["id"] === v.id);
  expect(adminVol.data).toMatchObject({ name: "live-vol", "os-vol-host-attr:host": "node@lvm#lvm" });
  await admin.next((e) => e.event === "volume" && e.data["id"] === temp.id);
  const memberVol = await member.next((e) => e.event === "volume" && e.data["id"] === v.id);
  expect(memberVol.data).not.toHaveProperty("os-vol-host-attr:host");

  const m = await insertMigration(h.t.db, {
    volume_id: v.id,
    source_host: "node@lvm#lvm",
    requested_dest: "node@lvm2#lvm2",
    force_host_copy: false,
    lock_volume: false,
    user_id: "admin",
  });
  await h.t.db("migrations").where({ id: m.id }).update({ state: "migrating" });
  await recordProgress(h.t.db, m.id, { bytesDone: 512, bytesTotal: 1024, rateBps: 100, etaSeconds: 5 });
  const adminM = await admin.next(
    (e) =>
      e.event === "migration" &&
      e.data["id"] === m.id &&
      (e.data["progress"] as { percent: number }).percent === 50,
  );
  expect(adminM.data).toMatchObject({ volume_id: v.id, state: "migrating", source_host: "node@lvm#lvm" });
  const memberM = await member.next((e) => e.event === "migration" && e.data["id"] === m.id);
  expect(Object.keys(memberM.data).sort()).toEqual(
    ["created_at", "finished_at", "id", "progress", "started_at", "state", "updated_at", "volume_id"].sort(),
  );

  const created = await send(h, "post", "/v3/demo/evacuations", { evacuation: { source: "node@lvm" } });
  expect(created.status).toBe(202);
  const evacuation = await admin.next(
    (e) => e.event === "evacuation" && e.data["id"] === created.body.evacuation.id,
  );
  expect(evacuation.data).toMatchObject({ source: "node@lvm", status: "running" });
  expect(evacuation.data["items"]).toEqual([expect.objectContaining({ volume_id: v.id })]);

  // A volume deleted is a change too.
  await h.t
    .db("volumes")
    .where({ id: temp.id })
    .update({ deleted: true, status: "deleted", updated_at: h.t.db.fn.now() });
  await admin.next((e) => e.event === "volume" && e.data["id"] === temp.id && e.data["status"] === "deleted");

  // Give the feed a few more polls: what the others may not see never came.
  await new Promise((r) => setTimeout(r, 1500));
  expect(member.events.some((e) => e.data["id"] === temp.id)).toBe(false);
  expect(member.events.some((e) => e.event === "evacuation")).toBe(false);
  expect(other.events.map((e) => e.event)).toEqual(["ready"]);
}, 30_000);

test("heartbeat comments, and every stream ends when the process shuts down", async () => {
  const logger = silentLogger();
  const deps = { db: h.t.db, bus: h.bus, config: h.config, logger };
  const stopping = new AbortController();
  const app = express();
  app.use((req, _res, next) => {
    initRequest(req, "req-test");
    setUrlProject(req, null);
    setCaller(req, { userId: "admin", projectId: "demo", isAdmin: true });
    next();
  });
  app.use(
    eventsRouter({
      feed: new ChangeFeed({ source: databaseSource(h.t.db), logger }),
      volumes: new VolumeApi(deps),
      migrations: new MigrationApi(deps),
      evacuations: new EvacuationApi(deps),
      logger,
      signal: stopping.signal,
      heartbeatMs: 100,
    }),
  );
  const own = app.listen(0, "127.0.0.1");
  await new Promise((r) => own.once("listening", r));
  const s = await open(`http://127.0.0.1:${(own.address() as AddressInfo).port}/events`);
  await s.next((e) => e.event === "ready");
  await new Promise((r) => setTimeout(r, 450));
  expect(s.comments).toBeGreaterThanOrEqual(2);
  stopping.abort();
  await s.ended;
  await new Promise((r) => own.close(r));
});
