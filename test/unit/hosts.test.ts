import { appendPool, backendOf, parseHost, poolOf, volumeTopic } from "../../common/hosts";

test.each([
  ["node@lvm#pool", { host: "node", backend: "lvm", pool: "pool" }],
  ["node@lvm", { host: "node", backend: "lvm", pool: null }],
  ["node", { host: "node", backend: null, pool: null }],
])("parseHost(%s)", (value, want) => {
  expect(parseHost(value)).toEqual(want);
});

test("backend, pool and topic helpers follow Cinder's extract_host", () => {
  expect(backendOf("demo@file-1#file-1")).toBe("demo@file-1");
  expect(poolOf("demo@file-1#file-1")).toBe("file-1");
  expect(poolOf("demo@file-1")).toBeNull();
  expect(appendPool("demo@file-1#old", "new")).toBe("demo@file-1#new");
  expect(volumeTopic("demo@file-1#file-1")).toBe("cinder-volume.demo@file-1");
});
