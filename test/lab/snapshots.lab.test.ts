/**
 * Issue 16's acceptance on real LVM2 ([DEFAULT] migrate_volumes_with_snapshots = true): a thin
 * volume with three snapshots and a thick one with one snapshot migrate host-a → host-b with the
 * unmodified `cinder` client. On host-b every snapshot holds the source snapshot's bytes (sha256
 * on the hosts), a volume created from a moved snapshot holds them too, the source's LVs are gone,
 * and the thin pool grew by about what was written, not by four full copies: the chain was rebuilt
 * by writing only the chunks that changed between snapshots, so the snapshots share the rest.
 */
import { cinder, parseTable } from "../helpers/cli";
import { waitFor } from "../helpers/stack";
import { type LabHost, labHost, loadLab } from "./lab";
import {
  createVolume,
  devicePath,
  deviceSha256,
  fillRandom,
  type LabService,
  listLvs,
  migrationSettled,
  show,
  startLabService,
  UNIT_BYTES,
} from "./service";

const lab = loadLab();
const hostA = labHost(lab, "host-a");
const hostB = labHost(lab, "host-b");
let svc: LabService;

beforeAll(async () => {
  // The service process inherits this (startProcess passes the environment on).
  process.env["VMS__DEFAULT__MIGRATE_VOLUMES_WITH_SNAPSHOTS"] = "true";
  svc = await startLabService(lab);
}, 240_000);

afterAll(async () => {
  await svc?.stop();
  delete process.env["VMS__DEFAULT__MIGRATE_VOLUMES_WITH_SNAPSHOTS"];
});

async function ok(args: string[]): Promise<Record<string, string>> {
  const r = await cinder(svc.endpoint, args, { project: "lab" });
  if (r.code !== 0 || r.stdout.includes("failed")) {
    throw new Error(`cinder ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  }
  return parseTable(r.stdout);
}

async function snapshot(volumeId: string, name: string): Promise<string> {
  const id = (await ok(["snapshot-create", "--name", name, volumeId]))["id"]!;
  await waitFor(
    async () => {
      const s = await ok(["snapshot-show", id]);
      if (s["status"] === "error") {
        throw new Error(`snapshot ${id} went to error`);
      }
      return s["status"] === "available" ? true : undefined;
    },
    `snapshot ${id} available`,
    60_000,
    500,
  );
  return id;
}

/** Bytes the thin pool of VG holds (data_percent of its size); 0 before the pool is made. */
async function poolUsed(host: LabHost, vg: string): Promise<number> {
  const pool = (await listLvs(host)).find((l) => l.vg === vg && l.attr.startsWith("t"));
  if (!pool || pool.dataPercent === null) {
    return 0;
  }
  return Math.round((pool.sizeBytes * pool.dataPercent) / 100);
}

/** `_snapshot-*` LVs of VG on HOST (the LVM driver escapes the reserved `snapshot` prefix). */
async function snapshotLvs(host: LabHost, vg: string): Promise<string[]> {
  return (await listLvs(host))
    .filter((l) => l.vg === vg && l.name.startsWith("_snapshot-"))
    .map((l) => l.name);
}

/** The LVs of VG on HOST whose name contains one of IDS, after waiting up to 30 s for them to go. */
async function leftovers(host: LabHost, vg: string, ids: string[]): Promise<string[]> {
  const mine = async (): Promise<string[]> =>
    (await listLvs(host))
      .filter((l) => l.vg === vg && ids.some((id) => l.name.includes(id)))
      .map((l) => l.name);
  for (let i = 0; i < 60 && (await mine()).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 500));
  }
  return mine();
}

async function migrate(id: string, dest: string): Promise<Record<string, string>> {
  await ok(["migrate", id, dest]);
  const done = await migrationSettled(svc, id, 600_000);
  expect(done["os-vol-mig-status-attr:migstat"]).toBe("success");
  expect(done["os-vol-host-attr:host"]).toBe(dest);
  return done;
}

/** A volume from SNAP on its (moved) backend; the sha256 of its LV on that host. */
async function fromSnapshotSha(snap: string, host: LabHost, vg: string): Promise<string> {
  const id = (
    await ok([
      "create",
      "--snapshot-id",
      snap,
      "--availability-zone",
      host.name,
      "--name",
      `from-${snap.slice(0, 8)}`,
      "1",
    ])
  )["id"]!;
  const v = await waitFor(
    async () => {
      const s = await show(svc, id);
      return s["status"] === "available" || s["status"] === "error" ? s : undefined;
    },
    `volume ${id} from snapshot`,
    120_000,
    500,
  );
  expect(v["status"]).toBe("available");
  const sum = await deviceSha256(host, devicePath(vg, `volume-${id}`));
  await ok(["delete", id]);
  return sum;
}

/** Snapshots first, then the volume (best effort: the test's result is already decided). */
async function cleanUp(volumeId: string, snaps: string[]): Promise<void> {
  for (const s of snaps) {
    await cinder(svc.endpoint, ["snapshot-delete", s], { project: "lab" });
  }
  await waitFor(
    async () => {
      const r = await cinder(svc.endpoint, ["delete", volumeId], { project: "lab" });
      return r.code === 0 ? true : undefined;
    },
    `volume ${volumeId} deleted`,
    60_000,
    1000,
  ).catch(() => undefined);
}

test("a thin volume with three snapshots moves to host-b; snapshots equal, the pool well below four copies", async () => {
  const id = await createVolume(svc, "lvm-a-thin", "thin-chain");
  const dev = devicePath("cinder-a2", `volume-${id}`);
  const snaps: string[] = [];
  const sums = new Map<string, string>();
  // 16 MiB of data, then 4 MiB more before each later state: 28 of 64 MiB written in all.
  await fillRandom(hostA, dev, 16, 0);
  for (const [i, seek] of [20, 40, 56].entries()) {
    const s = await snapshot(id, `thin-${i}`);
    snaps.push(s);
    sums.set(s, await deviceSha256(hostA, devicePath("cinder-a2", `_snapshot-${s}`)));
    await fillRandom(hostA, dev, 4, seek);
  }
  const latest = await deviceSha256(hostA, dev);
  expect(new Set([...sums.values(), latest]).size).toBe(4);
  const snapsBefore = await snapshotLvs(hostB, "cinder-b2");
  const usedBefore = await poolUsed(hostB, "cinder-b2");

  const done = await migrate(id, "lab@lvm-b-thin#lvm-b-thin");
  expect(await deviceSha256(hostB, devicePath("cinder-b2", `volume-${id}`))).toBe(latest);
  // Three new snapshot LVs on host-b, named after their name ids, holding the three states.
  const made = (await snapshotLvs(hostB, "cinder-b2")).filter((l) => !snapsBefore.includes(l));
  expect(made).toHaveLength(3);
  const madeSums = await Promise.all(made.map((l) => deviceSha256(hostB, devicePath("cinder-b2", l))));
  expect(new Set(madeSums)).toEqual(new Set(sums.values()));
  const grew = (await poolUsed(hostB, "cinder-b2")) - usedBefore;
  console.log(
    `thin chain: destination pool grew ${(grew / 2 ** 20).toFixed(1)} MiB for a 64 MiB volume with 3 snapshots ` +
      `(4 full copies: ${(4 * UNIT_BYTES) / 2 ** 20} MiB; written data: 28 MiB); name_id ${done["os-vol-mig-status-attr:name_id"]}`,
  );
  expect(grew).toBeLessThan(1.5 * UNIT_BYTES);
  // Nothing of the source on host-a: the volume's LV and the three snapshots' LVs are gone.
  expect(await leftovers(hostA, "cinder-a2", [id, ...snaps])).toEqual([]);
  // The moved snapshots serve: show, create a volume from the oldest, take a new one.
  expect(await ok(["snapshot-show", snaps[0]!])).toMatchObject({ status: "available", volume_id: id });
  expect(await fromSnapshotSha(snaps[0]!, hostB, "cinder-b2")).toBe(sums.get(snaps[0]!));
  snaps.push(await snapshot(id, "thin-after"));

  await cleanUp(id, snaps);
}, 900_000);

test("a thick volume with one snapshot moves to host-b; the snapshot and the volume equal the source's", async () => {
  const id = await createVolume(svc, "lvm-a", "thick-chain");
  const dev = devicePath("cinder-a", `volume-${id}`);
  await fillRandom(hostA, dev);
  const snap = await snapshot(id, "thick-0");
  const snapSum = await deviceSha256(hostA, devicePath("cinder-a", `_snapshot-${snap}`));
  await fillRandom(hostA, dev, 8, 8);
  const latest = await deviceSha256(hostA, dev);
  expect(latest).not.toBe(snapSum);
  const snapsBefore = await snapshotLvs(hostB, "cinder-b");

  await migrate(id, "lab@lvm-b#lvm-b");
  expect(await deviceSha256(hostB, devicePath("cinder-b", `volume-${id}`))).toBe(latest);
  const made = (await snapshotLvs(hostB, "cinder-b")).filter((l) => !snapsBefore.includes(l));
  expect(made).toHaveLength(1);
  expect(await deviceSha256(hostB, devicePath("cinder-b", made[0]!))).toBe(snapSum);
  expect(await leftovers(hostA, "cinder-a", [id, snap])).toEqual([]);
  expect(await fromSnapshotSha(snap, hostB, "cinder-b")).toBe(snapSum);

  await cleanUp(id, [snap]);
}, 900_000);
