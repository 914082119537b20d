/**
 * The status-only steps of Nova's old attach/detach flow (cinder/volume/api.py `reserve_volume`,
 * `unreserve_volume`, `begin_detaching`, `roll_detaching`): each is one compare-and-swap on the
 * volume row, with Cinder's messages.
 */
import type { Knex } from "knex";

import { InvalidVolume } from "../../common/errors";
import { AttachStatus, IDLE_MIGRATION_STATUSES, VolumeStatus } from "../../common/states";
import { updateVolumeIf, type VolumeRow } from "../../db/volumes";
import type { VolumeApiOptions } from "./lookup";
import { isMigrating } from "./volumeState";

/** os-reserve: available (or in-use for a multiattach volume) → attaching. */
export async function reserveVolume(o: VolumeApiOptions, volume: VolumeRow): Promise<void> {
  const expected = volume.multiattach
    ? [VolumeStatus.AVAILABLE, VolumeStatus.IN_USE]
    : [VolumeStatus.AVAILABLE];
  const row = await updateVolumeIf(
    o.db,
    volume.id,
    { status: VolumeStatus.ATTACHING },
    { multiattach: volume.multiattach, status: expected },
  );
  if (!row) {
    throw new InvalidVolume(
      `Volume status must be ${expected.join(" or ")} to reserve, but the status is ${volume.status}.`,
    );
  }
}

/**
 * `in-use` when the volume still has a live attachment, else `available`
 * (cinder/db volume_has_attachments_filter).
 */
export function statusByAttachments(db: Knex | Knex.Transaction): Knex.Raw {
  return db.raw(
    "CASE WHEN EXISTS (SELECT 1 FROM volume_attachments a WHERE a.volume_id = volumes.id " +
      "AND NOT a.deleted AND a.attach_status <> ?) THEN ? ELSE ? END",
    [AttachStatus.DETACHED, VolumeStatus.IN_USE, VolumeStatus.AVAILABLE],
  );
}

/** os-unreserve: attaching → in-use or available; a volume that is not attaching is left alone. */
export async function unreserveVolume(o: VolumeApiOptions, volume: VolumeRow): Promise<void> {
  await updateVolumeIf(
    o.db,
    volume.id,
    { status: statusByAttachments(o.db) },
    { status: VolumeStatus.ATTACHING },
  );
}

/**
 * os-begin_detaching: in-use and attached → detaching. During a migration it silently does nothing,
 * so that Nova's swap (which calls it on the source volume) does not show the volume detaching.
 */
export async function beginDetaching(o: VolumeApiOptions, volume: VolumeRow): Promise<void> {
  const row = await updateVolumeIf(
    o.db,
    volume.id,
    { status: VolumeStatus.DETACHING },
    {
      status: VolumeStatus.IN_USE,
      attach_status: AttachStatus.ATTACHED,
      migration_status: IDLE_MIGRATION_STATUSES,
      migration_target_of: null,
    },
  );
  if (!row && !isMigrating(volume)) {
    throw new InvalidVolume(
      "Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.",
    );
  }
}

/** os-roll_detaching: detaching → in-use; anything else is left alone. */
export async function rollDetaching(o: VolumeApiOptions, volume: VolumeRow): Promise<void> {
  await updateVolumeIf(o.db, volume.id, { status: VolumeStatus.IN_USE }, { status: VolumeStatus.DETACHING });
}
