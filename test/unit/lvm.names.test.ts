import { snapshotLvName } from "../../drivers/lvm/names";

test("a snapshot's LV escapes LVM's reserved `snapshot` prefix as Cinder does, and is checked", () => {
  expect(snapshotLvName("snapshot-3f0c")).toBe("_snapshot-3f0c");
  expect(snapshotLvName("snap-3f0c")).toBe("snap-3f0c");
  expect(() => snapshotLvName("snap/../x")).toThrow(/Invalid logical volume name/);
  expect(() => snapshotLvName("pvmove0")).toThrow(/Invalid logical volume name/);
});
