/** os-volume-manage, manageable_volumes and os-unmanage against real raw-file workers in-process. */
import fs from "node:fs";
import path from "node:path";

import type { Express } from "express";
import request from "supertest";

import { createApp } from "../../api/app";
import type { AppConfig } from "../../common/config";
import { silentLogger } from "../../common/logger";
import { createTestDatabase, type TestDatabase } from "../helpers/db";
import { type InProcessStack, startInProcessStack, twoBackendConfig, waitFor } from "../helpers/stack";

let t: TestDatabase;
let stack: InProcessStack;
let app: Express;
let config: AppConfig;
let stateDir: string;
const GiB = 1024 ** 3;
const ADMIN = "admin:demo";

beforeAll(async () => {
  t = await createTestDatabase();
  ({ config, stateDir } = twoBackendConfig());
  stack = await startInProcessStack(t.db, config);
  app = createApp({ db: t.db, bus: stack.bus, config, logger: silentLogger() });
  await waitFor(
    async () => (await t.db("services").whereNotNull("capabilities")).length >= 2,
    "capabilities",
  );
});
afterAll(async () => {
  await stack.stop();
  await t.drop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

function call(method: "get" | "post" | "put", url: string, token = ADMIN, version?: string): request.Test {
  const r = request(app)[method](url).set("X-Auth-Token", token);
  return version ? r.set("OpenStack-API-Version", `volume ${version}`) : r;
}

function manage(volume: Record<string, unknown>, token = ADMIN): request.Test {
  return call("post", "/v3/demo/os-volume-manage", token).send({ volume });
}

const dir1 = (): string => path.join(stateDir, "file-1");

test("a file put in the backend's directory is listed, adopted (renamed, whole GiB) and unmanaged again", async () => {
  fs.writeFileSync(path.join(dir1(), "legacy-disk"), "data");
  fs.truncateSync(path.join(dir1(), "legacy-disk"), 1.5 * GiB);

  const listed = await call("get", "/v3/demo/manageable_volumes/detail?host=test@file-1", ADMIN, "3.8");
  expect(listed.status).toBe(200);
  expect(listed.body["manageable-volumes"]).toContainEqual({
    reference: { "source-name": "legacy-disk" },
    size: 2,
    safe_to_manage: true,
    reason_not_safe: null,
    cinder_id: null,
    extra_info: null,
  });

  const res = await manage({
    host: "test@file-1#file-1",
    ref: { "source-name": "legacy-disk" },
    name: "adopted",
  });
  expect(res.status).toBe(202);
  const id = res.body.volume.id;
  expect(res.body.volume).toMatchObject({ name: "adopted", size: 2, status: "creating" });
  await waitFor(
    async () => (await t.db("volumes").where({ id }).first())?.status === "available",
    "managed volume available",
  );
  expect(fs.existsSync(path.join(dir1(), "legacy-disk"))).toBe(false);
  const file = path.join(dir1(), `volume-${id}`);
  expect(fs.statSync(file).size).toBe(2 * GiB);
  const head = Buffer.alloc(4);
  const fd = fs.openSync(file, "r");
  fs.readSync(fd, head, 0, 4, 0);
  fs.closeSync(fd);
  expect(head.toString()).toBe("data");

  const again = await call("get", "/v3/demo/manageable_volumes/detail?host=test@file-1", ADMIN, "3.8");
  expect(again.body["manageable-volumes"]).toContainEqual(
    expect.objectContaining({
      reference: { "source-name": `volume-${id}` },
      safe_to_manage: false,
      reason_not_safe: "already managed",
      cinder_id: id,
    }),
  );
  const summary = await call("get", "/v3/demo/manageable_volumes?host=test@file-1", ADMIN, "3.8");
  expect(Object.keys(summary.body["manageable-volumes"][0]).sort()).toEqual([
    "reference",
    "safe_to_manage",
    "size",
  ]);

  const unmanaged = await call("post", `/v3/demo/volumes/${id}/action`).send({ "os-unmanage": null });
  expect(unmanaged.status).toBe(202);
  expect((await call("get", `/v3/demo/volumes/${id}`)).status).toBe(404);
  expect(fs.existsSync(file)).toBe(true);
  const freed = await call("get", "/v3/demo/manageable_volumes/detail?host=test@file-1", ADMIN, "3.8");
  expect(freed.body["manageable-volumes"]).toContainEqual(
    expect.objectContaining({ reference: { "source-name": `volume-${id}` }, safe_to_manage: true }),
  );
});

test("refusals: unknown host, bad or missing reference, already managed, members, quota", async () => {
  const unknownHost = await manage({ host: "nowhere@x", ref: { "source-name": "a" } });
  expect(unknownHost.status).toBe(400);
  expect(unknownHost.body.badRequest.message).toBe("Host 'nowhere@x' not found");
  const noRef = await manage({ host: "test@file-1", ref: { "source-id": "a" } });
  expect(noRef.body.badRequest.message).toBe(
    "Manage existing volume failed due to invalid backend reference {'source-id': 'a'}: Reference must contain source-name element.",
  );
  const missing = await manage({ host: "test@file-1", ref: { "source-name": "ghost" } });
  expect(missing.status).toBe(400);
  expect(missing.body.badRequest.message).toMatch(
    /^Manage existing volume failed due to invalid backend reference \{'source-name': 'ghost'\}: ghost does not exist/,
  );
  const unsafe = await manage({ host: "test@file-1", ref: { "source-name": "../etc/passwd" } });
  expect(unsafe.status).toBe(400);

  const created = await call("post", "/v3/demo/volumes").send({ volume: { size: 1 } });
  const vid = created.body.volume.id;
  await waitFor(
    async () => (await t.db("volumes").where({ id: vid }).first())?.status === "available",
    "volume",
  );
  const host = (await t.db("volumes").where({ id: vid }).first()).host as string;
  const managed = await manage({ host, ref: { "source-name": `volume-${vid}` } });
  expect(managed.body.badRequest.message).toMatch(/already managed by volume/);

  const member = await manage({ host: "test@file-1", ref: { "source-name": "a" } }, "alice:demo");
  expect(member.status).toBe(403);
  expect(member.body.forbidden.message).toBe(
    "Policy doesn't allow volume_extension:volume_manage to be performed.",
  );
  const list = await call("get", "/v3/demo/manageable_volumes?host=test@file-1", "alice:demo", "3.8");
  expect(list.body.forbidden.message).toBe(
    "Policy doesn't allow volume_extension:list_manageable to be performed.",
  );
  const unmanage = await call("post", `/v3/demo/volumes/${vid}/action`, "alice:demo").send({
    "os-unmanage": {},
  });
  expect(unmanage.body.forbidden.message).toBe(
    "Policy doesn't allow volume_extension:volume_unmanage to be performed.",
  );

  fs.writeFileSync(path.join(dir1(), "big-disk"), "");
  fs.truncateSync(path.join(dir1(), "big-disk"), 5 * GiB);
  await call("put", "/v3/demo/os-quota-sets/demo").send({ quota_set: { gigabytes: 3 } });
  const over = await manage({ host: "test@file-1", ref: { "source-name": "big-disk" } });
  expect(over.status).toBe(413);
  expect(fs.existsSync(path.join(dir1(), "big-disk"))).toBe(true);
  await call("put", "/v3/demo/os-quota-sets/demo").send({ quota_set: { gigabytes: 1000 } });
});

test("os-unmanage needs what a delete needs", async () => {
  const created = await call("post", "/v3/demo/volumes").send({ volume: { size: 1 } });
  const vid = created.body.volume.id;
  await waitFor(
    async () => (await t.db("volumes").where({ id: vid }).first())?.status === "available",
    "volume",
  );
  await t.db("volumes").where({ id: vid }).update({ status: "in-use", attach_status: "attached" });
  const refused = await call("post", `/v3/demo/volumes/${vid}/action`).send({ "os-unmanage": null });
  expect(refused.status).toBe(400);
  expect(refused.body.badRequest.message).toMatch(
    /^Invalid volume: Volume status must be available or error/,
  );
  // Other actions still reach the action table.
  expect((await call("post", `/v3/demo/volumes/${vid}/action`).send({ "os-frob": null })).status).toBe(400);
});
