import { MigrationFlow } from "../../../common/states";

export interface FlowInputs {
  /** The volume has attachments (in-use): only Nova can move it (swap volume). */
  attached: boolean;
  forceHostCopy: boolean;
  /** The source driver implements migrateVolume. */
  driverCanMigrate: boolean;
  /**
   * For a retype: the type change touches nothing but volume_backend_name / availability zones
   * (Cinder's _can_use_driver_migration). Always true for a plain migration.
   */
  typeDiffAllowsDriver: boolean;
  /**
   * The volume has snapshots (the API let it move only with migrate_volumes_with_snapshots): they
   * move with it, whatever else holds; the flow itself refuses an attached one.
   */
  hasSnapshots?: boolean;
}

/**
 * Which flow runs first (cinder/volume/manager.py migrate_volume). Pure, so it is table-tested. A
 * driver flow that answers `{moved: false}` continues as generic; a driver error does not.
 */
export function chooseFlow(i: FlowInputs): MigrationFlow {
  if (i.hasSnapshots) {
    return MigrationFlow.SNAPSHOTS;
  }
  if (i.attached) {
    return MigrationFlow.COMPUTE;
  }
  if (!i.forceHostCopy && i.driverCanMigrate && i.typeDiffAllowsDriver) {
    return MigrationFlow.DRIVER;
  }
  return MigrationFlow.GENERIC;
}

/** Cinder's _can_use_driver_migration: only these extra specs may differ for a native move. */
export function typeDiffAllowsDriver(
  oldSpecs: Record<string, string>,
  newSpecs: Record<string, string>,
): boolean {
  const ignorable = new Set(["volume_backend_name", "RESKEY:availability_zones"]);
  const keys = new Set([...Object.keys(oldSpecs), ...Object.keys(newSpecs)]);
  return [...keys].every((k) => ignorable.has(k) || oldSpecs[k] === newSpecs[k]);
}
