/**
 * A storage host that dies mid-copy: host-b (the destination) loses power while a 64 MiB volume
 * streams to it. The source must stay intact and the migration end in `error`; the temp LV left on
 * host-b is removed by the worker once host-b is back (the service retries its own failed deletes).
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

import { cinder } from "../helpers/cli";
import { waitFor } from "../helpers/stack";
import { labHost, loadLab } from "./lab";
import {
  createVolume,
  devicePath,
  deviceSha256,
  fillRandom,
  type LabService,
  migrationSettled,
  show,
  startLabService,
  volumeLvs,
} from "./service";

const run = promisify(execFile);
const HOST_SH = path.join(__dirname, "bin/host.sh");
const lab = loadLab();
const hostA = labHost(lab, "host-a");
const hostB = labHost(lab, "host-b");
let svc: LabService;
let crashed = false;

beforeAll(async () => {
  svc = await startLabService(lab);
}, 120_000);

afterAll(async () => {
  if (crashed) {
    // Never leave the lab with a host down, whatever happened above.
    await run("bash", [HOST_SH, "boot", "host-b"]).catch(() => undefined);
  }
  await svc?.stop();
}, 120_000);

test("host-b dies mid-copy: source intact, migration error, temp LV removed once host-b is back", async () => {
  const id = await createVolume(svc, "lvm-a", "dies-mid-copy");
  const src = devicePath("cinder-a", `volume-${id}`);
  await fillRandom(hostA, src);
  const before = await deviceSha256(hostA, src);
  const onB = await volumeLvs(hostB);

  const r = await cinder(svc.endpoint, ["migrate", id, "lab@lvm-b#lvm-b"], { project: "lab" });
  expect(r.code).toBe(0);
  // The temp volume's LV exists on host-b and bytes are flowing into it.
  const tempLv = await waitFor(
    async () => (await volumeLvs(hostB)).find((l) => !onB.includes(l)),
    "the temp LV on host-b",
    60_000,
    500,
  );
  expect(tempLv).not.toContain(id);
  await waitFor(
    async () => {
      const res = await fetch(`${svc.endpoint}/lab/migrations?volume_id=${id}`, {
        headers: { "x-auth-token": "admin:lab" },
      });
      const body = (await res.json()) as { migrations: { progress: { bytes_done: number } }[] };
      return (body.migrations[0]?.progress.bytes_done ?? 0) > 0;
    },
    "bytes copied",
    90_000,
    500,
  );

  await run("bash", [HOST_SH, "crash", "host-b"]);
  crashed = true;

  const settled = await migrationSettled(svc, id, 240_000);
  expect(settled["os-vol-mig-status-attr:migstat"]).toBe("error");
  expect(settled["status"]).toBe("available");
  expect(settled["os-vol-host-attr:host"]).toBe("lab@lvm-a#lvm-a");
  expect(settled["os-vol-mig-status-attr:name_id"]).toBe("None");
  expect(await deviceSha256(hostA, src)).toBe(before);

  await run("bash", [HOST_SH, "boot", "host-b"]);
  crashed = false;
  // The worker retries the temp volume's delete every report interval until the host answers.
  await waitFor(async () => !(await volumeLvs(hostB)).includes(tempLv), "temp LV removed", 180_000, 1000);
  expect((await show(svc, id))["os-vol-host-attr:host"]).toBe("lab@lvm-a#lvm-a");
  expect(await deviceSha256(hostA, src)).toBe(before);

  await cinder(svc.endpoint, ["delete", id], { project: "lab" });
}, 600_000);
