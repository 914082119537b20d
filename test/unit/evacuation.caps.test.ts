import { loadOf, pickStarts, saturated } from "../../services/evacuation/caps";

const caps = { max_parallel: 3, max_parallel_per_host: 2, max_parallel_per_pool: 2 };
const item = (from: string, to: string | null) => ({
  from_host: `n@${from}#${from}`,
  to_host: to && `m@${to}#${to}`,
});

test("candidates start in order while the total, per-backend and per-pool caps have room", () => {
  const candidates = [
    item("a", "x"),
    item("b", "x"),
    item("c", "x"),
    item("a", "y"),
    item("a", "z"),
    item("b", "y"),
    item("c", "z"),
  ];
  // c→x is passed over (x has 2), a→z too (a has 2); b→y fits and then the total (4) is reached.
  expect(pickStarts([], candidates, { ...caps, max_parallel: 4 })).toEqual([
    item("a", "x"),
    item("b", "x"),
    item("a", "y"),
    item("b", "y"),
  ]);
  expect(pickStarts([], candidates, caps)).toEqual([item("a", "x"), item("b", "x"), item("a", "y")]);
});

test("running items count against the caps", () => {
  const running = [item("a", "x"), item("b", "x")];
  expect(pickStarts(running, [item("a", "x"), item("a", "y"), item("b", "y")], caps)).toEqual([
    item("a", "y"),
  ]);
  expect(pickStarts([...running, item("c", "z")], [item("d", "w")], caps)).toEqual([]);
});

test("lowered caps start nothing while above them", () => {
  const running = [item("a", "x"), item("a", "y"), item("b", "z")];
  expect(pickStarts(running, [item("c", "w")], { ...caps, max_parallel: 2 })).toEqual([]);
});

test("saturated names the backends and pools at their cap", () => {
  const load = loadOf([item("a", "x"), item("a", "y"), item("b", "x")]);
  expect(load.total).toBe(3);
  expect(saturated(load, caps)).toEqual({ backends: ["n@a"], pools: ["m@x#x"] });
  expect(saturated(load, { ...caps, max_parallel_per_host: 1 }).backends).toEqual(["n@a", "n@b"]);
});
