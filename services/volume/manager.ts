import { coerceError, VolumeNotFound } from "../../common/errors";
import { backendOf } from "../../common/hosts";
import { SnapshotStatus, VolumeStatus } from "../../common/states";
import { getSnapshot, softDeleteSnapshot, updateSnapshotIf } from "../../db/snapshots";
import { getVolume, softDeleteVolume, updateVolumeIf } from "../../db/volumes";
import type { CopyEndpoint, VolumeModelUpdate } from "../../drivers/types";
import type { VolumeMethods } from "../rpc/methods";
import { patientBus } from "../rpc/patient";
import { VolumeRpc } from "../rpc/stubs";
import { toRpcHandlers } from "../rpc/typed";
import type { RpcHandlers } from "../rpc/types";
import { deleteSnapshotsOf } from "./cascade";
import { cloneVolume } from "./clone";
import type { VolumeManagerDeps } from "./deps";
import { driverSnapshot, driverVolume } from "./driverViews";
import { KeyedSerial } from "./keyedSerial";
import { manageableVolumes, manageExisting, manageExistingGetSize } from "./manage";
import { MigrationRunner } from "./migrationRunner";

/**
 * Methods a migration may send twice: get_copy_endpoint only reads; update_migrated_volume
 * converges, since the handler reads the rows again and runs one at a time per volume (below).
 */
const PATIENT_METHODS: ReadonlySet<keyof VolumeMethods> = new Set<keyof VolumeMethods>([
  "get_copy_endpoint",
  "update_migrated_volume",
]);

/**
 * The volume worker of one backend (`host@backend`): driver work for its volumes and the source
 * side of every migration that leaves it. Long work (a migration) runs in the background once the
 * database says what is happening, so the bus can acknowledge the message.
 */
export class VolumeManager {
  readonly volumeRpc: VolumeRpc;
  readonly migrations: MigrationRunner;
  private readonly serial = new KeyedSerial();

  constructor(readonly deps: VolumeManagerDeps) {
    // Every call of this worker is its own background work (migrations, recovery), never an API
    // request's: the ones safe to repeat wait out a broker outage instead of rolling a copy back.
    this.volumeRpc = new VolumeRpc(
      patientBus(deps.bus, {
        idempotent: PATIENT_METHODS,
        logger: deps.logger.child({ component: "volume-rpc" }),
      }),
    );
    this.migrations = new MigrationRunner({
      ...deps,
      volumeRpc: this.volumeRpc,
      ownsHost: (h: string | null) => this.ownsHost(h),
    });
  }

  handlers(): RpcHandlers {
    return toRpcHandlers<VolumeMethods>({
      create_volume: (a) => this.createVolume(a.volume_id).catch(() => undefined),
      create_migration_target: (a) => this.createVolume(a.volume_id),
      delete_volume: (a) => this.deleteVolume(a.volume_id),
      extend_volume: (a) => this.extendVolume(a.volume_id, a.new_size),
      create_snapshot: (a) => this.createSnapshot(a.snapshot_id),
      delete_snapshot: (a) => this.deleteSnapshot(a.snapshot_id),
      get_copy_endpoint: (a) => this.copyEndpoint(a.volume_id),
      get_manageable_volumes: () => manageableVolumes(this.deps),
      manage_existing_get_size: (a) => manageExistingGetSize(this.deps, a.source_name),
      manage_existing: (a) => manageExisting(this.deps, a.volume_id, a.source_name),
      update_migrated_volume: (a) =>
        this.serial.run(a.volume_id, () =>
          this.updateMigratedVolume(a.volume_id, a.new_volume_id, a.original_status),
        ),
      retype: (a) => this.retype(a.volume_id, a.new_type_id),
      migrate_volume: (a) => this.migrations.migrateVolume(a),
      migrate_volume_completion: (a) => this.migrations.complete(a.volume_id, a.new_volume_id, a.error),
    });
  }

  /** Waits for background migrations after asking them to stop. */
  async stop(): Promise<void> {
    await this.migrations.stop();
  }

  private get template(): string {
    return this.deps.config.volumeNameTemplate;
  }

  private ownsHost(host: string | null): boolean {
    return host !== null && backendOf(host) === this.deps.backend.serviceHost;
  }

  /** Creates the backing object; `creating` → `available`, or `error` (and rethrows for callers that wait). */
  async createVolume(volumeId: string): Promise<void> {
    const { db, driver, logger } = this.deps;
    const volume = await getVolume(db, volumeId);
    if (!volume || !this.ownsHost(volume.host)) {
      throw new VolumeNotFound(volumeId);
    }
    if (volume.status === VolumeStatus.AVAILABLE) {
      return;
    }
    try {
      // A migration's temp volume carries the source's snapshot_id and source_volid for the record
      // only: its data comes from the copy, not from the snapshot or the source, and that snapshot
      // may long be deleted (Cinder lets a volume outlive the snapshot it was made from).
      const snapshotId = volume.migration_target_of === null ? volume.snapshot_id : null;
      const snapshot = snapshotId ? await getSnapshot(db, snapshotId) : undefined;
      if (snapshotId && !snapshot) {
        throw new Error(`snapshot ${snapshotId} of volume ${volumeId} is gone`);
      }
      const origin =
        volume.source_volid && volume.migration_target_of === null
          ? await getVolume(db, volume.source_volid)
          : undefined;
      if (origin && !this.ownsHost(origin.host)) {
        throw new Error(`source volume ${origin.id} of clone ${volumeId} is not on this backend`);
      }
      const update = origin
        ? await cloneVolume(driver, driverVolume(this.template, volume), driverVolume(this.template, origin))
        : snapshot
          ? await driver.createVolumeFromSnapshot(
              driverVolume(this.template, volume),
              driverSnapshot(this.deps.config.snapshotNameTemplate, snapshot),
            )
          : await driver.createVolume(driverVolume(this.template, volume));
      const done = await updateVolumeIf(
        db,
        volumeId,
        { ...update, status: VolumeStatus.AVAILABLE },
        { status: VolumeStatus.CREATING },
      );
      if (!done) {
        throw new Error(`volume ${volumeId} left 'creating' while its data was being created`);
      }
    } catch (e) {
      const err = coerceError(e);
      logger.error({ err, volume_id: volumeId }, "create_volume failed");
      await updateVolumeIf(db, volumeId, { status: VolumeStatus.ERROR }, { status: VolumeStatus.CREATING });
      throw err;
    }
  }

  /**
   * Removes the volume's snapshots (a cascade delete), its data, then the row. Deleting something
   * already gone succeeds (drivers are idempotent).
   */
  async deleteVolume(volumeId: string): Promise<void> {
    const { db, driver, logger } = this.deps;
    const volume = await getVolume(db, volumeId);
    if (!volume || volume.status !== VolumeStatus.DELETING || !this.ownsHost(volume.host)) {
      logger.info({ volume_id: volumeId }, "delete_volume: nothing to delete here");
      return;
    }
    try {
      await deleteSnapshotsOf(this.deps, volume);
      await driver.deleteVolume(driverVolume(this.template, volume));
      await softDeleteVolume(db, volumeId);
    } catch (e) {
      logger.error({ err: coerceError(e), volume_id: volumeId }, "delete_volume failed");
      await updateVolumeIf(
        db,
        volumeId,
        { status: VolumeStatus.ERROR_DELETING },
        { status: VolumeStatus.DELETING },
      );
    }
  }

  /** `extending` → `available` with the new size, or `error_extending` (Cinder's extend_volume). */
  async extendVolume(volumeId: string, newSize: number): Promise<void> {
    const { db, driver, logger } = this.deps;
    const volume = await getVolume(db, volumeId);
    if (!volume || volume.status !== VolumeStatus.EXTENDING || !this.ownsHost(volume.host)) {
      return;
    }
    try {
      await driver.extendVolume(driverVolume(this.template, volume), newSize);
      await updateVolumeIf(
        db,
        volumeId,
        {
          // An attached volume (extend of in-use volumes, 3.42) goes back to in-use.
          status: db.raw("CASE WHEN previous_status = 'in-use' THEN 'in-use' ELSE 'available' END"),
          size: newSize,
          previous_status: VolumeStatus.EXTENDING,
        },
        { status: VolumeStatus.EXTENDING },
      );
    } catch (e) {
      logger.error({ err: coerceError(e), volume_id: volumeId }, "extend_volume failed");
      await updateVolumeIf(
        db,
        volumeId,
        { status: VolumeStatus.ERROR_EXTENDING },
        { status: VolumeStatus.EXTENDING },
      );
    }
  }

  /**
   * Retype where the volume is (its pool satisfies the new type): our drivers need no change, so
   * only the row moves, `retyping` → previous status with the new type (Cinder's driver.retype).
   */
  async retype(volumeId: string, newTypeId: string): Promise<void> {
    await updateVolumeIf(
      this.deps.db,
      volumeId,
      {
        volume_type_id: newTypeId,
        status: this.deps.db.raw("coalesce(previous_status, 'available')"),
        previous_status: VolumeStatus.RETYPING,
      },
      { status: VolumeStatus.RETYPING },
    );
  }

  async createSnapshot(snapshotId: string): Promise<void> {
    const { db, driver, logger } = this.deps;
    const snap = await getSnapshot(db, snapshotId);
    const volume = snap ? await getVolume(db, snap.volume_id) : undefined;
    if (!snap || !volume || snap.status !== SnapshotStatus.CREATING) {
      return;
    }
    try {
      await driver.createSnapshot(
        driverSnapshot(this.deps.config.snapshotNameTemplate, snap),
        driverVolume(this.template, volume),
      );
      await updateSnapshotIf(
        db,
        snapshotId,
        { status: SnapshotStatus.AVAILABLE, progress: "100%" },
        { status: SnapshotStatus.CREATING },
      );
    } catch (e) {
      logger.error({ err: coerceError(e), snapshot_id: snapshotId }, "create_snapshot failed");
      await updateSnapshotIf(
        db,
        snapshotId,
        { status: SnapshotStatus.ERROR },
        { status: SnapshotStatus.CREATING },
      );
    }
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    const { db, driver, logger } = this.deps;
    const snap = await getSnapshot(db, snapshotId);
    if (!snap || snap.status !== SnapshotStatus.DELETING) {
      return;
    }
    try {
      await driver.deleteSnapshot(driverSnapshot(this.deps.config.snapshotNameTemplate, snap));
      await softDeleteSnapshot(db, snapshotId);
    } catch (e) {
      logger.error({ err: coerceError(e), snapshot_id: snapshotId }, "delete_snapshot failed");
      await updateSnapshotIf(
        db,
        snapshotId,
        { status: SnapshotStatus.ERROR_DELETING },
        { status: SnapshotStatus.DELETING },
      );
    }
  }

  async copyEndpoint(volumeId: string): Promise<CopyEndpoint> {
    const volume = await getVolume(this.deps.db, volumeId);
    if (!volume || !this.ownsHost(volume.host)) {
      throw new VolumeNotFound(volumeId);
    }
    return this.deps.driver.copyEndpoint(driverVolume(this.template, volume));
  }

  /**
   * The destination's part of completing a generic migration: the name the moved data keeps.
   * Cinder's default is the temp's name (name_id = temp id); a driver may rename instead. A
   * failed rename is not a failed migration: the data is whole under the temp's name.
   */
  async updateMigratedVolume(
    volumeId: string,
    newVolumeId: string,
    originalStatus: string,
  ): Promise<VolumeModelUpdate> {
    const { db, driver, logger } = this.deps;
    const [volume, newVolume] = await Promise.all([getVolume(db, volumeId), getVolume(db, newVolumeId)]);
    if (
      !volume ||
      !newVolume ||
      newVolume.migration_target_of !== volume.id ||
      !this.ownsHost(newVolume.host)
    ) {
      throw new VolumeNotFound(newVolumeId);
    }
    const keep = {
      name_id: newVolume.name_id ?? newVolume.id,
      provider_location: newVolume.provider_location,
    };
    if (!driver.updateMigratedVolume) {
      return keep;
    }
    try {
      const named = await driver.updateMigratedVolume(
        driverVolume(this.template, volume),
        driverVolume(this.template, newVolume),
        originalStatus,
      );
      // The temp row names the data as it now is, so a rollback or a restart deletes the right
      // object. Only a crash between the driver's rename and this update can orphan it.
      await updateVolumeIf(
        db,
        newVolume.id,
        {
          name_id: named.name_id === undefined ? keep.name_id : (named.name_id ?? volume.id),
          provider_location:
            "provider_location" in named ? (named.provider_location ?? null) : keep.provider_location,
        },
        { migration_target_of: volume.id },
      );
      return named;
    } catch (e) {
      logger.error(
        { err: coerceError(e), volume_id: volumeId },
        "update_migrated_volume failed; keeping the temp name",
      );
      return keep;
    }
  }
}
