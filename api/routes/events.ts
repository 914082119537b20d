/**
 * GET /v3/{project_id}/events (beyond Cinder): live changes as server-sent events, behind the same
 * authentication as every other route (the X-Auth-Token header: the dashboard reads the stream
 * with fetch(), never puts a token in a URL). One process-wide ChangeFeed polls the database once
 * a second; each stream gets what its caller may see:
 *
 * - `migration`: admins the migrations resource's view; members, for their project's volumes
 *   only, the state and progress (the migrations resource itself stays admin-only).
 * - `volume`: the volume's detail view at the stream's microversion (admins: every project;
 *   members: their project's, without migration temp volumes); `{"id", "status": "deleted"}`
 *   once deleted.
 * - `evacuation`: admins only, the evacuations resource's view.
 *
 * The stream opens with `retry:` and a `ready` event naming the caller, carries a comment line
 * every 15 s as a heartbeat, and ends when the client goes, when it reads too slowly, or when the
 * process shuts down.
 */
import { type Request, type Response, Router } from "express";

import { NotFound } from "../../common/errors";
import type { Logger } from "../../common/logger";
import type { EvacuationApi } from "../../services/evacuation/evacuationApi";
import type { ChangeBatch, ChangedMigration, ChangeFeed } from "../../services/events/changeFeed";
import type { MigrationApi } from "../../services/volumeApi/migrationApi";
import type { VolumeApi, VolumeDetails } from "../../services/volumeApi/volumeApi";
import { ctx, type RequestContext } from "../context";
import { evacuationView } from "../views/evacuation";
import { migrationView } from "../views/migration";
import { volumeDetail } from "../views/volume";

type View = Record<string, unknown>;

export interface EventsDeps {
  feed: ChangeFeed;
  volumes: VolumeApi;
  migrations: MigrationApi;
  evacuations: EvacuationApi;
  logger: Logger;
  /** Aborted when the process shuts down: every open stream ends (else server.close() waits on them). */
  signal?: AbortSignal;
  /** @defaultValue 15000 */
  heartbeatMs?: number;
}

/** Milliseconds a client waits before reconnecting after a cut (the SSE `retry:` field). */
const RETRY_MS = 2000;
/** A client this far behind (bytes queued for it) is cut; it reconnects and reloads. */
const MAX_BUFFERED = 4 * 1024 * 1024;
/** What a member learns of a migration of one of its volumes. */
const MEMBER_MIGRATION_KEYS = [
  "id",
  "volume_id",
  "state",
  "progress",
  "created_at",
  "started_at",
  "finished_at",
  "updated_at",
];

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** One poll's rows turned into views once, whatever the number of streams (lazily, memoised). */
class BatchViews {
  private migrationViews?: Promise<Map<string, View>>;
  private volumeDetails?: Promise<Map<string, VolumeDetails>>;
  private evacuationViews?: Promise<View[]>;

  constructor(
    readonly batch: ChangeBatch,
    private readonly deps: EventsDeps,
  ) {}

  migrations(): Promise<Map<string, View>> {
    this.migrationViews ??= this.deps.migrations
      .describe(this.batch.migrations)
      .then((infos) => new Map(infos.map((i) => [i.row.id, migrationView(i)])));
    return this.migrationViews;
  }

  volumes(): Promise<Map<string, VolumeDetails>> {
    const live = this.batch.volumes.filter((v) => !v.deleted);
    this.volumeDetails ??= this.deps.volumes
      .details(live)
      .then((ds) => new Map(ds.map((d) => [d.volume.id, d])));
    return this.volumeDetails;
  }

  /**
   * As GET /evacuations/{id} shows them, built with the first admin stream's context (the view
   * does not depend on which admin asks); one deleted meanwhile is left out.
   */
  evacuations(c: RequestContext): Promise<View[]> {
    const view = async (id: string): Promise<View | undefined> => {
      try {
        return evacuationView(await this.deps.evacuations.get(c, id));
      } catch (err) {
        if (err instanceof NotFound) {
          return undefined;
        }
        throw err;
      }
    };
    this.evacuationViews ??= Promise.all(this.batch.evacuationIds.map(view)).then((vs) =>
      vs.filter((v): v is View => v !== undefined),
    );
    return this.evacuationViews;
  }
}

function sees(c: RequestContext, m: ChangedMigration): boolean {
  return c.isAdmin || (m.project_id !== null && m.project_id === c.projectId);
}

/** The frames of one batch for one caller, in order: migrations, volumes, evacuations. */
async function framesFor(c: RequestContext, views: BatchViews): Promise<string[]> {
  const { batch } = views;
  const out: string[] = [];
  const migrations = batch.migrations.filter((m) => sees(c, m));
  if (migrations.length) {
    const byId = await views.migrations();
    for (const m of migrations) {
      const v = byId.get(m.id);
      if (v) {
        out.push(
          frame(
            "migration",
            c.isAdmin ? v : Object.fromEntries(MEMBER_MIGRATION_KEYS.map((k) => [k, v[k] ?? null])),
          ),
        );
      }
    }
  }
  const volumes = batch.volumes.filter(
    (v) => c.isAdmin || (v.project_id === c.projectId && v.migration_target_of === null),
  );
  if (volumes.length) {
    const details = await views.volumes();
    for (const v of volumes) {
      const d = details.get(v.id);
      out.push(frame("volume", v.deleted || !d ? { id: v.id, status: "deleted" } : volumeDetail(d, c)));
    }
  }
  if (c.isAdmin && batch.evacuationIds.length) {
    for (const e of await views.evacuations(c)) {
      out.push(frame("evacuation", e));
    }
  }
  return out;
}

export function eventsRouter(deps: EventsDeps): Router {
  const r = Router();
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  /** The views of the batch being delivered, shared by every stream it goes to. */
  let current: BatchViews | null = null;
  const viewsOf = (batch: ChangeBatch): BatchViews => {
    if (current?.batch !== batch) {
      current = new BatchViews(batch, deps);
    }
    return current;
  };

  r.get("/events", (req: Request, res: Response) => {
    const c = ctx(req);
    res.status(200);
    res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
    res.setHeader("Cache-Control", "no-cache, no-transform");
    // Proxies that buffer responses (nginx) pass this one through as it comes.
    res.setHeader("X-Accel-Buffering", "no");
    res.flushHeaders();
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);

    let open = true;
    // Batches are written in the order the feed gave them, each after the previous one.
    let queue: Promise<void> = Promise.resolve();
    const write = (chunk: string): void => {
      if (!open) {
        return;
      }
      res.write(chunk);
      if (res.writableLength > MAX_BUFFERED) {
        deps.logger.info({ user_id: c.userId }, "event stream cut: the client reads too slowly");
        end();
      }
    };
    const unsubscribe = deps.feed.subscribe((batch) => {
      const views = viewsOf(batch);
      queue = queue
        .then(async () => {
          if (open) {
            for (const f of await framesFor(c, views)) {
              write(f);
            }
          }
        })
        .catch((err: unknown) => deps.logger.warn({ err }, "event stream: building a batch failed"));
    });
    const heartbeat = setInterval(() => write(": heartbeat\n\n"), heartbeatMs);
    const onAbort = (): void => end();
    const end = (): void => {
      if (!open) {
        return;
      }
      open = false;
      unsubscribe();
      clearInterval(heartbeat);
      deps.signal?.removeEventListener("abort", onAbort);
      res.end();
    };
    res.on("close", end);
    if (deps.signal?.aborted) {
      end();
      return;
    }
    deps.signal?.addEventListener("abort", onAbort);

    write(`retry: ${RETRY_MS}\n\n`);
    write(
      frame("ready", {
        user_id: c.userId,
        project_id: c.projectId,
        admin: c.isAdmin,
        poll_seconds: 1,
        heartbeat_seconds: heartbeatMs / 1000,
      }),
    );
  });

  return r;
}
