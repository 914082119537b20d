import { MigrationFlow } from "../../common/states";
import { chooseFlow, typeDiffAllowsDriver } from "../../services/volume/flows/chooseFlow";

describe("chooseFlow (Cinder's migrate_volume and _can_use_driver_migration truth table)", () => {
  test.each([
    [true, false, true, true, MigrationFlow.COMPUTE],
    [true, true, true, true, MigrationFlow.COMPUTE],
    [false, false, true, true, MigrationFlow.DRIVER],
    [false, true, true, true, MigrationFlow.GENERIC],
    [false, false, false, true, MigrationFlow.GENERIC],
    [false, false, true, false, MigrationFlow.GENERIC],
  ])(
    "attached=%s force=%s driver=%s typeOk=%s → %s",
    (attached, forceHostCopy, driverCanMigrate, typeOk, want) => {
      expect(chooseFlow({ attached, forceHostCopy, driverCanMigrate, typeDiffAllowsDriver: typeOk })).toBe(
        want,
      );
    },
  );
});

test("only backend name and availability zones may differ for a native move", () => {
  expect(typeDiffAllowsDriver({ volume_backend_name: "a" }, { volume_backend_name: "b" })).toBe(true);
  expect(typeDiffAllowsDriver({ "RESKEY:availability_zones": "az1" }, {})).toBe(true);
  expect(typeDiffAllowsDriver({}, { "qos:read_iops": "100" })).toBe(false);
  expect(typeDiffAllowsDriver({ x: "1" }, { x: "2" })).toBe(false);
  expect(typeDiffAllowsDriver({ x: "1" }, { x: "1" })).toBe(true);
});
