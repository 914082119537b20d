import type { SnapshotRow } from "../../db/snapshots";
import { backendName, type VolumeRow } from "../../db/volumes";
import type { DriverSnapshot, DriverVolume } from "../../drivers/types";

/** What a driver is told about a volume row: its backend name is template % (name_id ?? id). */
export function driverVolume(template: string, v: VolumeRow): DriverVolume {
  return {
    id: v.id,
    nameId: v.name_id,
    size: v.size,
    name: backendName(template, v),
    providerLocation: v.provider_location,
  };
}

/** A snapshot's backend name is template % (name_id ?? id), as a volume's is. */
export function driverSnapshot(template: string, s: SnapshotRow): DriverSnapshot {
  return {
    id: s.id,
    volumeId: s.volume_id,
    name: template.replace("%s", s.name_id ?? s.id),
    volumeSize: s.volume_size,
  };
}
