/**
 * The faults the lab tier injects into a storage host (issue 14, "Faults"), each with its undo:
 * a destination VG filled up by a filler LV, a range of a source LV that answers EIO through a
 * device-mapper `error` segment, and a cut of the lab bridge between the storage hosts. Every
 * command is an argv; the one piped command passes its table lines as positional arguments.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

import { type LabHost, sshOk } from "./lab";

const run = promisify(execFile);

/** The device-mapper name of vg/lv: LVM doubles each `-` inside a part and joins them with `-`. */
export function dmName(vg: string, lv: string): string {
  return `${vg.replace(/-/g, "--")}-${lv.replace(/-/g, "--")}`;
}

/** How many processes hold vg/lv open (0: nothing reads or writes it any more). */
export async function openCount(host: LabHost, vg: string, lv: string): Promise<number> {
  const out = await sshOk(host, ["dmsetup", "info", "-c", "--noheadings", "-o", "open", dmName(vg, lv)]);
  return Number(out.trim());
}

/** Free extents of VG on HOST (4 MiB each on the lab's VGs). */
export async function freeExtents(host: LabHost, vg: string): Promise<number> {
  const out = await sshOk(host, ["vgs", "--noheadings", "-o", "vg_free_count", vg]);
  return Number(out.trim());
}

/**
 * Fills VG with an LV named NAME until only `leaveExtents` extents are free; resolves with the
 * undo (lvremove). -Wn -Zn: nothing is written into the filler, so it costs no I/O.
 */
export async function fillVg(
  host: LabHost,
  vg: string,
  name: string,
  leaveExtents: number,
): Promise<() => Promise<void>> {
  const extents = (await freeExtents(host, vg)) - leaveExtents;
  await sshOk(host, ["lvcreate", "-y", "-Wn", "-Zn", "-n", name, "-l", String(extents), vg]);
  return async () => {
    await sshOk(host, ["lvremove", "-f", `${vg}/${name}`]);
  };
}

/**
 * Swaps in TABLE as the live table of dm device NAME (load, then suspend and resume, which is
 * what makes an inactive table live). --noudevsync: the lab's guests run without udev, and
 * dmsetup would otherwise wait for udev's acknowledgement of the resume forever.
 */
async function loadTable(host: LabHost, name: string, table: readonly string[]): Promise<void> {
  // One line per positional argument: the script itself is fixed, nothing is spliced into it.
  const load = 'printf "%s\\n" "${@:2}" | dmsetup --noudevsync load "$1"';
  await sshOk(host, ["bash", "-c", load, "load-table", name, ...table]);
  await sshOk(host, ["dmsetup", "--noudevsync", "suspend", name]);
  await sshOk(host, ["dmsetup", "--noudevsync", "resume", name]);
}

/**
 * Makes sectors [start, start + count) of the linear LV vg/lv return EIO, the rest unchanged;
 * resolves with the undo (the original table back). LVM's metadata is not touched: only the
 * kernel's mapping changes, as when a disk under a PV develops bad sectors.
 */
export async function injectReadError(
  host: LabHost,
  vg: string,
  lv: string,
  start: number,
  count: number,
): Promise<() => Promise<void>> {
  const name = dmName(vg, lv);
  const table = (await sshOk(host, ["dmsetup", "table", name])).trim().split("\n");
  // A fresh thick LV in a VG of one PV is one linear segment: "0 LEN linear DEV OFFSET".
  const m = table.length === 1 ? /^0 (\d+) linear (\S+) (\d+)$/.exec(table[0]!.trim()) : null;
  if (!m || start + count > Number(m[1])) {
    throw new Error(`${host.name}: ${name} is not one linear segment holding the range: ${table.join("; ")}`);
  }
  const [len, dev, offset] = [Number(m[1]), m[2]!, Number(m[3])];
  const end = start + count;
  await loadTable(host, name, [
    `0 ${start} linear ${dev} ${offset}`,
    `${start} ${count} error`,
    `${end} ${len - end} linear ${dev} ${offset + end}`,
  ]);
  return () => loadTable(host, name, table);
}

/** The bridge's ports (the storage hosts' taps), seen from inside the lab's namespace. */
async function bridgePorts(bridge: string): Promise<string[]> {
  const { stdout } = await run("bridge", ["-j", "link", "show", "master", bridge]);
  return (JSON.parse(stdout) as { ifname: string }[]).map((p) => p.ifname);
}

/**
 * Cuts the network between the storage hosts and nobody else: every tap of the lab bridge becomes
 * an isolated port, which forwards no frame to another isolated port while the bridge's own
 * address (where the service and the tests are) still reaches each host. Resolves with the undo.
 * Needs the test to run in the lab's namespace as root (npm run test:lab).
 */
export async function cutBetweenHosts(bridge: string): Promise<() => Promise<void>> {
  const ports = await bridgePorts(bridge);
  const set = (on: boolean): Promise<unknown> =>
    Promise.all(ports.map((p) => run("bridge", ["link", "set", "dev", p, "isolated", on ? "on" : "off"])));
  await set(true);
  return async () => {
    await set(false);
  };
}
