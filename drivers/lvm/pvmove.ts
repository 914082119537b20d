/**
 * Draining one physical volume of a backend's volume group with `pvmove` (issue 16): the room
 * check, the move, its progress, abort, resume and the final `vgreduce`. Every command is an argv
 * through the backend's runner. The move runs in the background on the storage host (`pvmove -b`):
 * LVM's own poller copies segment after segment and commits each to the VG metadata, so the move
 * does not depend on this process or its SSH connection, and a host that crashed continues from
 * its last committed segment when `pvmove` runs again.
 */
import { DriverError } from "../../common/errors";
import type { CommandRunner } from "../exec/types";
import { checkVgName } from "./names";
import { lvm, REPORT } from "./report";

/** A device path of a PV as `pvs` names it: /dev/… of safe characters only. */
const PV_PATH = /^\/dev\/[A-Za-z0-9][A-Za-z0-9._+:/-]{0,126}$/;

export function checkPvPath(pv: string): string {
  if (!PV_PATH.test(pv) || pv.includes("/../") || pv.endsWith("/..")) {
    throw new PvDrainRefused(`${JSON.stringify(pv)} is not a device path of a physical volume`);
  }
  return pv;
}

/** The drain cannot start: the reason is for the admin (it names only LVM objects and sizes). */
export class PvDrainRefused extends DriverError {}

export interface PvInfo {
  name: string;
  vg: string;
  sizeBytes: number;
  freeBytes: number;
  usedBytes: number;
  allocatable: boolean;
}

/** What a drain of `pv` would move, and where it could go. */
export interface DrainRoom {
  vg: string;
  pv: string;
  usedBytes: number;
  /** Free bytes on the VG's other allocatable PVs. */
  freeElsewhereBytes: number;
}

/** A move in progress (a `pvmove` LV of the VG whose source is the PV). */
export interface MoveState {
  /** copy_percent of the pvmove LV: the share of its extents already copied, 0–100. */
  percent: number | null;
}

export interface PvSample {
  /** The move in progress off the PV, or null when there is none. */
  move: MoveState | null;
  /** Bytes still allocated on the PV. */
  usedBytes: number;
  /** Whether the PV is still a member of the VG. */
  inGroup: boolean;
  /** The host's boot id: a new one means the host rebooted (and pvmove's poller with it). */
  bootId: string;
}

interface Report {
  report?: Record<string, Record<string, string>[]>[];
}

function rows(stdout: string, key: string): Record<string, string>[] {
  try {
    return ((JSON.parse(stdout) as Report).report ?? []).flatMap((r) => r[key] ?? []);
  } catch (e) {
    throw new DriverError(`Unreadable LVM report: ${stdout.slice(0, 200)}`, { cause: e });
  }
}

function num(v: string | undefined): number {
  const n = Number(v);
  return v === undefined || v === "" || !Number.isFinite(n) ? 0 : n;
}

const PVS_FIELDS = "pv_name,vg_name,pv_size,pv_free,pv_used,pv_attr";
const MOVE_FIELDS = "lv_name,lv_attr,copy_percent,move_pv";

function mib(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)} MiB`;
}

export class PvMover {
  constructor(
    private readonly runner: CommandRunner,
    readonly vg: string,
  ) {
    checkVgName(vg);
  }

  private run(argv: string[], timeoutMs = 120_000): Promise<{ stdout: string }> {
    return this.runner.run(argv, { timeoutMs });
  }

  async pvs(): Promise<PvInfo[]> {
    const out = await this.run(lvm("pvs", ...REPORT, "-o", PVS_FIELDS));
    return rows(out.stdout, "pv").map((r) => ({
      name: r["pv_name"] ?? "",
      vg: r["vg_name"] ?? "",
      sizeBytes: num(r["pv_size"]),
      freeBytes: num(r["pv_free"]),
      usedBytes: num(r["pv_used"]),
      allocatable: (r["pv_attr"] ?? "").startsWith("a"),
    }));
  }

  /** The moves in progress in the VG, by source PV (`lvs -a`: the hidden pvmove LVs). */
  async moves(): Promise<Map<string, MoveState>> {
    const out = await this.run(lvm("lvs", "-a", ...REPORT, "-o", MOVE_FIELDS, this.vg));
    const moves = new Map<string, MoveState>();
    for (const r of rows(out.stdout, "lv")) {
      if ((r["lv_attr"] ?? "").startsWith("p") && r["move_pv"]) {
        const pct = r["copy_percent"];
        moves.set(r["move_pv"], { percent: pct === undefined || pct === "" ? null : Number(pct) });
      }
    }
    return moves;
  }

  /**
   * Whether `pv` can be drained now; throws PvDrainRefused with the reason otherwise: not a PV of
   * this VG, the VG's only PV, or more allocated on it than the other allocatable PVs have free.
   */
  async room(pv: string): Promise<DrainRoom> {
    checkPvPath(pv);
    const all = await this.pvs();
    const mine = all.find((p) => p.name === pv);
    if (!mine || mine.vg !== this.vg) {
      throw new PvDrainRefused(`${pv} is not a physical volume of volume group ${this.vg}`);
    }
    const others = all.filter((p) => p.vg === this.vg && p.name !== pv);
    if (others.length === 0) {
      throw new PvDrainRefused(`${pv} is the only physical volume of volume group ${this.vg}`);
    }
    const free = others.filter((p) => p.allocatable).reduce((n, p) => n + p.freeBytes, 0);
    if (mine.usedBytes > free) {
      throw new PvDrainRefused(
        `not enough room in volume group ${this.vg}: ${pv} holds ${mib(mine.usedBytes)}, ` +
          `the other physical volumes (${others.map((p) => p.name).join(", ")}) have ${mib(free)} free`,
      );
    }
    return { vg: this.vg, pv, usedBytes: mine.usedBytes, freeElsewhereBytes: free };
  }

  /** Where the drain of `pv` stands. */
  async sample(pv: string): Promise<PvSample> {
    checkPvPath(pv);
    const bootId = (await this.run(["cat", "/proc/sys/kernel/random/boot_id"])).stdout.trim();
    // In this order: once the pvmove LV is gone, the PV report read after it shows the end state.
    const moves = await this.moves();
    const pvs = await this.pvs();
    const mine = pvs.find((p) => p.name === pv);
    return {
      move: moves.get(pv) ?? null,
      usedBytes: mine?.usedBytes ?? 0,
      inGroup: mine?.vg === this.vg,
      bootId,
    };
  }

  /**
   * Starts moving every extent off `pv` onto the VG's other PVs, in the background on the host;
   * LVM's poller reports every `intervalSecs`. Also what continues an interrupted move: `pvmove`
   * on a PV with a move in progress takes it up from its last committed segment.
   */
  async start(pv: string, intervalSecs: number): Promise<void> {
    checkPvPath(pv);
    await this.run(lvm("pvmove", "-b", "-i", String(intervalSecs), pv));
  }

  /** Continues interrupted moves of the VG (`pvmove` with no PV: every unfinished move). */
  async resume(intervalSecs: number): Promise<void> {
    await this.run(lvm("pvmove", "-b", "-i", String(intervalSecs)));
  }

  /** Stops the move off `pv`: segments already moved stay where they now are. */
  async abort(pv: string): Promise<void> {
    checkPvPath(pv);
    await this.run(lvm("pvmove", "--abort", pv));
  }

  /** Removes the emptied `pv` from the VG (it stays a PV, of no group). */
  async reduce(pv: string): Promise<void> {
    checkPvPath(pv);
    await this.run(lvm("vgreduce", this.vg, pv));
  }
}
