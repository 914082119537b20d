import { changedRanges, chunkCount, planRanges } from "../../services/copy/ranges";
import { movedSnapshotNameId } from "../../services/volume/flows/snapshotChain";

const MiB = 1024 * 1024;
const d = (c: string): string => c.repeat(64);

describe("changedRanges", () => {
  it("is everything when there is no state before", () => {
    expect(changedRanges(null, [d("a"), d("b"), d("c")], 4 * MiB, 12 * MiB)).toEqual([
      { offset: 0, length: 12 * MiB },
    ]);
  });

  it("is nothing when no chunk changed", () => {
    const same = [d("a"), d("b")];
    expect(changedRanges(same, [...same], 4 * MiB, 8 * MiB)).toEqual([]);
  });

  it("merges adjacent changed chunks and keeps unchanged ones out", () => {
    const before = [d("a"), d("b"), d("c"), d("d"), d("e"), d("f")];
    const after = [d("a"), d("1"), d("2"), d("d"), d("e"), d("3")];
    expect(changedRanges(before, after, 4 * MiB, 24 * MiB)).toEqual([
      { offset: 4 * MiB, length: 8 * MiB },
      { offset: 20 * MiB, length: 4 * MiB },
    ]);
  });

  it("ends a changed last chunk at the volume's end when it is shorter", () => {
    const before = [d("a"), d("b")];
    expect(changedRanges(before, [d("a"), d("c")], 4 * MiB, 5 * MiB)).toEqual([
      { offset: 4 * MiB, length: 1 * MiB },
    ]);
    expect(chunkCount(5 * MiB, 4 * MiB)).toBe(2);
  });

  it("refuses digests that do not cover the volume in its chunks", () => {
    expect(() => changedRanges(null, [d("a")], 4 * MiB, 8 * MiB)).toThrow(/1 chunk digests for/);
    expect(() => changedRanges([d("a")], [d("a"), d("b")], 4 * MiB, 8 * MiB)).toThrow(/differ/);
  });
});

describe("planRanges", () => {
  it("cuts each range into segments of at most the segment size, numbered in order", () => {
    const plan = planRanges(
      [
        { offset: 0, length: 3 * MiB },
        { offset: 8 * MiB, length: 1 * MiB },
      ],
      16 * MiB,
      MiB,
      2 * MiB,
    );
    expect(plan).toEqual([
      { index: 0, offset: 0, length: 2 * MiB },
      { index: 1, offset: 2 * MiB, length: 1 * MiB },
      { index: 2, offset: 8 * MiB, length: 1 * MiB },
    ]);
  });

  it("refuses ranges off block boundaries, overlapping, out of order or past the end", () => {
    expect(() => planRanges([{ offset: 512, length: MiB }], 4 * MiB, MiB, 4 * MiB)).toThrow(/whole blocks/);
    expect(() =>
      planRanges(
        [
          { offset: 2 * MiB, length: MiB },
          { offset: 0, length: MiB },
        ],
        4 * MiB,
        MiB,
        4 * MiB,
      ),
    ).toThrow(/in order/);
    expect(() => planRanges([{ offset: 3 * MiB, length: 2 * MiB }], 4 * MiB, MiB, 4 * MiB)).toThrow(/within/);
  });

  it("takes a short last range that ends the volume", () => {
    expect(planRanges([{ offset: 4 * MiB, length: 1000 }], 4 * MiB + 1000, MiB, 4 * MiB)).toEqual([
      { index: 0, offset: 4 * MiB, length: 1000 },
    ]);
  });
});

describe("movedSnapshotNameId", () => {
  it("is a uuid fixed by the migration and the snapshot, different for another attempt", () => {
    const a = movedSnapshotNameId("m1", "s1");
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(movedSnapshotNameId("m1", "s1")).toBe(a);
    expect(movedSnapshotNameId("m2", "s1")).not.toBe(a);
    expect(movedSnapshotNameId("m1", "s2")).not.toBe(a);
  });
});
