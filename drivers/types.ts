import type { BackendConfig } from "../common/config";
import type { Logger } from "../common/logger";
import type { PoolCapabilities, ServiceCapabilities } from "../db/services";
import type { CommandRunner, RunnerSpec } from "./exec/types";

/** What a driver knows of a volume: its ids, size and backend name (template % (name_id ?? id)). */
export interface DriverVolume {
  id: string;
  nameId: string | null;
  /** GiB. */
  size: number;
  /** The backend object name, e.g. `volume-<uuid>`. */
  name: string;
  providerLocation: string | null;
}

export interface DriverSnapshot {
  id: string;
  volumeId: string;
  name: string;
  volumeSize: number;
}

/** Fields a driver may set on the volume row after create or migrate. */
export interface VolumeModelUpdate {
  provider_location?: string | null;
  name_id?: string | null;
}

/** Where a volume's bytes can be read or written, for the copy engine. Serializable (sent over the bus). */
export interface CopyEndpoint {
  runner: RunnerSpec;
  /** Path on that host: a file or a block device. */
  path: string;
  sizeBytes: number;
  /** Use O_DIRECT (block devices); files on tmpfs and the like refuse it. */
  directIo: boolean;
  /** The target reads zeros where nothing was written, so zero blocks may be skipped (conv=sparse). */
  sparseTarget: boolean;
  /**
   * A file whose holes lseek(SEEK_DATA/SEEK_HOLE) reports: a copy from it may read only its data
   * ranges (block devices answer EINVAL, so LVs leave this unset). @defaultValue false
   */
  mapsData?: boolean;
  /**
   * An LVM thin LV: its pool knows which blocks are mapped (the rest reads zeros without a disk
   * touched), so a copy from it may read only those. @defaultValue false
   */
  thinLv?: boolean;
  /**
   * The address other storage hosts use to reach this one for host-to-host copies, when it is not
   * the runner's SSH host (a storage network). @defaultValue the SSH runner's host
   */
  dataAddress?: string;
  /**
   * The SSH user's authorized_keys file on this host, where a host-to-host copy installs its
   * one-copy key. @defaultValue ~/.ssh/authorized_keys
   */
  authorizedKeysFile?: string;
}

export interface MigrationDestination {
  /** `host@backend#pool`. */
  host: string;
  capabilities: PoolCapabilities | null;
}

export type DriverMigrateResult = { moved: false } | { moved: true; modelUpdate: VolumeModelUpdate };

export interface DriverDeps {
  backend: BackendConfig;
  runner: CommandRunner;
  /** How other workers reach this backend's host (copy endpoints carry it over the bus). */
  runnerSpec: RunnerSpec;
  volumeNameTemplate: string;
  logger: Logger;
}

/** The contract between a volume worker and its storage (cinder/interface/volume_driver.py, trimmed). */
export interface VolumeDriver {
  /** Prepares the backend (directories, VGs); throws if the backend cannot work. */
  doSetup(): Promise<void>;
  /** Stats for the scheduler: one entry per pool. */
  getCapabilities(): Promise<ServiceCapabilities>;
  createVolume(volume: DriverVolume): Promise<VolumeModelUpdate>;
  /** Idempotent: a volume that does not exist is already deleted. */
  deleteVolume(volume: DriverVolume): Promise<void>;
  /** A new volume holding the snapshot's data (and zeros past it when the volume is larger). */
  createVolumeFromSnapshot(volume: DriverVolume, snapshot: DriverSnapshot): Promise<VolumeModelUpdate>;
  /** Grows the volume to `newSizeGb`; the data stays. */
  extendVolume(volume: DriverVolume, newSizeGb: number): Promise<void>;
  createSnapshot(snapshot: DriverSnapshot, volume: DriverVolume): Promise<void>;
  deleteSnapshot(snapshot: DriverSnapshot): Promise<void>;
  copyEndpoint(volume: DriverVolume): Promise<CopyEndpoint>;
  /**
   * Where a snapshot's bytes can be read (a snapshot that moves with its volume is read, hashed
   * and verified through it); never written. Drivers without it cannot move snapshots.
   */
  snapshotCopyEndpoint?(snapshot: DriverSnapshot): Promise<CopyEndpoint>;
  /**
   * Called on the destination after a generic copy, before the rows are swapped (Cinder's
   * update_migrated_volume): the driver may give the new volume the source's backend name (LVM
   * renames volume-<temp id> to volume-<source id> when the volume was `available`). Returns the
   * source row's new name_id and provider_location. Without it the source keeps the temp's name.
   */
  updateMigratedVolume?(
    volume: DriverVolume,
    newVolume: DriverVolume,
    originalStatus: string,
  ): Promise<VolumeModelUpdate>;
  /** Driver-native move; `{moved: false}` sends the volume through the generic copy. */
  migrateVolume?(volume: DriverVolume, dest: MigrationDestination): Promise<DriverMigrateResult>;
  /**
   * Every backend object that could hold a volume (Cinder's get_manageable_volumes, before the
   * worker marks the ones it already manages): its name and size in bytes.
   */
  listBackendObjects?(): Promise<BackendObject[]>;
  /** Size in bytes of the object a manage request names; throws DriverError when it is not there. */
  backendObjectSize?(sourceName: string): Promise<number>;
  /**
   * Adopt an existing object as `volume` (Cinder's manage_existing): it gets the volume's backend
   * name and whole GiB; the data stays.
   */
  manageExisting?(volume: DriverVolume, sourceName: string): Promise<VolumeModelUpdate>;
}

/** One object on a backend, managed or not. */
export interface BackendObject {
  name: string;
  sizeBytes: number;
}
