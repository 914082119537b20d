/**
 * What `GET /metrics` reports, read from the database at scrape time with a few aggregate queries:
 * every process (workers on other machines included) writes its figures into `migrations`,
 * `evacuation_items` and `services`, so the API process sees them all without a channel of its own.
 *
 * Nothing here names a volume, a project, a user or an error text: only states, outcomes, service
 * hosts and evacuation ids, so label sets stay few and carry no tenant data.
 */
import {
  ENDED_EVACUATION_STATUSES,
  EVACUATION_ITEM_STATES,
  type EvacuationItemState,
  type EvacuationStatus,
  MIGRATION_STATES,
  MigrationState,
  type ServiceBinary,
} from "../../common/states";
import type { Db } from "../../db/connection";
import { listServices } from "../../db/services";

const GiB = 1024 ** 3;

/** How long an ended evacuation keeps its series, so that its final figures are scraped. */
export const ENDED_EVACUATION_WINDOW_SECS = 3600;

/**
 * A copy that did not verify, as services/copy and the generic flow word it (VolumeMigrationFailed):
 * the whole-volume sha256 compare (`checksum mismatch: source …, destination …`) and a segment's
 * digest, streamed (`destination received …`) or read back (`destination reads back …`).
 * POSIX regular expressions, evaluated by PostgreSQL.
 */
export const VERIFICATION_FAILURE_PATTERNS: readonly string[] = [
  "checksum mismatch: source [0-9a-f]+, destination [0-9a-f]+",
  "segment [0-9]+ \\(bytes [^)]*\\): source digest [0-9a-f]+, destination (received [0-9a-f]+|reads back ([0-9a-f]+|nothing))",
];

export interface MigrationFigures {
  /** Rows by state (every state present, 0 when none). */
  byState: Record<MigrationState, number>;
  /** bytes_done summed over finished (success, error) and running (migrating, completing) rows. */
  bytesCopied: number;
  /** rate_bps summed over the rows copying now (`migrating`). */
  rateBps: number;
  /** `error` rows whose error is a verification failure. */
  verificationFailures: number;
}

export interface EvacuationFigures {
  id: string;
  status: EvacuationStatus;
  source: string;
  /** Items by state (every state present). */
  items: Record<EvacuationItemState, number>;
  /** As the evacuation's totals: size of every item not skipped. */
  bytesTotal: number;
  /** Succeeded items' size plus what the running items' migrations copied so far. */
  bytesDone: number;
}

export interface ServiceFigures {
  host: string;
  binary: ServiceBinary;
  up: boolean;
  disabled: boolean;
}

export interface Figures {
  migrations: MigrationFigures;
  /** Evacuations by status, all of them. */
  evacuationsByStatus: Map<EvacuationStatus, number>;
  /** Evacuations not ended, and those ended within ENDED_EVACUATION_WINDOW_SECS. */
  evacuations: EvacuationFigures[];
  services: ServiceFigures[];
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

async function migrationFigures(db: Db): Promise<MigrationFigures> {
  const verification = VERIFICATION_FAILURE_PATTERNS.map(() => "error ~ ?").join(" OR ");
  const rows = (await db("migrations")
    .select("state")
    .select(db.raw("count(*)::bigint AS n"))
    .select(db.raw("coalesce(sum(bytes_done), 0)::bigint AS bytes"))
    .select(db.raw("coalesce(sum(rate_bps), 0)::bigint AS rate"))
    .select(
      db.raw(`count(*) FILTER (WHERE ${verification})::bigint AS verification`, [
        ...VERIFICATION_FAILURE_PATTERNS,
      ]),
    )
    .groupBy("state")) as {
    state: MigrationState;
    n: string;
    bytes: string;
    rate: string;
    verification: string;
  }[];
  const f: MigrationFigures = {
    byState: zeros(MIGRATION_STATES),
    bytesCopied: 0,
    rateBps: 0,
    verificationFailures: 0,
  };
  const copied: readonly MigrationState[] = [
    MigrationState.SUCCESS,
    MigrationState.ERROR,
    MigrationState.MIGRATING,
    MigrationState.COMPLETING,
  ];
  for (const r of rows) {
    f.byState[r.state] = Number(r.n);
    if (copied.includes(r.state)) {
      f.bytesCopied += Number(r.bytes);
    }
    if (r.state === MigrationState.MIGRATING) {
      f.rateBps += Number(r.rate);
    }
    if (r.state === MigrationState.ERROR) {
      f.verificationFailures += Number(r.verification);
    }
  }
  return f;
}

async function evacuationFigures(db: Db): Promise<EvacuationFigures[]> {
  const ended = ENDED_EVACUATION_STATUSES.map(() => "?").join(", ");
  const { rows } = (await db.raw(
    `SELECT e.id, e.status, e.source, i.state, count(i.id)::bigint AS n,
            coalesce(sum(CASE WHEN i.state <> 'skipped' THEN i.size::bigint * ${GiB} ELSE 0 END), 0)::bigint
              AS bytes_total,
            coalesce(sum(CASE WHEN i.state = 'succeeded' THEN i.size::bigint * ${GiB}
                              WHEN i.state = 'running' THEN least(coalesce(m.bytes_done, 0), i.size::bigint * ${GiB})
                              ELSE 0 END), 0)::bigint AS bytes_done
       FROM evacuations e
       LEFT JOIN evacuation_items i ON i.evacuation_id = e.id
       LEFT JOIN migrations m ON m.id = i.migration_id AND i.state = 'running'
      WHERE e.status NOT IN (${ended})
         OR coalesce(e.finished_at, e.updated_at, e.created_at) >= now() - make_interval(secs => ?)
      GROUP BY e.id, e.status, e.source, i.state
      ORDER BY e.created_at, e.id`,
    [...ENDED_EVACUATION_STATUSES, ENDED_EVACUATION_WINDOW_SECS],
  )) as {
    rows: {
      id: string;
      status: EvacuationStatus;
      source: string;
      state: EvacuationItemState | null;
      n: string;
      bytes_total: string;
      bytes_done: string;
    }[];
  };
  const byId = new Map<string, EvacuationFigures>();
  for (const r of rows) {
    let e = byId.get(r.id);
    if (!e) {
      e = {
        id: r.id,
        status: r.status,
        source: r.source,
        items: zeros(EVACUATION_ITEM_STATES),
        bytesTotal: 0,
        bytesDone: 0,
      };
      byId.set(r.id, e);
    }
    if (r.state !== null) {
      e.items[r.state] = Number(r.n);
    }
    e.bytesTotal += Number(r.bytes_total);
    e.bytesDone += Number(r.bytes_done);
  }
  return [...byId.values()];
}

async function evacuationsByStatus(db: Db): Promise<Map<EvacuationStatus, number>> {
  const rows = (await db("evacuations")
    .select("status")
    .select(db.raw("count(*)::bigint AS n"))
    .groupBy("status")) as { status: EvacuationStatus; n: string }[];
  return new Map(rows.map((r) => [r.status, Number(r.n)]));
}

/** Every figure of one scrape; the queries run side by side. */
export async function readFigures(db: Db, serviceDownTime: number): Promise<Figures> {
  const [migrations, evacuations, byStatus, services] = await Promise.all([
    migrationFigures(db),
    evacuationFigures(db),
    evacuationsByStatus(db),
    listServices(db, serviceDownTime),
  ]);
  return {
    migrations,
    evacuations,
    evacuationsByStatus: byStatus,
    services: services.map((s) => ({ host: s.host, binary: s.binary, up: s.is_up, disabled: s.disabled })),
  };
}
