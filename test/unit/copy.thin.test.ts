import { extentSource } from "../../services/copy/choose";
import { mapLines, parseThinMap } from "../../services/copy/thin";
import type { CopyRequest } from "../../services/copy/types";

const MiB = 1024 * 1024;

describe("parseThinMap", () => {
  const range = { offset: 0, length: 64 * MiB };

  test("reads the ranges, in order, up to the end line", () => {
    expect(parseThinMap(`0 1048576\n4194304 2097152\nend 3145728\n`, range)).toEqual([
      { offset: 0, length: MiB },
      { offset: 4 * MiB, length: 2 * MiB },
    ]);
    expect(parseThinMap("end 0\n", range)).toEqual([]);
  });

  test.each([
    ["no end line (output cut short)", "0 1048576\n"],
    ["out of order", "4194304 1048576\n0 1048576\nend 2097152\n"],
    ["overlapping", "0 2097152\n1048576 1048576\nend 3145728\n"],
    ["beyond the range", `${63 * MiB} ${2 * MiB}\nend 2097152\n`],
    ["empty range", "0 0\nend 0\n"],
    ["not numbers", "0 x\nend 0\n"],
  ])("refuses a map %s", (_, text) => {
    expect(() => parseThinMap(text, range)).toThrow();
  });
});

test("mapLines clips the map to a segment", () => {
  const map = [
    { offset: 0, length: 3 * MiB },
    { offset: 10 * MiB, length: MiB },
    { offset: 30 * MiB, length: 4 * MiB },
  ];
  expect(mapLines(map, { offset: 2 * MiB, length: 30 * MiB })).toBe(
    `${2 * MiB} ${MiB}\n${10 * MiB} ${MiB}\n${30 * MiB} ${2 * MiB}\n`,
  );
  expect(mapLines(map, { offset: 4 * MiB, length: 4 * MiB })).toBe("");
});

describe("extentSource", () => {
  const endpoint = { runner: { kind: "local" as const }, path: "/x", sizeBytes: MiB, directIo: false };
  const req = (source: object, dest: object, more: Partial<CopyRequest> = {}): CopyRequest => ({
    source: { ...endpoint, sparseTarget: false, ...source },
    dest: { ...endpoint, sparseTarget: true, ...dest },
    sizeBytes: MiB,
    blockSize: "1M",
    ...more,
  });
  const both = { src: "/usr/bin/python3", dst: "/usr/bin/python3" };
  const perl = new Set(["perl"]);
  const none = new Set<string>();

  test("a file maps its data by lseek where both hosts have perl", () => {
    expect(extentSource(req({ mapsData: true }, {}), both, false, perl, perl)).toBe("seek");
    expect(extentSource(req({ mapsData: true }, {}), both, false, none, perl)).toBeNull();
  });

  test("a thin LV by its pool's map where the source host has python3 and the writer can apply records", () => {
    expect(extentSource(req({ thinLv: true }, {}), both, true, none, none)).toBe("thin");
    expect(extentSource(req({ thinLv: true }, {}), both, false, perl, none)).toBe("thin");
    expect(extentSource(req({ thinLv: true }, {}), both, false, none, none)).toBeNull();
    expect(
      extentSource(req({ thinLv: true }, {}), { src: null, dst: "/usr/bin/python3" }, true, perl, perl),
    ).toBeNull();
  });

  test.each([
    ["the destination does not read zeros", req({ thinLv: true }, { sparseTarget: false })],
    ["direct is asked for by name", req({ thinLv: true }, {}, { transport: "direct" })],
    ["a bandwidth limit is set", req({ thinLv: true }, {}, { bpsLimit: () => MiB })],
  ])("never when %s", (_, r) => {
    expect(extentSource(r, both, true, perl, perl)).toBeNull();
  });
});
