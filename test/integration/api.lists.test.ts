/** Volume and snapshot lists: filters, sort, limit, marker, offset, next links, with_count. */
import { randomUUID } from "node:crypto";

import { addVolume, api, type Harness, startHarness } from "./api.harness";

let h: Harness;
const P = "listp";
const T = `lucy:${P}`;
const ids: string[] = [];
beforeAll(async () => {
  h = await startHarness();
  for (const [i, name] of ["b", "a", "c", "d"].entries()) {
    const v = await addVolume(h, {
      project_id: P,
      name,
      size: i + 1,
      bootable: i === 0,
      availability_zone: i === 3 ? "east" : "nova",
      metadata: i < 2 ? { tier: "gold", n: String(i) } : {},
      created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    });
    ids.push(v.id);
  }
  for (const [i, v] of ids.entries()) {
    await h.t.db("snapshots").insert({
      id: randomUUID(),
      volume_id: v,
      name: `s${3 - i}`,
      status: i === 3 ? "error" : "available",
      volume_size: 1,
      project_id: P,
      user_id: "lucy",
      created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    });
  }
});
afterAll(async () => h.close());

const list = (q: string, version?: string) =>
  api(h, "get", `/v3/${P}/volumes/detail${q}`, { token: T, version });
const names = (body: { volumes: { name: string }[] }): string[] => body.volumes.map((v) => v.name);

test("filters members may use: name, status, metadata, bootable, availability_zone", async () => {
  expect(names((await list("?name=a")).body)).toEqual(["a"]);
  expect(names((await list(`?metadata=${encodeURIComponent("{'tier': 'gold'}")}`)).body).sort()).toEqual([
    "a",
    "b",
  ]);
  expect(names((await list("?bootable=true")).body)).toEqual(["b"]);
  expect(names((await list("?availability_zone=east")).body)).toEqual(["d"]);
  expect(names((await list("?status=available&sort=name:asc")).body)).toEqual(["a", "b", "c", "d"]);
  // Before 3.33 an unknown filter is dropped; from 3.33 a member is told.
  expect(names((await list("?host=x&sort=name:asc")).body)).toEqual(["a", "b", "c", "d"]);
  const refused = await list("?host=x", "3.33");
  expect(refused.status).toBe(400);
  expect(refused.body.badRequest.message).toBe("Invalid filters host are found in query options.");
});

test("sort, limit, marker and offset; a full page links to the next, with the same query", async () => {
  expect(names((await list("?sort_key=name&sort_dir=desc")).body)).toEqual(["d", "c", "b", "a"]);
  expect(names((await list("?sort=size:asc")).body)).toEqual(["b", "a", "c", "d"]);
  expect(names((await list("")).body)).toEqual(["d", "c", "a", "b"]);
  const first = await list("?limit=2&sort=name:asc");
  expect(names(first.body)).toEqual(["a", "b"]);
  const next = first.body.volumes_links[0];
  expect(next.rel).toBe("next");
  const url = new URL(next.href);
  expect(url.pathname).toBe(`/v3/${P}/volumes/detail`);
  expect(Object.fromEntries(url.searchParams)).toEqual({
    limit: "2",
    sort: "name:asc",
    marker: first.body.volumes[1].id,
  });
  const second = await api(h, "get", `${url.pathname}${url.search}`, { token: T });
  expect(names(second.body)).toEqual(["c", "d"]);
  expect(second.body.volumes_links).toHaveLength(1);
  const last = await api(
    h,
    "get",
    `/v3/${P}/volumes?limit=2&sort=name:asc&marker=${second.body.volumes[1].id}`,
    { token: T },
  );
  expect(last.body).toEqual({ volumes: [] });
  expect(names((await list("?offset=1&limit=2&sort=name:asc")).body)).toEqual(["b", "c"]);
  const bad = await list("?sort=colour:asc");
  expect(bad.status).toBe(400);
  expect(bad.body.badRequest.message).toBe("Invalid input received: Invalid sort key");
  expect((await list("?limit=-1")).body.badRequest.message).toBe("limit param must be positive");
  expect((await list(`?marker=${randomUUID()}`)).status).toBe(404);
});

test("with_count (3.45) counts the matches before paging", async () => {
  const res = await list("?limit=1&with_count=true", "3.45");
  expect(res.body.count).toBe(4);
  expect(res.body.volumes).toHaveLength(1);
  expect((await list("?limit=1&with_count=true", "3.44")).body).not.toHaveProperty("count");
  expect(ids).toHaveLength(4);
});

test("snapshots: name and status filters, display_name sort, limit with a next link", async () => {
  const snaps = (q: string) => api(h, "get", `/v3/${P}/snapshots${q}`, { token: T });
  expect((await snaps("?name=s1")).body.snapshots.map((s: { name: string }) => s.name)).toEqual(["s1"]);
  expect((await snaps("?status=error")).body.snapshots.map((s: { name: string }) => s.name)).toEqual(["s0"]);
  expect(
    (await snaps("?sort_key=display_name&sort_dir=asc")).body.snapshots.map((s: { name: string }) => s.name),
  ).toEqual(["s0", "s1", "s2", "s3"]);
  const page = await snaps("?limit=3&sort=id:asc");
  expect(page.body.snapshots).toHaveLength(3);
  expect(page.body.snapshots_links[0].href).toContain(`/v3/${P}/snapshots?`);
  const zero = await snaps("?limit=0");
  expect(zero.body.snapshots).toEqual([]);
});

test("GET /volumes/ (no id) is a 404, and a clone of an unknown volume is the unknown volume's 404", async () => {
  expect((await api(h, "get", `/v3/${P}/volumes/`, { token: T })).status).toBe(404);
  const missing = randomUUID();
  const res = await api(h, "post", `/v3/${P}/volumes`, { token: T }).send({
    volume: { size: 1, source_volid: missing },
  });
  expect(res.status).toBe(404);
  expect(res.body.itemNotFound.message).toBe(`Volume ${missing} could not be found.`);
});
