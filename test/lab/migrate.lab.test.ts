/**
 * Issue 4's acceptance on real LVM2: volumes made and migrated through the API with the unmodified
 * `cinder` client, by the service running as an all-in-one process with four LVM backends on the
 * two lab storage hosts. Data is written into the LVs on the hosts and checked there by sha256.
 */
import { cinder } from "../helpers/cli";
import { labHost, loadLab, sshOk } from "./lab";
import {
  createVolume,
  devicePath,
  deviceSha256,
  fillRandom,
  type LabService,
  listLvs,
  lvsOfVolumeSettled,
  migrationSettled,
  show,
  startLabService,
  volumeLvs,
} from "./service";

const lab = loadLab();
const hostA = labHost(lab, "host-a");
const hostB = labHost(lab, "host-b");
let svc: LabService;

beforeAll(async () => {
  svc = await startLabService(lab);
}, 120_000);

afterAll(async () => {
  await svc?.stop();
});

/** LVs in AFTER that were not in BEFORE. */
function newLvs(before: string[], after: string[]): string[] {
  return after.filter((l) => !before.includes(l));
}

async function migrate(id: string, dest: string): Promise<Record<string, string>> {
  const r = await cinder(svc.endpoint, ["migrate", id, dest], { project: "lab" });
  expect(r.code).toBe(0);
  expect(r.stdout).not.toContain("failed");
  return migrationSettled(svc, id);
}

async function migrationsOf(
  id: string,
): Promise<{ flow: string; state: string; transport: string | null }[]> {
  const res = await fetch(`${svc.endpoint}/lab/migrations?volume_id=${id}`, {
    headers: { "x-auth-token": "admin:lab" },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { migrations: { flow: string; state: string; transport: string | null }[] })
    .migrations;
}

test("a 64 MiB thick volume migrates host-a → host-b: same bytes, source LV gone, the LV renamed to the volume's id", async () => {
  const id = await createVolume(svc, "lvm-a", "thick-a-to-b");
  const src = devicePath("cinder-a", `volume-${id}`);
  const lv = (await listLvs(hostA)).find((l) => l.vg === "cinder-a" && l.name === `volume-${id}`);
  expect(lv?.sizeBytes).toBe(64 << 20);
  expect(lv?.attr.startsWith("-")).toBe(true); // thick
  await fillRandom(hostA, src);
  const before = await deviceSha256(hostA, src);
  const onB = await volumeLvs(hostB);

  const done = await migrate(id, "lab@lvm-b#lvm-b");
  expect(done["os-vol-mig-status-attr:migstat"]).toBe("success");
  expect(done["os-vol-host-attr:host"]).toBe("lab@lvm-b#lvm-b");
  expect(done["status"]).toBe("available");
  // Reference §4.3: an available volume's new LV takes the source's name, so name_id is empty.
  expect(done["os-vol-mig-status-attr:name_id"]).toBe("None");

  expect(await deviceSha256(hostB, devicePath("cinder-b", `volume-${id}`))).toBe(before);
  // One new LV on host-b, under the volume's own name: no temp LV left behind.
  expect(newLvs(onB, await volumeLvs(hostB))).toEqual([`cinder-b/volume-${id}`]);
  // The old LV is deleted once the swap is committed (in the background): wait for it.
  expect(await lvsOfVolumeSettled(hostA, id)).toEqual([]);
  const [m] = await migrationsOf(id);
  // Host to host: host-b read host-a's LV itself, with a key made for this copy only.
  expect(m).toMatchObject({ flow: "generic", state: "success", transport: "direct" });
  // ...and that key is gone from host-a's authorized_keys.
  expect(await sshOk(hostA, ["cat", "/root/.ssh/authorized_keys"])).not.toContain("vms-copy-");

  await cinder(svc.endpoint, ["delete", id], { project: "lab" });
});

test("a thin volume migrates host-a → host-b sparsely: same bytes, only the written data allocated", async () => {
  const id = await createVolume(svc, "lvm-a-thin", "thin-a-to-b");
  const src = devicePath("cinder-a2", `volume-${id}`);
  expect((await listLvs(hostA)).find((l) => l.name === `volume-${id}`)?.attr.startsWith("V")).toBe(true);
  // 16 MiB of random data in the middle; the rest reads zeros and is not allocated.
  await fillRandom(hostA, src, 16, 24);
  const before = await deviceSha256(hostA, src);
  const onB = await volumeLvs(hostB);

  const done = await migrate(id, "lab@lvm-b-thin#lvm-b-thin");
  expect(done["os-vol-mig-status-attr:migstat"]).toBe("success");
  expect(done["os-vol-host-attr:host"]).toBe("lab@lvm-b-thin#lvm-b-thin");
  expect(done["os-vol-mig-status-attr:name_id"]).toBe("None");

  const dest = (await listLvs(hostB)).find((l) => l.vg === "cinder-b2" && l.name === `volume-${id}`);
  expect(dest?.attr.startsWith("V")).toBe(true);
  // 16 of 64 MiB written: the zeros were skipped (conv=sparse on a thin target), not stored.
  expect(dest?.dataPercent).toBeLessThan(40);
  expect(await deviceSha256(hostB, devicePath("cinder-b2", `volume-${id}`))).toBe(before);
  expect(newLvs(onB, await volumeLvs(hostB))).toEqual([`cinder-b2/volume-${id}`]);
  expect(await lvsOfVolumeSettled(hostA, id)).toEqual([]);

  await cinder(svc.endpoint, ["delete", id], { project: "lab" });
});

test("a native migration between two VGs of host-a moves the LV on the host and reports the new host", async () => {
  // A type that asks for nothing, so either VG of host-a may hold it and the other can take it.
  const id = await createVolume(svc, { zone: "host-a" }, "native-a");
  const from = (await show(svc, id))["os-vol-host-attr:host"]!.split("@")[1]!.split("#")[0]!;
  const to = from === "lvm-a" ? "lvm-a-thin" : "lvm-a";
  const vg = (b: string): string => (b === "lvm-a" ? "cinder-a" : "cinder-a2");
  const src = devicePath(vg(from), `volume-${id}`);
  await fillRandom(hostA, src);
  const before = await deviceSha256(hostA, src);

  const done = await migrate(id, `lab@${to}#${to}`);
  expect(done["os-vol-mig-status-attr:migstat"]).toBe("success");
  expect(done["os-vol-host-attr:host"]).toBe(`lab@${to}#${to}`);
  // Reference §4.4: the LV keeps its name in the new VG; no temp volume, no name_id.
  expect(done["os-vol-mig-status-attr:name_id"]).toBe("None");
  expect((await volumeLvs(hostA)).filter((l) => l.includes(id))).toEqual([`${vg(to)}/volume-${id}`]);
  expect(await deviceSha256(hostA, devicePath(vg(to), `volume-${id}`))).toBe(before);
  const [m] = await migrationsOf(id);
  expect(m).toMatchObject({ flow: "driver", state: "success" });

  // The volume works where it is now: it is deleted from the new VG.
  await cinder(svc.endpoint, ["delete", id], { project: "lab" });
  expect(await lvsOfVolumeSettled(hostA, id)).toEqual([]);
});
