import { sampleOffsets } from "../../services/copy/choose";

test.each([64, 100, 512, 1024, 20480])(
  "%i MiB: one sample in each eighth, whole inside the volume",
  (mib) => {
    const at = sampleOffsets(mib);
    expect(at).toHaveLength(8);
    at.forEach((o, i) => {
      expect(o).toBeGreaterThanOrEqual(Math.floor((i * mib) / 8));
      expect(o + 1).toBeLessThanOrEqual(Math.ceil(((i + 1) * mib) / 8));
    });
  },
);

test("volumes smaller than eight samples are sampled at distinct offsets", () => {
  expect(sampleOffsets(1)).toEqual([0]);
  expect(sampleOffsets(3)).toEqual([0, 1, 2]);
});

test("samples do not all fall on one phase of a power-of-two layout", () => {
  // 4 MiB blocks cycling four kinds (bench/volumes.ts's mixed volume): evenly spaced samples at
  // multiples of 64 MiB all read kind 0.
  for (const mib of [256, 512, 1024, 4096]) {
    const kinds = new Set(sampleOffsets(mib).map((o) => Math.floor(o / 4) % 4));
    expect(kinds.size).toBeGreaterThan(1);
  }
});
