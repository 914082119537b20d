/**
 * What the deployment offers, read from the volume services' rows: availability zones
 * (cinder/api/contrib/availability_zones.py), the extensions this service implements
 * (cinder/api/extensions.py) and a backend's capabilities (cinder/api/contrib/capabilities.py,
 * cinder/volume/driver.py `init_capabilities`).
 */
import { NotFound } from "../../common/errors";
import { backendOf, poolOf } from "../../common/hosts";
import { ServiceBinary } from "../../common/states";
import { listServices } from "../../db/services";
import { AdminPolicy, authorize, type Caller } from "./caller";
import type { VolumeApiOptions } from "./lookup";

export interface Extension {
  name: string;
  alias: string;
  description: string;
  updated: string;
}

function ext(name: string, alias: string, description: string, updated: string): Extension {
  return { name, alias, description, updated };
}

/** Cinder's extension descriptors for what this service implements, in Cinder's words. */
export const EXTENSIONS: readonly Extension[] = [
  ext("AdminActions", "os-admin-actions", "Enable admin actions.", "2012-08-25T00:00:00+00:00"),
  ext(
    "AvailabilityZones",
    "os-availability-zone",
    "Describe Availability Zones.",
    "2013-06-27T00:00:00+00:00",
  ),
  ext("Capabilities", "capabilities", "Capabilities support.", "2015-08-31T00:00:00+00:00"),
  ext(
    "ExtendedSnapshotAttributes",
    "os-extended-snapshot-attributes",
    "Extended SnapshotAttributes support.",
    "2012-06-19T00:00:00+00:00",
  ),
  ext("Hosts", "os-hosts", "Admin-only host administration.", "2011-06-29T00:00:00+00:00"),
  ext("Qos_specs_manage", "qos-specs", "QoS specs support.", "2013-08-02T00:00:00+00:00"),
  ext(
    "QuotaClasses",
    "os-quota-class-sets",
    "Quota classes management support.",
    "2012-03-12T00:00:00+00:00",
  ),
  ext("Quotas", "os-quota-sets", "Quota management support.", "2011-08-08T00:00:00+00:00"),
  ext("Scheduler_stats", "scheduler-stats", "Scheduler stats support.", "2014-09-07T00:00:00+00:00"),
  ext("Services", "os-services", "Services support.", "2012-10-28T00:00:00-00:00"),
  ext("TypesExtraSpecs", "os-types-extra-specs", "Type extra specs support.", "2011-08-24T00:00:00+00:00"),
  ext("TypesManage", "os-types-manage", "Types manage support.", "2011-08-24T00:00:00+00:00"),
  ext(
    "UsedLimits",
    "os-used-limits",
    "Provide data on limited resources that are being used.",
    "2013-10-03T00:00:00+00:00",
  ),
  ext("VolumeActions", "os-volume-actions", "Enable volume actions.", "2012-05-31T00:00:00+00:00"),
  ext(
    "VolumeHostAttribute",
    "os-vol-host-attr",
    "Expose host as an attribute of a volume.",
    "2011-11-03T00:00:00+00:00",
  ),
  ext(
    "VolumeManage",
    "os-volume-manage",
    "Allows existing backend storage to be 'managed' by Cinder.",
    "2014-02-10T00:00:00+00:00",
  ),
  ext(
    "VolumeMigStatusAttribute",
    "os-vol-mig-status-attr",
    "Expose migration_status as an attribute of a volume.",
    "2013-08-08T00:00:00+00:00",
  ),
  ext(
    "VolumeTenantAttribute",
    "os-vol-tenant-attr",
    "Expose the internal project_id as an attribute of a volume.",
    "2011-11-03T00:00:00+00:00",
  ),
  ext("VolumeTypeAccess", "os-volume-type-access", "Volume type access support.", "2014-06-26T00:00:00Z"),
  ext(
    "VolumeUnmanage",
    "os-volume-unmanage",
    "Enable volume unmanage operation.",
    "2012-05-31T00:00:00+00:00",
  ),
];

/** cinder/volume/driver.py `_init_standard_capabilities`. */
const STANDARD_PROPERTIES = {
  thin_provisioning: { title: "Thin Provisioning", description: "Sets thin provisioning.", type: "boolean" },
  compression: { title: "Compression", description: "Enables compression.", type: "boolean" },
  qos: { title: "QoS", description: "Enables QoS.", type: "boolean" },
  replication_enabled: { title: "Replication", description: "Enables replication.", type: "boolean" },
};

export class InfoApi {
  constructor(private readonly o: VolumeApiOptions) {}

  /** A zone is available while any of its volume services is enabled (Cinder's list_availability_zones). */
  async availabilityZones(): Promise<{ name: string; available: boolean }[]> {
    const services = await listServices(this.o.db, this.o.config.serviceDownTime, {
      binary: ServiceBinary.VOLUME,
    });
    const zones = new Map<string, boolean>();
    for (const s of services) {
      zones.set(s.availability_zone, (zones.get(s.availability_zone) ?? false) || !s.disabled);
    }
    return [...zones].map(([name, available]) => ({ name, available }));
  }

  /** GET /capabilities/{host}: the backend's reported stats (`#pool` names the pool). */
  async capabilities(caller: Caller, host: string): Promise<Record<string, unknown>> {
    authorize(caller, AdminPolicy.CAPABILITIES);
    const backend = backendOf(host);
    const services = await listServices(this.o.db, this.o.config.serviceDownTime, {
      binary: ServiceBinary.VOLUME,
    });
    const svc = services.find((s) => s.host === backend || s.cluster_name === backend);
    if (!svc) {
      throw new NotFound(`Can't find service: ${host}`);
    }
    const caps = (svc.capabilities ?? {}) as Record<string, unknown>;
    return {
      namespace: `OS::Storage::Capabilities::${host}`,
      vendor_name: caps["vendor_name"] ?? null,
      volume_backend_name: caps["volume_backend_name"] ?? null,
      pool_name: poolOf(host),
      driver_version: caps["driver_version"] ?? null,
      storage_protocol: caps["storage_protocol"] ?? null,
      display_name: null,
      description: null,
      visibility: null,
      replication_targets: [],
      properties: STANDARD_PROPERTIES,
    };
  }
}
