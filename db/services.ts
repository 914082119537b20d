import type { Knex } from "knex";

import type { ServiceBinary } from "../common/states";

/** What a volume service reports about one of its pools (Cinder's get_volume_stats pool dict). */
export interface PoolCapabilities {
  pool_name: string;
  total_capacity_gb: number;
  free_capacity_gb: number;
  allocated_capacity_gb: number;
  provisioned_capacity_gb: number;
  reserved_percentage: number;
  max_over_subscription_ratio: number;
  thin_provisioning_support: boolean;
  thick_provisioning_support: boolean;
  QoS_support: boolean;
  multiattach: boolean;
  location_info: string;
  [key: string]: unknown;
}

export interface ServiceCapabilities {
  volume_backend_name: string;
  vendor_name: string;
  driver_version: string;
  storage_protocol: string;
  pools: PoolCapabilities[];
  timestamp: string;
}

export interface ServiceRow {
  id: number;
  host: string;
  binary: ServiceBinary;
  topic: string;
  availability_zone: string;
  disabled: boolean;
  disabled_reason: string | null;
  frozen: boolean;
  cluster_name: string | null;
  report_count: number;
  capabilities: ServiceCapabilities | null;
  capabilities_updated_at: Date | null;
  created_at: Date;
  updated_at: Date | null;
  deleted: boolean;
}

type Conn = Knex | Knex.Transaction;

/** Heartbeat: create the service row on first report, then bump report_count and updated_at. */
export async function reportService(
  db: Conn,
  s: {
    host: string;
    binary: ServiceBinary;
    topic: string;
    availabilityZone: string;
    clusterName?: string | null;
  },
  capabilities?: ServiceCapabilities,
): Promise<void> {
  const caps = capabilities
    ? { capabilities: JSON.stringify(capabilities), capabilities_updated_at: db.fn.now() }
    : {};
  await db("services")
    .insert({
      host: s.host,
      binary: s.binary,
      topic: s.topic,
      availability_zone: s.availabilityZone,
      cluster_name: s.clusterName ?? null,
      report_count: 1,
      updated_at: db.fn.now(),
      ...caps,
    })
    .onConflict(["host", "binary"])
    .merge({
      topic: s.topic,
      cluster_name: s.clusterName ?? null,
      availability_zone: s.availabilityZone,
      report_count: db.raw("services.report_count + 1"),
      updated_at: db.fn.now(),
      deleted: false,
      ...caps,
    });
}

export interface ServiceWithState extends ServiceRow {
  is_up: boolean;
}

/** Services with Cinder's up/down rule evaluated by the database clock: up iff updated_at ≥ now − down_time. */
export async function listServices(
  db: Conn,
  serviceDownTime: number,
  filter: { binary?: string; host?: string; hostPrefix?: string; clusterName?: string } = {},
): Promise<ServiceWithState[]> {
  const qb = db("services")
    .select(
      "*",
      db.raw("coalesce(updated_at, created_at) >= now() - make_interval(secs => ?) AS is_up", [
        serviceDownTime,
      ]),
    )
    .where({ deleted: false })
    .orderBy("id");
  if (filter.binary !== undefined) {
    qb.where("binary", filter.binary);
  }
  if (filter.host !== undefined) {
    qb.where("host", filter.host);
  }
  if (filter.clusterName !== undefined) {
    qb.where("cluster_name", filter.clusterName);
  }
  if (filter.hostPrefix !== undefined) {
    qb.where((w) =>
      w.where("host", filter.hostPrefix!).orWhere("host", "like", `${escapeLike(filter.hostPrefix!)}@%`),
    );
  }
  return (await qb) as ServiceWithState[];
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * os-services enable/disable: sets `disabled` (and the reason when given; enabling clears it) on
 * the live service `host` + `binary`, leaving `updated_at`, the heartbeat time, alone. Returns the
 * row, or undefined when no such service exists.
 */
export async function setServiceDisabled(
  db: Conn,
  host: string,
  binary: string,
  disabled: boolean,
  reason?: string | null,
): Promise<ServiceRow | undefined> {
  const rows = (await db("services")
    .where({ host, binary, deleted: false })
    .update({ disabled, ...(reason === undefined ? {} : { disabled_reason: reason }) })
    .returning("*")) as ServiceRow[];
  return rows[0];
}
