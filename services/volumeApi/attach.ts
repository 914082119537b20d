/**
 * os-attach, os-detach and os-force_detach: the database side of Cinder's old attach flow
 * (cinder/volume/api.py `attach`/`detach` and the volume manager's `attach_volume`/`detach_volume`,
 * which only update rows). Connections are not modelled, so no driver is involved and the API
 * does the manager's part itself, in one transaction on the locked volume row; statuses are still
 * written by compare-and-swap against what was read under the lock.
 */
import type { Knex } from "knex";

import { InvalidInput, InvalidVolume, VolumeNotFound } from "../../common/errors";
import { AttachStatus, MigrationStatus, VolumeStatus } from "../../common/states";
import {
  type AttachmentRow,
  detachAttachment,
  getAttachment,
  insertAttachment,
  listAttachments,
} from "../../db/attachments";
import { lockVolume, updateVolumeIf, type VolumeRow } from "../../db/volumes";
import { BadRequest } from "./badRequest";
import { AdminPolicy, authorize, type Caller } from "./caller";
import { ConflictNovaUsingAttachment } from "./conflict";
import type { VolumeApiOptions } from "./lookup";
import { cinderMigrationStatus } from "./volumeState";

export interface AttachRequest {
  instanceUuid: string | null;
  hostName: string | null;
  mountpoint: string;
  mode: "rw" | "ro";
}

/** cinder.volume.volume_utils.sanitize_hostname */
function sanitizeHostname(name: string): string {
  return name
    .replace(/[ _]/g, "-")
    .replace(/[^\w.-]+/g, "")
    .toLowerCase()
    .replace(/^[.-]+|[.-]+$/g, "");
}

async function locked(trx: Knex.Transaction, id: string): Promise<VolumeRow> {
  const v = await lockVolume(trx, id);
  if (!v) {
    throw new VolumeNotFound(id);
  }
  return v;
}

/** Write the decided values, conditional on the status read under the lock. */
async function save(trx: Knex.Transaction, v: VolumeRow, values: Partial<VolumeRow>): Promise<void> {
  if (!(await updateVolumeIf(trx, v.id, values, { status: v.status }))) {
    throw new VolumeNotFound(v.id);
  }
}

export async function attachVolume(
  o: VolumeApiOptions,
  volume: VolumeRow,
  r: AttachRequest,
): Promise<AttachmentRow> {
  return o.db.transaction(async (trx) => {
    const v = await locked(trx, volume.id);
    if (v.status === VolumeStatus.MAINTENANCE) {
      throw new InvalidVolume("The volume cannot be attached in maintenance mode.");
    }
    // The API adds readonly=False to the admin metadata if it is not there yet.
    const metadata: Record<string, string> = { readonly: "False", ...v.metadata };
    if (metadata["readonly"] === "True" && r.mode !== "ro") {
      throw new BadRequest(`Invalid attaching mode '${r.mode}' for volume ${v.id}.`);
    }
    // From here on the volume manager's checks.
    const mode = metadata["attached_mode"];
    if (v.status === VolumeStatus.ATTACHING && mode && mode !== r.mode) {
      throw new InvalidVolume("being attached by different mode");
    }
    const host = r.hostName === null ? null : sanitizeHostname(r.hostName);
    const same = (await listAttachments(trx, [v.id])).find((a) =>
      r.instanceUuid ? a.instance_uuid === r.instanceUuid : a.attached_host === host,
    );
    if (same) {
      // Already tracked: Cinder only makes sure the volume shows in-use.
      await save(trx, v, { status: VolumeStatus.IN_USE });
      return same;
    }
    if (v.status === VolumeStatus.IN_USE && !v.multiattach && cinderMigrationStatus(v) === null) {
      throw new InvalidVolume("volume is already attached and multiple attachments are not enabled");
    }
    const attachment = await insertAttachment(trx, {
      volume_id: v.id,
      instance_uuid: r.instanceUuid,
      attached_host: host,
      mountpoint: r.mountpoint,
      attach_mode: r.mode,
      attach_status: AttachStatus.ATTACHED,
    });
    await save(trx, v, {
      status: VolumeStatus.IN_USE,
      attach_status: AttachStatus.ATTACHED,
      metadata: { ...metadata, attached_mode: r.mode },
    });
    return attachment;
  });
}

/**
 * Cinder's `attachment_deletion_allowed` for a caller that is not a service: an attachment without
 * connection info (ours never have one) may go; a detach that names no attachment of a volume with
 * several, or names an unknown one, is left to Nova.
 */
async function attachmentToDelete(
  trx: Knex.Transaction,
  v: VolumeRow,
  attachments: AttachmentRow[],
  attachmentId: string | null,
): Promise<AttachmentRow | undefined> {
  if (!attachmentId) {
    if (attachments.length > 1) {
      throw new ConflictNovaUsingAttachment("");
    }
    return attachments[0];
  }
  const a = await getAttachment(trx, attachmentId);
  if (!a) {
    throw new ConflictNovaUsingAttachment("");
  }
  if (a.volume_id !== v.id) {
    throw new InvalidInput("Mismatched volume and attachment");
  }
  return a;
}

/** Attachment statuses by precedence, as Cinder picks the volume's from the remaining ones. */
const PRECEDENCE: AttachStatus[] = [
  AttachStatus.ATTACHED,
  AttachStatus.ATTACHING,
  AttachStatus.DETACHING,
  AttachStatus.RESERVED,
];

/** cinder/db `volume_detached`: the volume's statuses from its remaining attachments. */
export function afterDetach(v: VolumeRow, remaining: AttachmentRow[]): Partial<VolumeRow> {
  const attach =
    PRECEDENCE.find((s) => remaining.some((a) => a.attach_status === s)) ?? AttachStatus.DETACHED;
  const status =
    attach === AttachStatus.ATTACHED
      ? VolumeStatus.IN_USE
      : attach === AttachStatus.DETACHED
        ? VolumeStatus.AVAILABLE
        : (attach as VolumeStatus);
  const migstat = cinderMigrationStatus(v);
  // A migration or upload in progress sets the status itself when it ends.
  const showStatus =
    attach !== AttachStatus.DETACHED ||
    (migstat === null && v.status !== VolumeStatus.UPLOADING) ||
    migstat === MigrationStatus.SUCCESS ||
    migstat === MigrationStatus.ERROR;
  return showStatus ? { attach_status: attach, status } : { attach_status: attach };
}

export function withoutAttachedMode(metadata: Record<string, string>): Record<string, string> {
  const rest = { ...metadata };
  delete rest["attached_mode"];
  return rest;
}

/**
 * os-detach, and os-force_detach (admin only). Cinder's force detach also terminates the
 * connection and unreserves an `attaching` volume first; without connections, and with the
 * statuses recomputed from the remaining attachments here, that leaves nothing else to do.
 */
export async function detachVolume(
  o: VolumeApiOptions,
  caller: Caller,
  volume: VolumeRow,
  attachmentId: string | null,
  force = false,
): Promise<void> {
  if (force) {
    authorize(caller, AdminPolicy.FORCE_DETACH);
  }
  await o.db.transaction(async (trx) => {
    const v = await locked(trx, volume.id);
    const attachments = await listAttachments(trx, [v.id]);
    const target = await attachmentToDelete(trx, v, attachments, attachmentId);
    if (v.status === VolumeStatus.MAINTENANCE) {
      throw new InvalidVolume("The volume cannot be detached in maintenance mode.");
    }
    if (!target) {
      // Nothing attached: Cinder's manager just makes the volume available.
      await save(trx, v, {
        status: VolumeStatus.AVAILABLE,
        attach_status: AttachStatus.DETACHED,
        metadata: withoutAttachedMode(v.metadata),
      });
      return;
    }
    await detachAttachment(trx, target.id);
    const remaining = attachments.filter((a) => a.id !== target.id);
    await save(trx, v, { ...afterDetach(v, remaining), metadata: withoutAttachedMode(v.metadata) });
  });
}
