import { ServiceBinary } from "../../common/states";
import type { Db } from "../../db/connection";
import { listServices } from "../../db/services";
import { loadPools } from "./backends";
import { capabilitiesPass, capacityPasses, type PlacementRequest } from "./filters";

/**
 * Why no pool of BACKEND (`host@backend` or `cluster@backend`, optional `#pool`) passed: one line
 * per service or pool, for the scheduler's log. Cinder's answer stays "Cannot place …"; an
 * operator reading the log needs to know whether the service was down, disabled, full or
 * mismatched, and when it last reported.
 */
export async function explainNoPlacement(
  db: Db,
  serviceDownTime: number,
  target: { backend: string; pool: string | null },
  req: PlacementRequest,
): Promise<string[]> {
  const services = (await listServices(db, serviceDownTime, { binary: ServiceBinary.VOLUME })).filter(
    (s) => s.host === target.backend || s.cluster_name === target.backend,
  );
  if (services.length === 0) {
    return [`no volume service is named ${target.backend}`];
  }
  const why: string[] = [];
  for (const s of services) {
    const seen = s.updated_at ? s.updated_at.toISOString() : "never";
    if (!s.is_up) {
      why.push(`${s.host}: down (last heartbeat ${seen}, service_down_time ${serviceDownTime} s)`);
    } else if (s.disabled || s.frozen) {
      why.push(`${s.host}: ${s.disabled ? "disabled" : "frozen"}`);
    } else if (!s.capabilities) {
      why.push(`${s.host}: has not reported capabilities yet`);
    }
  }
  for (const p of await loadPools(db, serviceDownTime)) {
    if (p.serviceHost !== target.backend && p.clusterName !== target.backend) {
      continue;
    }
    if (target.pool !== null && p.capabilities.pool_name !== target.pool) {
      continue;
    }
    const c = p.capabilities;
    if (!capacityPasses(p, req)) {
      why.push(
        `${p.host}: capacity (free ${c.free_capacity_gb} GiB of ${c.total_capacity_gb}, provisioned ` +
          `${c.provisioned_capacity_gb}, reserved ${c.reserved_percentage} %, ratio ${c.max_over_subscription_ratio}; wants ${req.size} GiB)`,
      );
    } else if (!capabilitiesPass(p, req)) {
      why.push(`${p.host}: capabilities do not match ${JSON.stringify(req.extraSpecs)}`);
    }
  }
  return why.length > 0 ? why : [`no pool of ${target.backend} matches ${target.pool ?? "any pool"}`];
}
