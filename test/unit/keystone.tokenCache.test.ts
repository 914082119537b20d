import { TokenCache } from "../../services/keystone";

function cache(maxEntries: number) {
  let now = 1_000;
  const c = new TokenCache<string>({ maxEntries, clock: () => now });
  return { c, advance: (ms: number) => (now += ms), now: () => now };
}

test("an entry is returned until its expiry, then forgotten", () => {
  const { c, advance, now } = cache(10);
  c.set("t", "v", now() + 100);
  expect(c.get("t")).toBe("v");
  advance(99);
  expect(c.get("t")).toBe("v");
  advance(1);
  expect(c.get("t")).toBeUndefined();
  expect(c.size).toBe(0);
});

test("an entry that is already expired is not stored", () => {
  const { c, now } = cache(10);
  c.set("t", "v", now());
  expect(c.size).toBe(0);
});

test("when full, expired entries go first", () => {
  const { c, advance, now } = cache(2);
  c.set("short", "1", now() + 10);
  c.set("long", "2", now() + 1_000);
  advance(20);
  c.set("new", "3", now() + 1_000);
  expect(c.get("long")).toBe("2");
  expect(c.get("new")).toBe("3");
  expect(c.size).toBe(2);
});

test("when full of live entries, the least recently used one is dropped", () => {
  const { c, now } = cache(2);
  c.set("a", "1", now() + 1_000);
  c.set("b", "2", now() + 1_000);
  expect(c.get("a")).toBe("1"); // a is now more recent than b
  c.set("c", "3", now() + 1_000);
  expect(c.get("b")).toBeUndefined();
  expect(c.get("a")).toBe("1");
  expect(c.get("c")).toBe("3");
});

test("replacing a key does not count twice, and delete removes it", () => {
  const { c, now } = cache(2);
  c.set("a", "1", now() + 1_000);
  c.set("a", "2", now() + 1_000);
  expect(c.size).toBe(1);
  expect(c.get("a")).toBe("2");
  expect(c.delete("a")).toBe(true);
  expect(c.get("a")).toBeUndefined();
});

test("a size below one is refused", () => {
  expect(() => new TokenCache({ maxEntries: 0 })).toThrow(RangeError);
});
