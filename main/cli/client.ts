/**
 * The volume API over HTTP, as the OpenStack clients call it: `X-Auth-Token`, a microversion header,
 * JSON both ways; a refusal becomes an ApiError carrying Cinder's fault message.
 */
import axios, { type AxiosInstance, type AxiosResponse } from "axios";

import { openSession, type OsFlags, type Session } from "./auth";
import { ApiError, CliError } from "./errors";

/** The microversion sent with every request (os-migrate_volume's body is the same from 3.0 on). */
export const MICROVERSION = "volume 3.0";

/** Cinder's fault body: `{"<kind>": {"message": "...", "code": N}}`. */
export function faultMessage(data: unknown): string | undefined {
  if (data && typeof data === "object") {
    for (const v of Object.values(data as Record<string, unknown>)) {
      if (v && typeof v === "object" && typeof (v as { message?: unknown }).message === "string") {
        return (v as { message: string }).message;
      }
    }
  }
  return typeof data === "string" && data.trim() !== "" ? data.trim() : undefined;
}

export interface Migration {
  id: string;
  volume_id: string;
  kind: string;
  state: string;
  flow: string | null;
  source_host: string;
  dest_host: string | null;
  requested_dest: string;
  progress: {
    bytes_done: number;
    bytes_total: number | null;
    percent: number | null;
    rate_bps: number | null;
    eta_seconds: number | null;
  };
  bps_limit: number | null;
  checksums: { source: string | null; dest: string | null };
  error: string | null;
  created_at: string;
  finished_at: string | null;
  [key: string]: unknown;
}

export interface EvacuationItem {
  volume_id: string;
  size: number;
  from: string;
  to: string | null;
  state: string;
  reason: string | null;
  migration_id: string | null;
  progress: { percent: number | null; rate_bps: number | null; eta_seconds: number | null } | null;
  [key: string]: unknown;
}

export interface Evacuation {
  id: string | null;
  status: string | null;
  dry_run: boolean;
  source: string;
  destination: string[] | null;
  items?: EvacuationItem[];
  totals: Record<string, number | null>;
  error: string | null;
  [key: string]: unknown;
}

export const FINISHED_MIGRATION = new Set(["success", "error"]);
export const ENDED_EVACUATION = new Set(["cancelled", "completed", "completed_with_errors", "failed"]);

export class VolumeClient {
  private readonly http: AxiosInstance;

  constructor(readonly session: Session) {
    this.http = axios.create({
      baseURL: `${session.base}/`,
      headers: {
        "X-Auth-Token": session.token,
        "OpenStack-API-Version": MICROVERSION,
        Accept: "application/json",
        "User-Agent": "vms",
      },
      validateStatus: () => true,
      timeout: 60_000,
    });
  }

  private async send<T>(method: "get" | "post" | "delete", path: string, body?: unknown): Promise<T> {
    let res: AxiosResponse;
    try {
      res = await this.http.request({
        method,
        url: path.replace(/^\//, ""),
        data: body,
        ...(body === undefined ? {} : { headers: { "Content-Type": "application/json" } }),
      });
    } catch (err) {
      throw new CliError(`cannot reach the volume API at ${this.session.base}: ${(err as Error).message}`);
    }
    if (res.status >= 400) {
      const id = res.headers["x-openstack-request-id"] as string | undefined;
      throw new ApiError(res.status, faultMessage(res.data) ?? `HTTP ${res.status}`, id);
    }
    return res.data as T;
  }

  get<T>(path: string): Promise<T> {
    return this.send<T>("get", path);
  }

  post<T = void>(path: string, body: unknown): Promise<T> {
    return this.send<T>("post", path, body);
  }

  async listMigrations(filter: { volumeId?: string; active?: boolean } = {}): Promise<Migration[]> {
    const q = new URLSearchParams();
    if (filter.volumeId) {
      q.set("volume_id", filter.volumeId);
    }
    if (filter.active) {
      q.set("active", "true");
    }
    const qs = q.toString();
    return (await this.get<{ migrations: Migration[] }>(`migrations${qs ? `?${qs}` : ""}`)).migrations;
  }

  async migration(id: string): Promise<Migration> {
    return (await this.get<{ migration: Migration }>(`migrations/${encodeURIComponent(id)}`)).migration;
  }

  migrationAction(id: string, body: Record<string, unknown>): Promise<void> {
    return this.post(`migrations/${encodeURIComponent(id)}/action`, body);
  }

  async evacuation(id: string): Promise<Evacuation> {
    return (await this.get<{ evacuation: Evacuation }>(`evacuations/${encodeURIComponent(id)}`)).evacuation;
  }

  evacuationAction(id: string, body: Record<string, unknown>): Promise<void> {
    return this.post(`evacuations/${encodeURIComponent(id)}/action`, body);
  }
}

/** A client for the command's `--os-*` flags and the environment. */
export async function connect(flags: OsFlags): Promise<VolumeClient> {
  return new VolumeClient(await openSession(flags));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Transient poll failures (the API restarting, a network blip) tolerated in a row. */
const POLL_RETRIES = 30;

/** GET with retries on what may pass (no answer, 5xx); refusals (4xx) end the wait. */
export async function poll<T>(read: () => Promise<T>): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await read();
    } catch (err) {
      const transient = !(err instanceof ApiError) || err.status >= 500;
      if (!transient || failures >= POLL_RETRIES) {
        throw err;
      }
      await sleep(1000);
    }
  }
}
