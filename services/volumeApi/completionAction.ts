/**
 * os-migrate_volume_completion (cinder/volume/api.py `migrate_volume_completion`), called by Nova
 * after it swapped an attached volume. Without any migration (a plain Nova swap) the API moves the
 * attachments itself and answers with the new id; during a migration it checks the pair and asks
 * the source volume's service, synchronously, which id Nova must keep.
 */
import { InvalidVolume } from "../../common/errors";
import { listAttachments } from "../../db/attachments";
import type { VolumeRow } from "../../db/volumes";
import { VolumeRpc } from "../rpc/stubs";
import { attachVolume, detachVolume } from "./attach";
import { AdminPolicy, authorize, type Caller } from "./caller";
import { findVolume, type VolumeApiOptions } from "./lookup";
import { cinderMigrationStatus } from "./volumeState";

export interface CompletionRequest {
  newVolumeId: string;
  error: boolean;
}

/**
 * Nova's `error` as a boolean: JSON booleans as they are, null false, strings by oslo's
 * bool_from_string (unknown words false). Cinder passes the raw value on, so there the string
 * "false" is truthy and rolls the migration back; we read it as the false it says.
 */
export function completionError(value: unknown): boolean {
  if (typeof value === "boolean") {
    return value;
  }
  if (typeof value === "string") {
    return ["1", "t", "true", "on", "y", "yes"].includes(value.trim().toLowerCase());
  }
  return false;
}

export async function migrateVolumeCompletion(
  o: VolumeApiOptions,
  caller: Caller,
  volume: VolumeRow,
  r: CompletionRequest,
): Promise<string> {
  authorize(caller, AdminPolicy.MIGRATE_VOLUME_COMPLETION);
  const newVolume = await findVolume(o.db, caller, r.newVolumeId);
  const source = cinderMigrationStatus(volume);
  const dest = cinderMigrationStatus(newVolume);
  if (source === null && dest === null) {
    if (!r.error) {
      await moveAttachments(o, caller, volume, newVolume);
    }
    return newVolume.id;
  }
  if (source === null) {
    throw new InvalidVolume("Source volume not mid-migration.");
  }
  if (dest === null) {
    throw new InvalidVolume("Destination volume not mid-migration.");
  }
  const expected = `target:${volume.id}`;
  if (dest !== expected) {
    throw new InvalidVolume(`Destination has migration_status ${dest}, expected ${expected}.`);
  }
  if (!volume.host) {
    // A source mid-migration always has a host; without one no service could answer.
    throw new InvalidVolume("Source volume not mid-migration.");
  }
  const reply = await new VolumeRpc(o.bus).migrateVolumeCompletion(volume.host, {
    volume_id: volume.id,
    new_volume_id: newVolume.id,
    error: r.error,
  });
  return reply.save_volume_id;
}

/**
 * A swap outside any migration: every attachment of the old volume is detached and the new
 * volume attached to the same instance, host and mountpoint, read-write, as Cinder's API does
 * through its own detach and attach.
 */
async function moveAttachments(
  o: VolumeApiOptions,
  caller: Caller,
  from: VolumeRow,
  to: VolumeRow,
): Promise<void> {
  for (const a of await listAttachments(o.db, [from.id])) {
    await detachVolume(o, caller, from, a.id);
    await attachVolume(o, to, {
      instanceUuid: a.instance_uuid,
      hostName: a.attached_host,
      mountpoint: a.mountpoint ?? "",
      mode: "rw",
    });
  }
}
