/**
 * Draining a disk live (issue 16 acceptance): host-a's VG cinder-a3 has two PVs. An LV of 32
 * segments on /dev/ubdd is written to and read back (O_DIRECT, every block checked) by a process
 * on host-a while the service drains /dev/ubdd through the disk-drains API: no read or write
 * error, progress up to 100 %, the PV removed from the group, the data equal to the writer's own
 * copy. Then the LV is drained back off /dev/ubde and host-a loses power mid-move: once it is
 * booted again the worker continues pvmove from its checkpoint and the drain completes with the
 * data unchanged.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

import { waitFor } from "../helpers/stack";
import { labHost, loadLab, sshOk } from "./lab";
import { type LabService, startLabService } from "./service";

const run = promisify(execFile);
const HOST_SH = path.join(__dirname, "bin/host.sh");
const lab = loadLab();
const hostA = labHost(lab, "host-a");
const VG = hostA.drainVg?.name ?? "cinder-a3";
const [PV1, PV2] = hostA.drainVg?.pvs ?? ["/dev/ubdd", "/dev/ubde"];
const LV = "drain-data";
const DEV = `/dev/${VG}/${LV}`;
// 16 segments keep the progress readings many and the crash mid-move, at half the lab time of 32.
const SEGMENTS = 16;
/** 2 extents (8 MiB) per segment: 128 MiB. */
const LV_MIB = SEGMENTS * 8;
const BLOCK_KIB = 64;
const MIRROR = "/root/drain-mirror.img";
let svc: LabService;
let crashed = false;

interface Drain {
  id: string;
  status: string;
  progress: { percent: number; bytes_total: number; bytes_moved: number; rate_bps: number | null };
  resumes: number;
  error: string | null;
}

/** The writer: random 64 KiB blocks written to the LV and to its mirror file, each read back. */
const WRITER = `
blocks=$((${LV_MIB} * 1024 / ${BLOCK_KIB})); n=0; errors=0
while [ ! -e /root/drain-stop ]; do
  b=$(( $(od -An -N4 -tu4 /dev/urandom) % blocks ))
  head -c ${BLOCK_KIB}K /dev/urandom >/root/drain-blk
  if ! dd if=/root/drain-blk of=${DEV} bs=${BLOCK_KIB}K seek=$b count=1 oflag=direct conv=notrunc status=none; then
    errors=$((errors + 1)); echo "write error at block $b"
  elif ! dd if=${DEV} bs=${BLOCK_KIB}K skip=$b count=1 iflag=direct status=none | cmp -s - /root/drain-blk; then
    errors=$((errors + 1)); echo "read-back mismatch at block $b"
  fi
  dd if=/root/drain-blk of=${MIRROR} bs=${BLOCK_KIB}K seek=$b count=1 conv=notrunc status=none
  n=$((n + 1))
done
echo "writes=$n errors=$errors" >/root/drain-writer.done
`;

async function api(
  method: string,
  urlPath: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${svc.endpoint}/lab${urlPath}`, {
    method,
    headers: { "content-type": "application/json", "x-auth-token": "admin:lab" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
}

async function drainOf(id: string): Promise<Drain> {
  return ((await api("GET", `/disk-drains/${id}`)).json as { disk_drain: Drain }).disk_drain;
}

async function startDrain(pv: string, options: Record<string, unknown>): Promise<Drain> {
  const r = await api("POST", "/disk-drains", { disk_drain: { backend: "lab@lvm-a3", pv, ...options } });
  expect(r.status).toBe(202);
  return (r.json as { disk_drain: Drain }).disk_drain;
}

/** Follows the drain until it ends; returns every percent seen and the last state. */
async function follow(id: string, timeoutMs: number, seen: number[] = []): Promise<Drain> {
  return waitFor(
    async () => {
      const d = await drainOf(id).catch(() => undefined);
      if (d) {
        seen.push(d.progress.percent);
      }
      return d && ["completed", "failed", "cancelled"].includes(d.status) ? d : undefined;
    },
    `disk drain ${id} ended`,
    timeoutMs,
    500,
  );
}

async function pvsOf(): Promise<Record<string, string>> {
  const out = await sshOk(hostA, ["pvs", "--noheadings", "-o", "pv_name,vg_name", PV1!, PV2!]);
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/) as [string, string]),
  );
}

async function lvDevices(): Promise<string> {
  return (await sshOk(hostA, ["lvs", "--noheadings", "-o", "devices", `${VG}/${LV}`])).trim();
}

async function sha(file: string): Promise<string> {
  return (await sshOk(hostA, `dd if=${file} bs=4M iflag=direct status=none | sha256sum`)).split(/\s+/)[0]!;
}

/**
 * The LV anew on PV, in many segments (2 extents with a 1-extent gap each): pvmove moves and
 * commits one segment per poll, so the move lasts long enough to watch and to crash. Its content
 * is a fresh random MIRROR file.
 */
async function segmentedLv(pv: string): Promise<void> {
  const ranges = Array.from({ length: SEGMENTS }, (_, i) => `${pv}:${i * 3}-${i * 3 + 1}`);
  await sshOk(hostA, `lvremove -qq -f ${VG}/${LV} 2>/dev/null; true`);
  await sshOk(hostA, ["lvcreate", "-qq", "-y", "-n", LV, "-l", String(SEGMENTS * 2), VG, ...ranges]);
  await sshOk(hostA, `dd if=/dev/urandom of=${MIRROR} bs=1M count=${LV_MIB} status=none`);
}

beforeAll(async () => {
  await sshOk(hostA, `lvremove -qq -f ${VG}/${LV} 2>/dev/null; vgextend -qq ${VG} ${PV1} 2>/dev/null; true`);
  await segmentedLv(PV1!);
  await sshOk(
    hostA,
    `rm -f /root/drain-stop /root/drain-writer.done && dd if=${MIRROR} of=${DEV} bs=4M oflag=direct status=none`,
  );
  svc = await startLabService(lab, "", [{ name: "lvm-a3", host: "host-a", vg: VG, lvmType: "default" }]);
}, 300_000);

afterAll(async () => {
  if (crashed) {
    await run("bash", [HOST_SH, "boot", "host-a"]).catch(() => undefined);
  }
  await svc?.stop();
  await sshOk(
    hostA,
    `touch /root/drain-stop; sleep 1; lvremove -qq -f ${VG}/${LV}; vgextend -qq ${VG} ${PV1} 2>/dev/null; true`,
  ).catch(() => undefined);
}, 300_000);

test("a PV under an LV in use drains live: no I/O error, data intact, 100 %, PV out of the group", async () => {
  await sshOk(
    hostA,
    `nohup setsid sh -c '${WRITER.replace(/'/g, "'\\''")}' >/root/drain-writer.log 2>&1 </dev/null &`,
  );
  await waitFor(
    async () => (await sshOk(hostA, "test -s /root/drain-blk && echo yes || true")).trim() === "yes",
    "the writer running",
    30_000,
    500,
  );
  const started = Date.now();
  const d = await startDrain(PV1!, { remove_from_group: true, interval: 1 });
  expect(d.progress.bytes_total).toBe(LV_MIB * 1024 * 1024);
  const seen: number[] = [];
  const end = await follow(d.id, 300_000, seen);
  const seconds = (Date.now() - started) / 1000;

  await sshOk(hostA, "touch /root/drain-stop");
  const writer = await waitFor(
    async () => (await sshOk(hostA, "cat /root/drain-writer.done 2>/dev/null || true")).trim() || undefined,
    "the writer stopped",
    30_000,
    500,
  );
  const log = await sshOk(hostA, "cat /root/drain-writer.log");
  console.log(
    `drain of ${LV_MIB} MiB in ${SEGMENTS} segments: ${seconds.toFixed(1)} s; percents seen ${[...new Set(seen)].join(", ")}; writer ${writer}`,
  );

  expect(end).toMatchObject({ status: "completed", error: null });
  expect(end.progress.percent).toBe(100);
  expect(seen.some((p) => p > 0 && p < 100)).toBe(true);
  expect(writer).toMatch(/^writes=[1-9][0-9]* errors=0$/);
  expect(log).toBe("");
  expect(await lvDevices()).not.toContain(PV1);
  expect((await pvsOf())[PV1!]).toBeUndefined();
  expect(await sha(DEV)).toBe(await sha(MIRROR));
}, 600_000);

test("host-a loses power mid-drain; booted again, the move continues from its checkpoint and completes", async () => {
  if ((await pvsOf())[PV1!] !== VG) {
    await sshOk(hostA, ["vgextend", "-qq", VG, PV1!]);
  }
  // pvmove left the LV in one piece on PV2: make it many segments again, there.
  await segmentedLv(PV2!);
  await sshOk(hostA, `dd if=${MIRROR} of=${DEV} bs=4M oflag=direct status=none`);
  const before = await sha(DEV);
  const d = await startDrain(PV2!, { interval: 2 });
  await waitFor(async () => (await drainOf(d.id)).progress.percent >= 20, "20 % moved", 300_000, 500);
  const atCrash = (await drainOf(d.id)).progress.percent;
  await run("bash", [HOST_SH, "crash", "host-a"]);
  crashed = true;
  await new Promise((r) => setTimeout(r, 5000));
  expect((await drainOf(d.id)).status).toBe("moving");
  const booted = Date.now();
  await run("bash", [HOST_SH, "boot", "host-a"]);
  crashed = false;
  const end = await follow(d.id, 400_000);
  console.log(
    `crash at ${atCrash} %; after the boot the drain completed in ${((Date.now() - booted) / 1000).toFixed(1)} s, resumes ${end.resumes}`,
  );
  expect(end).toMatchObject({ status: "completed", error: null });
  expect(end.progress.percent).toBe(100);
  expect(end.resumes).toBeGreaterThanOrEqual(1);
  expect(await lvDevices()).not.toContain(PV2);
  expect((await pvsOf())[PV2!]).toBe(VG);
  expect(await sha(DEV)).toBe(before);
}, 900_000);
