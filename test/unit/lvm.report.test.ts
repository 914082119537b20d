import { DriverError } from "../../common/errors";
import { checkLvName, checkVgName, devicePath } from "../../drivers/lvm/names";
import { isNotFound, lvm, parseLvs, parseVgs } from "../../drivers/lvm/report";

// Shapes as lvm2 2.03 prints them with --reportformat json --units b --nosuffix.
const LVS = `{
  "report": [
    { "lv": [
      {"lv_name":"volume-1", "vg_name":"cinder-a", "lv_size":"67108864", "lv_attr":"-wi-a-----", "pool_lv":"", "data_percent":""},
      {"lv_name":"cinder-a-pool", "vg_name":"cinder-a", "lv_size":"1073741824", "lv_attr":"twi-aotz--", "pool_lv":"", "data_percent":"12.50"},
      {"lv_name":"volume-2", "vg_name":"cinder-a", "lv_size":"1073741824", "lv_attr":"Vwi-a-tz--", "pool_lv":"cinder-a-pool", "data_percent":"3.00"}
    ]}
  ]
}`;

test("lvs and vgs JSON reports become typed rows with sizes in bytes", () => {
  const lvs = parseLvs(LVS);
  expect(lvs.map((l) => [l.name, l.sizeBytes, l.poolLv])).toEqual([
    ["volume-1", 67108864, ""],
    ["cinder-a-pool", 1073741824, ""],
    ["volume-2", 1073741824, "cinder-a-pool"],
  ]);
  expect(lvs[1]!.dataPercent).toBe(12.5);
  expect(
    parseVgs('{"report":[{"vg":[{"vg_name":"cinder-a","vg_size":"4290772992","vg_free":"4223664128"}]}]}'),
  ).toEqual([{ name: "cinder-a", sizeBytes: 4290772992, freeBytes: 4223664128 }]);
  expect(() => parseLvs("WARNING: something\n")).toThrow(DriverError);
  expect(() => parseVgs('{"report":[{"vg":[{"vg_name":"x","vg_size":"","vg_free":"1"}]}]}')).toThrow(
    /vg_size/,
  );
});

test("every LVM command runs with a fixed locale", () => {
  expect(lvm("lvs", "-o", "lv_name")).toEqual([
    "env",
    "LC_ALL=C",
    "LVM_SUPPRESS_FD_WARNINGS=1",
    "lvm",
    "lvs",
    "-o",
    "lv_name",
  ]);
});

test("not found is exit code 5 and the message, not either alone", () => {
  expect(isNotFound(5, '  Failed to find logical volume "cinder-a/volume-x"')).toBe(true);
  expect(isNotFound(5, "  Insufficient free space")).toBe(false);
  expect(isNotFound(1, '  Failed to find logical volume "cinder-a/volume-x"')).toBe(false);
});

test.each(["cinder-a", "vg_1", "a.b+c"])("valid VG name %s", (n) => {
  expect(checkVgName(n)).toBe(n);
});

test.each(["", "-vg", "..", "a b", "a/b", "a;reboot", "$(id)", "a`id`", "vg\n", "x".repeat(200)])(
  "hostile or invalid name %j is refused before any command",
  (n) => {
    expect(() => checkVgName(n)).toThrow(DriverError);
    expect(() => checkLvName(n)).toThrow(DriverError);
  },
);

test("reserved LV names are refused; device paths are built from checked parts", () => {
  expect(() => checkLvName("snapshot1")).toThrow(DriverError);
  expect(() => checkLvName("v_tmeta")).toThrow(DriverError);
  expect(devicePath("cinder-a", "volume-1")).toBe("/dev/cinder-a/volume-1");
  expect(() => devicePath("cinder-a", "../etc")).toThrow(DriverError);
});
