/**
 * Shared pieces of the volume API: its dependencies, visibility-checked lookups (Cinder's
 * `project_only` reads) and strict query-parameter parsing.
 */
import type { AppConfig } from "../../common/config";
import { SnapshotNotFound, VolumeNotFound } from "../../common/errors";
import type { Logger } from "../../common/logger";
import type { Db } from "../../db/connection";
import { getSnapshot, type SnapshotRow } from "../../db/snapshots";
import { getVolume, type VolumeRow } from "../../db/volumes";
import type { Bus } from "../rpc/types";
import { BadRequest } from "./badRequest";
import type { Caller } from "./caller";

/** Dependencies of every volume-API class, passed as one options object. */
export interface VolumeApiOptions {
  db: Db;
  bus: Bus;
  config: AppConfig;
  logger: Logger;
}

/** Admins see every volume; others only their project's (another project's volume is a 404). */
export async function findVolume(db: Db, caller: Caller, id: string): Promise<VolumeRow> {
  return visibleVolume(caller, id, await getVolume(db, id));
}

/** The row if CALLER may see it (admins see every project's), else Cinder's 404 for ID. */
export function visibleVolume<T extends { project_id: string }>(
  caller: Caller,
  id: string,
  v: T | undefined,
): T {
  if (!v || (!caller.isAdmin && v.project_id !== caller.projectId)) {
    throw new VolumeNotFound(id);
  }
  return v;
}

export async function findSnapshot(db: Db, caller: Caller, id: string): Promise<SnapshotRow> {
  const s = await getSnapshot(db, id);
  if (!s || (!caller.isAdmin && s.project_id !== caller.projectId)) {
    throw new SnapshotNotFound(id);
  }
  return s;
}

const TRUE_STRINGS = ["1", "t", "true", "on", "y", "yes"];
const FALSE_STRINGS = ["0", "f", "false", "off", "n", "no"];

/**
 * Cinder's `utils.get_bool_param`: an absent parameter is `dflt`; anything but oslo's boolean
 * strings is a 400 "Value 'x' for 'name' is not a boolean.".
 */
export function boolParam(name: string, value: unknown, dflt = false): boolean {
  if (value === undefined) {
    return dflt;
  }
  const s = String(value).trim().toLowerCase();
  if (TRUE_STRINGS.includes(s)) {
    return true;
  }
  if (FALSE_STRINGS.includes(s)) {
    return false;
  }
  throw new BadRequest(`Value '${String(value)}' for '${name}' is not a boolean.`);
}
