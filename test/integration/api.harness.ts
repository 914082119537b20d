/**
 * Shared set-up of the API integration tests: a fresh Postgres database, the express app over a
 * MemoryBus whose scheduler and volume topics record what the API casts, and row helpers.
 */
import { randomUUID } from "node:crypto";

import type { Express } from "express";
import request from "supertest";

import { createApp } from "../../api/app";
import { type AppConfig, parseConfig } from "../../common/config";
import { silentLogger } from "../../common/logger";
import { reportService, type ServiceCapabilities } from "../../db/services";
import { insertVolume, type NewVolume, type VolumeRow } from "../../db/volumes";
import { MemoryBus } from "../../services/rpc/memory";
import { createTestDatabase, type TestDatabase } from "../helpers/db";

/** The volume view's keys at 3.0 for a non-admin (clients.md §2; tempest allows no others). */
export const VOLUME_KEYS_3_0: readonly string[] = [
  "id",
  "status",
  "size",
  "availability_zone",
  "created_at",
  "updated_at",
  "name",
  "description",
  "volume_type",
  "snapshot_id",
  "source_volid",
  "metadata",
  "links",
  "user_id",
  "bootable",
  "encrypted",
  "replication_status",
  "consistencygroup_id",
  "multiattach",
  "attachments",
];

export const DEFAULT_TYPE_ID = "00000000-0000-4000-8000-000000000001";
export const ADMIN = "admin:demo";
export const MEMBER = "alice:demo";
export const OTHER = "bob:other";

export interface Cast {
  topic: string;
  method: string;
  args: Record<string, unknown>;
}

export interface Harness {
  t: TestDatabase;
  app: Express;
  bus: MemoryBus;
  config: AppConfig;
  casts: Cast[];
  /** Let the MemoryBus deliver what was cast. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const RECORDED_METHODS = [
  "create_volume",
  "migrate_volume",
  "delete_volume",
  "create_snapshot",
  "delete_snapshot",
  "extend_volume",
  "retype",
  "migrate_volume_completion",
];

/**
 * What the recording handlers answer: migrate_volume_completion is a call, and the volume service
 * answers with the id Nova keeps (the source's, as Cinder's manager does on success).
 */
function reply(method: string, args: Record<string, unknown>): unknown {
  return method === "migrate_volume_completion" ? { save_volume_id: args["volume_id"] } : undefined;
}

export async function startHarness(extraConfig = ""): Promise<Harness> {
  const t = await createTestDatabase();
  const config = parseConfig(
    `[DEFAULT]\nnoauth_admin_users = admin\nservice_down_time = 60\n${extraConfig}`,
    {},
  );
  const logger = silentLogger();
  const bus = new MemoryBus({ logger });
  const casts: Cast[] = [];
  const recorder = (topic: string) =>
    Object.fromEntries(
      RECORDED_METHODS.map((method) => [
        method,
        async (args: Record<string, unknown>) => {
          casts.push({ topic, method, args });
          return reply(method, args);
        },
      ]),
    );
  for (const topic of ["cinder-scheduler", ...SERVED_VOLUME_TOPICS.map((b) => `cinder-volume.${b}`)]) {
    await bus.serve(topic, recorder(topic));
  }
  const app = createApp({ db: t.db, bus, config, logger });
  return {
    t,
    app,
    bus,
    config,
    casts,
    flush: async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setImmediate(r));
      }
    },
    close: async () => {
      await bus.close();
      await t.drop();
    },
  };
}

/** The volume services' topics the harness serves (and records). */
export const SERVED_VOLUME_TOPICS = ["node@lvm", "node@lvm2"];

export function capabilities(backend: string, pools: string[] = [backend]): ServiceCapabilities {
  return {
    volume_backend_name: backend,
    vendor_name: "Open Source",
    driver_version: "3.0.0",
    storage_protocol: "iSCSI",
    timestamp: "2026-11-21T20:04:39.350000",
    pools: pools.map((pool_name) => ({
      pool_name,
      total_capacity_gb: 100,
      free_capacity_gb: 80,
      allocated_capacity_gb: 20,
      provisioned_capacity_gb: 20,
      reserved_percentage: 0,
      max_over_subscription_ratio: 20,
      thin_provisioning_support: false,
      thick_provisioning_support: true,
      QoS_support: false,
      multiattach: false,
      location_info: `LVMVolumeDriver:node:${pool_name}:thick:0`,
    })),
  };
}

/** A heartbeat from a volume service `host@backend`, with capabilities. */
export async function addVolumeService(
  h: Harness,
  host: string,
  opts: { zone?: string; caps?: ServiceCapabilities | null; cluster?: string } = {},
): Promise<void> {
  const backend = host.split("@")[1] ?? host;
  const caps = opts.caps === undefined ? capabilities(backend) : opts.caps;
  await reportService(
    h.t.db,
    {
      host,
      binary: "cinder-volume",
      topic: "cinder-volume",
      availabilityZone: opts.zone ?? "nova",
      clusterName: opts.cluster ?? null,
    },
    caps ?? undefined,
  );
}

export async function setService(h: Harness, host: string, values: Record<string, unknown>): Promise<void> {
  await h.t.db("services").where({ host }).update(values);
}

/** Make a service's last heartbeat older than service_down_time. */
export async function makeServiceDown(h: Harness, host: string): Promise<void> {
  await setService(h, host, { updated_at: h.t.db.raw("now() - interval '10 minutes'") });
}

export function addVolume(h: Harness, v: Partial<NewVolume> = {}): Promise<VolumeRow> {
  return insertVolume(h.t.db, {
    size: 1,
    status: "available",
    project_id: "demo",
    user_id: "alice",
    host: "node@lvm#lvm",
    volume_type_id: DEFAULT_TYPE_ID,
    availability_zone: "nova",
    replication_status: "disabled",
    name: "vol",
    ...v,
  });
}

export async function volumeRow(h: Harness, id: string): Promise<Record<string, unknown>> {
  return (await h.t.db("volumes").where({ id }).first()) as Record<string, unknown>;
}

export async function migrationCount(h: Harness, volumeId?: string): Promise<number> {
  const qb = h.t.db("migrations").count<{ count: string }[]>({ count: "*" });
  if (volumeId) {
    qb.where({ volume_id: volumeId });
  }
  return Number((await qb)[0]!.count);
}

/** A supertest request with the noauth token and optional microversion. */
export function api(
  h: Harness,
  method: "get" | "post" | "put" | "delete",
  path: string,
  opts: { token?: string | null; version?: string } = {},
): request.Test {
  let r = request(h.app)[method](path);
  const token = opts.token === undefined ? ADMIN : opts.token;
  if (token !== null) {
    r = r.set("X-Auth-Token", token);
  }
  if (opts.version) {
    r = r.set("OpenStack-API-Version", `volume ${opts.version}`);
  }
  return r;
}

export function action(
  h: Harness,
  volumeId: string,
  body: unknown,
  opts: { token?: string | null; version?: string; project?: string } = {},
): request.Test {
  const r = api(h, "post", `/v3/${opts.project ?? "demo"}/volumes/${volumeId}/action`, opts);
  return typeof body === "string"
    ? r.set("Content-Type", "application/json").send(body)
    : r.send(body as object);
}

/** Everything a refused request must leave untouched: the row, its attachments, snapshots, migrations. */
export async function stateOf(h: Harness, volumeId: string): Promise<Record<string, unknown>> {
  const [volume, attachments, snapshots, migrations] = await Promise.all([
    volumeRow(h, volumeId),
    h.t.db("volume_attachments").where({ volume_id: volumeId }).orderBy("id"),
    h.t.db("snapshots").where({ volume_id: volumeId }).orderBy("id"),
    h.t.db("migrations").where({ volume_id: volumeId }).orderBy("id"),
  ]);
  return { volume, attachments, snapshots, migrations };
}

/** An attachment row as Cinder's attach leaves it. */
export async function addAttachment(
  h: Harness,
  volumeId: string,
  values: Record<string, unknown> = {},
): Promise<string> {
  const id = randomUUID();
  await h.t.db("volume_attachments").insert({
    id,
    volume_id: volumeId,
    instance_uuid: randomUUID(),
    attached_host: "compute-1",
    mountpoint: "/dev/vdb",
    attach_status: "attached",
    attach_mode: "rw",
    attach_time: h.t.db.fn.now(),
    ...values,
  });
  return id;
}

/** A request with a JSON body (or none) through the harness' app. */
export function send(
  h: Harness,
  method: "post" | "put" | "delete" | "get",
  path: string,
  body?: unknown,
  opts: { token?: string | null; version?: string } = {},
): request.Test {
  const r = api(h, method, path, opts);
  return body === undefined ? r : r.send(body as object);
}
