import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { cinder, type CliResult, parseTable } from "../helpers/cli";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { waitFor } from "../helpers/stack";

/**
 * Clones and the volume summary through the unmodified cinder client against the embedded
 * default (etc/demo.conf: PGlite, the in-process bus, two raw-file backends).
 */
let proc: ServiceProcess;
let stateDir: string;
let endpoint: string;

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-e2e-clone-"));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  const demo = fs.readFileSync(path.join(__dirname, "../../etc/demo.conf"), "utf8");
  fs.writeFileSync(
    conf,
    demo
      .replace(/^state_path = .*$/m, `state_path = ${stateDir}`)
      .replace(/^osapi_volume_listen_port = .*$/m, `osapi_volume_listen_port = ${port}`),
  );
  proc = await startProcess(["all", "--config", conf], { readyLine: /listening on http/ });
  endpoint = `http://127.0.0.1:${port}/v3`;
}, 90_000);

afterAll(async () => {
  await proc?.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<CliResult> {
  const r = await cinder(endpoint, args);
  if (r.code !== 0) {
    throw new Error(`cinder ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
  }
  return r;
}

async function show(id: string): Promise<Record<string, string>> {
  return parseTable((await ok(["show", id])).stdout);
}

async function available(id: string): Promise<Record<string, string>> {
  return waitFor(
    async () => {
      const v = await show(id);
      return v["status"] === "available" ? v : undefined;
    },
    `volume ${id} available`,
    60_000,
  );
}

test("cinder create --source-volid clones onto the source's backend with the source's data", async () => {
  const src = await available(parseTable((await ok(["create", "--name", "src", "1"])).stdout)["id"]!);
  const host = src["os-vol-host-attr:host"]!;
  const file = (v: Record<string, string>): string =>
    path.join(stateDir, v["os-vol-host-attr:host"]!.split("@")[1]!.split("#")[0]!, `volume-${v["id"]}`);
  fs.writeFileSync(file(src), "written before the clone", { flag: "r+" });

  const created = parseTable(
    (await ok(["create", "--source-volid", src["id"]!, "--name", "copy", "2"])).stdout,
  );
  const clone = await available(created["id"]!);
  expect(clone).toMatchObject({ source_volid: src["id"], size: "2", "os-vol-host-attr:host": host });
  const head = Buffer.alloc(24);
  const fd = fs.openSync(file(clone), "r");
  fs.readSync(fd, head, 0, 24, 0);
  fs.closeSync(fd);
  expect(head.toString()).toBe("written before the clone");

  const refused = await cinder(endpoint, ["create", "--source-volid", clone["id"]!, "--name", "small", "1"]);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain("cannot be smaller than original volume size");
});

test("cinder summary at 3.12 and, from 3.36, with metadata", async () => {
  await available(parseTable((await ok(["create", "--metadata", "tier=gold", "3"])).stdout)["id"]!);
  const at312 = parseTable((await ok(["--os-volume-api-version", "3.12", "summary"])).stdout);
  expect(at312).toMatchObject({ total_count: "3", total_size: "6" });
  const at336 = parseTable((await ok(["--os-volume-api-version", "3.36", "summary"])).stdout);
  expect(at336["metadata"]).toContain("tier");
  expect(at336["metadata"]).toContain("gold");
});
