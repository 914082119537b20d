import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { migrateWithCinder } from "./scenario";

let proc: ServiceProcess;
let stateDir: string;
let endpoint: string;

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-e2e-"));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  // The shipped demo configuration, with only the state folder and port moved.
  fs.copyFileSync(path.resolve(__dirname, "../../etc/demo.conf"), conf);
  proc = await startProcess(["all", "--config", conf], {
    env: { VMS__DEFAULT__STATE_PATH: stateDir, VMS__DEFAULT__OSAPI_VOLUME_LISTEN_PORT: String(port) },
    readyLine: /listening on http/,
  });
  endpoint = `http://127.0.0.1:${port}/v3`;
}, 90_000);

afterAll(async () => {
  await proc?.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

test("cinder migrate moves a volume between the two demo pools on the embedded stack", async () => {
  await migrateWithCinder(endpoint, stateDir, "demo");
}, 180_000);
