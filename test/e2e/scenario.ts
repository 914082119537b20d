/**
 * The walking-skeleton acceptance flow, driven only through the unmodified `cinder` client:
 * get-pools, create, write data into the volume's file, migrate to the other pool, poll `show`
 * until migstat is success, then check host, name_id and the destination file's sha256.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { cinder, parseRows, parseTable, tableValues } from "../helpers/cli";
import { waitFor } from "../helpers/stack";

function sha256(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

async function show(endpoint: string, id: string): Promise<Record<string, string>> {
  const r = await cinder(endpoint, ["show", id]);
  expect(r.code).toBe(0);
  return parseTable(r.stdout);
}

export async function migrateWithCinder(endpoint: string, stateDir: string, host: string): Promise<void> {
  const pools = await cinder(endpoint, ["get-pools"]);
  expect(pools.code).toBe(0);
  expect(tableValues(pools.stdout, "name").sort()).toEqual([
    `${host}@file-1#file-1`,
    `${host}@file-2#file-2`,
  ]);

  const created = await cinder(endpoint, ["create", "--name", "e2e-volume", "1"]);
  expect(created.code).toBe(0);
  const id = parseTable(created.stdout)["id"]!;
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  const available = await waitFor(async () => {
    const v = await show(endpoint, id);
    return v["status"] === "available" ? v : undefined;
  }, "volume available");
  const srcHost = available["os-vol-host-attr:host"]!;
  expect(srcHost).toMatch(new RegExp(`^${host}@file-[12]#file-[12]$`));
  const srcBackend = srcHost.split("@")[1]!.split("#")[0]!;
  const dstBackend = srcBackend === "file-1" ? "file-2" : "file-1";

  // Real data in the source volume: random blocks at the start and in the middle.
  const srcFile = path.join(stateDir, srcBackend, `volume-${id}`);
  const fd = fs.openSync(srcFile, "r+");
  fs.writeSync(fd, randomBytes(2 << 20), 0, 2 << 20, 0);
  fs.writeSync(fd, randomBytes(1 << 20), 0, 1 << 20, 700 << 20);
  fs.closeSync(fd);
  const before = sha256(srcFile);

  // Refusals come back on stdout with exit 0 (cinderclient's do_migrate); nothing changes.
  const refused = await cinder(endpoint, ["migrate", id, "nowhere@none#none"]);
  expect(refused.stdout).toContain(
    `Migration for volume ${id} failed: Invalid host: No available service named 'nowhere@none#none' (HTTP 400)`,
  );
  const same = await cinder(endpoint, ["migrate", id, srcHost]);
  expect(same.stdout).toContain("(HTTP 400)");
  expect((await show(endpoint, id))["os-vol-mig-status-attr:migstat"]).toBe("None");

  const dest = `${host}@${dstBackend}#${dstBackend}`;
  const migrate = await cinder(endpoint, ["migrate", id, dest]);
  expect(migrate.code).toBe(0);
  expect(migrate.stdout).not.toContain("failed");

  const done = await waitFor(
    async () => {
      const v = await show(endpoint, id);
      const st = v["os-vol-mig-status-attr:migstat"];
      return st === "success" || st === "error" ? v : undefined;
    },
    "migstat success",
    120_000,
  );
  expect(done["os-vol-mig-status-attr:migstat"]).toBe("success");
  expect(done["migration_status"]).toBe("success");
  expect(done["os-vol-host-attr:host"]).toBe(dest);
  expect(done["status"]).toBe("available");
  const nameId = done["os-vol-mig-status-attr:name_id"]!;
  expect(nameId).toMatch(/^[0-9a-f-]{36}$/);
  expect(nameId).not.toBe(id);
  expect(sha256(path.join(stateDir, dstBackend, `volume-${nameId}`))).toBe(before);
  await waitFor(async () => !fs.existsSync(srcFile), "source data removed");

  // The temp volume's row is gone from admin lists once retired.
  const list = await cinder(endpoint, ["list", "--all-tenants"]);
  const ids = parseRows(list.stdout).map((r) => r[0]);
  expect(ids.filter((x) => x === id)).toHaveLength(1);
  expect(ids).not.toContain(nameId);
}
