/**
 * The volume view by microversion and role (cinder/api/v3/views/volumes.py plus the extension
 * attributes os-vol-tenant-attr, os-vol-host-attr, os-vol-mig-status-attr). Tempest checks these
 * key sets with additionalProperties: false, so nothing is added that Cinder would not send at the
 * request's microversion.
 */
import type { AttachmentRow } from "../../db/attachments";
import type { VolumeRow } from "../../db/volumes";
import type { VolumeDetails } from "../../services/volumeApi/volumeApi";
import { cinderMigrationStatus } from "../../services/volumeApi/volumeState";
import type { RequestContext } from "../context";
import { cinderTime, resourceLinks } from "./common";

/** Internal statuses Cinder shows under their user-facing name. */
const STATUS_MAP: Readonly<Record<string, string>> = {
  managing: "creating",
  error_managing: "error",
  error_managing_deleting: "deleting",
};

function attachments(list: AttachmentRow[], c: RequestContext): Record<string, unknown>[] {
  return list
    .filter((a) => a.attach_status === "attached")
    .map((a) => ({
      id: a.volume_id,
      attachment_id: a.id,
      volume_id: a.volume_id,
      server_id: a.instance_uuid,
      // Only admins (and services) learn which host the volume is attached to.
      host_name: c.isAdmin ? a.attached_host : null,
      device: a.mountpoint,
      attached_at: cinderTime(a.attach_time),
    }));
}

function volumeType(d: VolumeDetails, c: RequestContext): string | null {
  if (c.apiVersion.matches("3.63")) {
    return d.type?.name ?? null;
  }
  return d.volume.volume_type_id && d.type ? d.type.name : d.volume.volume_type_id;
}

/** The body of POST /volumes (no extension attributes) and the base of show/detail. */
export function volumeCore(d: VolumeDetails, c: RequestContext): Record<string, unknown> {
  const v = d.volume;
  const out: Record<string, unknown> = {
    id: v.id,
    status: STATUS_MAP[v.status] ?? v.status,
    size: v.size,
    availability_zone: v.availability_zone,
    created_at: cinderTime(v.created_at),
    updated_at: cinderTime(v.updated_at),
    name: v.name,
    description: v.description,
    volume_type: volumeType(d, c),
    snapshot_id: v.snapshot_id,
    source_volid: v.source_volid,
    metadata: v.metadata ?? {},
    links: resourceLinks(c, "volumes", v.id),
    user_id: v.user_id,
    bootable: String(v.bootable),
    encrypted: v.encrypted,
    replication_status: v.replication_status,
    consistencygroup_id: v.consistencygroup_id,
    multiattach: v.multiattach,
    attachments: attachments(d.attachments, c),
  };
  if (c.isAdmin) {
    out["migration_status"] = cinderMigrationStatus(v);
  }
  const ver = c.apiVersion;
  if (ver.matches("3.13")) {
    out["group_id"] = v.group_id;
  }
  if (c.isAdmin && ver.matches("3.21")) {
    out["provider_id"] = v.provider_id;
  }
  if (ver.matches("3.48")) {
    // No target sharing information is kept; Cinder's default for a volume without it.
    out["shared_targets"] = ver.matches("3.69") ? null : true;
    out["service_uuid"] = null;
  }
  if (c.isAdmin && ver.matches("3.61")) {
    out["cluster_name"] = v.cluster_name;
  }
  if (ver.matches("3.63")) {
    out["volume_type_id"] = d.type?.id ?? null;
  }
  // 3.64 encryption_key_id appears only when a key is set; we never hold one.
  if (ver.matches("3.65")) {
    out["consumes_quota"] = v.use_quota;
  }
  return out;
}

/** GET /volumes/{id} and /volumes/detail: the core plus the extension attributes. */
export function volumeDetail(d: VolumeDetails, c: RequestContext): Record<string, unknown> {
  const out = volumeCore(d, c);
  out["os-vol-tenant-attr:tenant_id"] = d.volume.project_id;
  if (c.isAdmin) {
    out["os-vol-host-attr:host"] = d.volume.host;
    out["os-vol-mig-status-attr:migstat"] = cinderMigrationStatus(d.volume);
    out["os-vol-mig-status-attr:name_id"] = d.volume.name_id;
  }
  return out;
}

/** GET /volumes: never any extension attribute. */
export function volumeSummary(v: VolumeRow, c: RequestContext): Record<string, unknown> {
  return { id: v.id, name: v.name, links: resourceLinks(c, "volumes", v.id) };
}
