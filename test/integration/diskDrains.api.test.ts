/**
 * The admin disk-drains resource (issue 16) off the lab: the API's refusals (403 for members,
 * 400 for bad input and for a drain the volume group has no room for, 409 for a second drain),
 * and the worker's loop on a model of LVM (diskDrains.fakeLvm.ts): pvmove started, progress
 * sampled, vgreduce when asked, cancel = pvmove --abort, and an interrupted move continued.
 */
import { parseConfig } from "../../common/config";
import { silentLogger } from "../../common/logger";
import type { DiskDrainRow } from "../../db/diskDrains";
import { CommandError, SshConnectError } from "../../drivers/exec/types";
import { DiskDrainWorker } from "../../services/diskDrain/worker";
import { waitFor } from "../helpers/stack";
import { addVolumeService, ADMIN, type Harness, MEMBER, send, startHarness } from "./api.harness";
import { FakeLvm } from "./diskDrains.fakeLvm";

let h: Harness;
let lvm: FakeLvm;
let worker: DiskDrainWorker;
const EP = "/v3/demo/disk-drains";
const MiB = 1024 * 1024;

function lvmBackend(host: string, driver: "lvm" | "rawfile") {
  const section =
    driver === "lvm"
      ? "volume_driver = lvm\nvolume_group = cinder-x"
      : "volume_driver = rawfile\nrawfile_directory = /tmp";
  return parseConfig(`[DEFAULT]\nhost = ${host}\nenabled_backends = b\n[b]\n${section}\n`, {}).backends[0]!;
}

beforeAll(async () => {
  h = await startHarness();
  await addVolumeService(h, "drain@b");
  await addVolumeService(h, "files@b");
  const files = new DiskDrainWorker({
    db: h.t.db,
    logger: silentLogger(),
    backend: lvmBackend("files", "rawfile"),
    runner: new FakeLvm([]),
  });
  await h.bus.serve("cinder-volume.files@b", files.handlers());
});
afterAll(async () => {
  await worker?.stop();
  await h.close();
});
beforeEach(async () => {
  await worker?.stop();
  await h.t.db("disk_drains").del();
  lvm = new FakeLvm([
    { name: "/dev/sdb", vg: "cinder-x", sizeMib: 1024, usedMib: 300 },
    { name: "/dev/sdc", vg: "cinder-x", sizeMib: 1024, usedMib: 100 },
    { name: "/dev/sdd", vg: "other", sizeMib: 1024, usedMib: 0 },
  ]);
  worker = new DiskDrainWorker({
    db: h.t.db,
    logger: silentLogger(),
    backend: lvmBackend("drain", "lvm"),
    runner: lvm,
  });
  await h.bus.serve("cinder-volume.drain@b", worker.handlers());
});

const create = (body: unknown, token = ADMIN) => send(h, "post", EP, body, { token });
const drain = (over: Record<string, unknown> = {}) => ({
  disk_drain: { backend: "drain@b", pv: "/dev/sdb", interval: 1, ...over },
});
const rows = async () => (await h.t.db("disk_drains")) as DiskDrainRow[];

async function statusOf(id: string): Promise<Record<string, unknown>> {
  return (await send(h, "get", `${EP}/${id}`).expect(200)).body.disk_drain as Record<string, unknown>;
}

describe("refusals change nothing", () => {
  test("a member gets 403 on every call", async () => {
    const r = await create(drain(), MEMBER).expect(403);
    expect(r.body.forbidden.message).toMatch(/disk_drains:create/);
    await send(h, "get", EP, undefined, { token: MEMBER }).expect(403);
    await send(h, "get", `${EP}/00000000-0000-4000-8000-000000000000`, undefined, { token: MEMBER }).expect(
      403,
    );
    expect(await rows()).toEqual([]);
  });

  test.each([
    ["no body", undefined, /disk_drain/],
    ["an unknown key", drain({ force: true }), /force/],
    ["a PV outside /dev", drain({ pv: "/etc/passwd" }), /pv/],
    ["a backend with a pool", drain({ backend: "drain@b#b" }), /backend/],
    ["interval 0", drain({ interval: 0 }), /interval/],
    ["an unknown backend", drain({ backend: "nowhere@b" }), /no volume service nowhere@b/],
    [
      "a PV of another VG",
      drain({ pv: "/dev/sdd" }),
      /\/dev\/sdd is not a physical volume of volume group cinder-x/,
    ],
    ["a path climbing out of /dev", drain({ pv: "/dev/x/../../etc/passwd" }), /not a device path/],
    ["a backend that is not LVM", drain({ backend: "files@b" }), /not an LVM backend/],
  ])("400 for %s", async (_what, body, message) => {
    const r = await create(body).expect(400);
    expect(r.body.badRequest.code).toBe(400);
    expect(r.body.badRequest.message).toMatch(message);
    expect(await rows()).toEqual([]);
    expect(lvm.changes()).toEqual([]);
  });

  test("400 with LVM's figures when the rest of the group lacks room", async () => {
    lvm.pvs[1]!.usedMib = 900;
    const r = await create(drain()).expect(400);
    expect(r.body.badRequest.message).toBe(
      "Invalid input received: cannot drain /dev/sdb of drain@b: not enough room in volume group cinder-x: " +
        "/dev/sdb holds 300 MiB, the other physical volumes (/dev/sdc) have 124 MiB free",
    );
    expect(await rows()).toEqual([]);
    expect(lvm.changes()).toEqual([]);
  });

  test("400 for the only PV of its group; 409 for a second drain of one backend", async () => {
    lvm.pvs = lvm.pvs.filter((p) => p.name !== "/dev/sdc");
    expect((await create(drain()).expect(400)).body.badRequest.message).toMatch(
      /only physical volume of volume group cinder-x/,
    );
    lvm.pvs.push({ name: "/dev/sdc", vg: "cinder-x", sizeMib: 1024, usedMib: 0 });
    await create(drain()).expect(202);
    const again = await create(drain({ pv: "/dev/sdc" })).expect(409);
    expect(again.body.conflictingRequest.message).toMatch(/draining a disk already/);
    expect(await rows()).toHaveLength(1);
  });
});

describe("the worker's loop", () => {
  test("pvmove in the background, progress with a rate, then vgreduce", async () => {
    const r = await create(drain({ remove_from_group: true })).expect(202);
    const d = r.body.disk_drain as Record<string, unknown>;
    expect(d).toMatchObject({
      backend: "drain@b",
      pv: "/dev/sdb",
      volume_group: "cinder-x",
      status: "pending",
    });
    expect(d["progress"]).toMatchObject({ percent: 0, bytes_total: 300 * MiB, bytes_moved: 0 });
    const id = d["id"] as string;
    await waitFor(async () => (await statusOf(id))["status"] === "moving", "moving", 10_000, 100);
    lvm.advance(25);
    await waitFor(
      async () => ((await statusOf(id))["progress"] as { percent: number }).percent === 25,
      "25 %",
      10_000,
      100,
    );
    lvm.advance(50);
    const half = await waitFor(
      async () => {
        const s = await statusOf(id);
        const p = s["progress"] as { percent: number; rate_bps: number | null };
        return p.percent === 50 && p.rate_bps !== null ? p : undefined;
      },
      "50 % with a rate",
      10_000,
      100,
    );
    expect(half.rate_bps).toBeGreaterThan(0);
    lvm.advance(100);
    await waitFor(async () => (await statusOf(id))["status"] === "completed", "completed", 10_000, 100);
    expect((await statusOf(id))["progress"]).toMatchObject({
      percent: 100,
      bytes_moved: 300 * MiB,
      rate_bps: null,
    });
    expect(lvm.changes()).toEqual(["pvmove -b -i 1 /dev/sdb", "vgreduce cinder-x /dev/sdb"]);
    const metrics = (await send(h, "get", "/metrics", undefined, { token: null }).expect(200)).text;
    expect(metrics).toContain(
      `vms_disk_drain_percent{drain="${id}",backend="drain@b",pv="/dev/sdb",status="completed"} 100`,
    );
    expect(metrics).toContain(
      `vms_disk_drain_bytes_moved{drain="${id}",backend="drain@b",pv="/dev/sdb",status="completed"} ${300 * MiB}`,
    );
    const list = await send(h, "get", `${EP}?status=completed`).expect(200);
    expect(list.body.disk_drains.map((x: { id: string }) => x.id)).toEqual([id]);
  });

  test("cancel aborts pvmove; an ended drain cannot be cancelled", async () => {
    const id = (await create(drain()).expect(202)).body.disk_drain.id as string;
    await waitFor(async () => (await statusOf(id))["status"] === "moving", "moving", 10_000, 100);
    lvm.advance(40);
    await send(h, "post", `${EP}/${id}/action`, { "os-cancel": {} }).expect(202);
    await waitFor(async () => (await statusOf(id))["status"] === "cancelled", "cancelled", 10_000, 100);
    expect(lvm.changes()).toEqual(["pvmove -b -i 1 /dev/sdb", "pvmove --abort /dev/sdb"]);
    const again = await send(h, "post", `${EP}/${id}/action`, { "os-cancel": {} }).expect(409);
    expect(again.body.conflictingRequest.message).toMatch(/cancelled and cannot be cancelled/);
    await send(h, "post", `${EP}/${id}/action`, { "os-pause": {} }).expect(400);
  });

  test("an unreachable host, a reboot, a worker restart: the move is continued each time", async () => {
    const id = (await create(drain()).expect(202)).body.disk_drain.id as string;
    await waitFor(async () => (await statusOf(id))["status"] === "moving", "moving", 10_000, 100);
    lvm.advance(30);
    lvm.failing = new CommandError(["lvm"], null, "", "fake-host", {
      cause: new SshConnectError("down", "network"),
    });
    await new Promise((r) => setTimeout(r, 2500));
    expect((await statusOf(id))["status"]).toBe("moving");
    lvm.failing = null;
    await waitFor(
      async () => (await statusOf(id))["resumes"] === 1,
      "continued after the host answered",
      10_000,
      100,
    );
    await worker.stop();
    worker = new DiskDrainWorker({
      db: h.t.db,
      logger: silentLogger(),
      backend: lvmBackend("drain", "lvm"),
      runner: lvm,
    });
    await worker.start();
    await waitFor(
      async () => (await statusOf(id))["resumes"] === 2,
      "continued after a restart",
      10_000,
      100,
    );
    lvm.bootId = "boot-2";
    await waitFor(async () => (await statusOf(id))["resumes"] === 3, "continued after a reboot", 10_000, 100);
    lvm.advance(100);
    await waitFor(async () => (await statusOf(id))["status"] === "completed", "completed", 10_000, 100);
    // Started once, continued three times.
    expect(lvm.changes()).toEqual(Array(4).fill("pvmove -b -i 1 /dev/sdb"));
  });
});
