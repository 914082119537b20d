/**
 * LVM and data chores on a lab storage host, over one warm SSH connection (the project's runner).
 * Only LVs named `bench-*` are ever created or removed.
 */
import type { CommandRunner } from "../drivers/exec";
import { LONG_MS } from "./measure";

const NAME = /^bench-[a-z0-9-]+$/;

export class Guest {
  constructor(
    readonly runner: CommandRunner,
    private readonly signal: AbortSignal,
  ) {}

  private async run(argv: string[]): Promise<string> {
    const { stdout } = await this.runner.run(argv, { signal: this.signal, timeoutMs: LONG_MS });
    return stdout;
  }

  private lvm(...args: string[]): Promise<string> {
    return this.run(["env", "LC_ALL=C", "lvm", ...args]);
  }

  async vgFreeBytes(vg: string): Promise<number> {
    const out = await this.lvm(
      "vgs",
      "--reportformat",
      "json",
      "--units",
      "b",
      "--nosuffix",
      "-o",
      "vg_free",
      vg,
    );
    const report = JSON.parse(out) as { report: { vg: { vg_free: string }[] }[] };
    return Number(report.report[0]?.vg[0]?.vg_free ?? 0);
  }

  static device(vg: string, lv: string): string {
    return `/dev/${vg}/${lv}`;
  }

  async createLv(vg: string, lv: string, mib: number): Promise<string> {
    checkName(lv);
    await this.lvm("lvcreate", "-q", "-y", "-W", "n", "-Z", "n", "-L", `${mib}m`, "-n", lv, vg);
    return Guest.device(vg, lv);
  }

  async createThinPool(vg: string, pool: string, mib: number): Promise<void> {
    checkName(pool);
    await this.lvm("lvcreate", "-q", "-y", "--type", "thin-pool", "-L", `${mib}m`, "-n", pool, vg);
  }

  async createThin(vg: string, pool: string, lv: string, mib: number): Promise<string> {
    checkName(lv);
    await this.lvm(
      "lvcreate",
      "-q",
      "-y",
      "--type",
      "thin",
      "-V",
      `${mib}m`,
      "--thinpool",
      pool,
      "-n",
      lv,
      vg,
    );
    return Guest.device(vg, lv);
  }

  /** Removes VG/LV if it exists (a leftover of an interrupted run, or this run's own). */
  async removeLv(vg: string, lv: string): Promise<void> {
    checkName(lv);
    const out = await this.lvm("lvs", "--reportformat", "json", "-o", "lv_name", vg);
    const report = JSON.parse(out) as { report: { lv: { lv_name: string }[] }[] };
    if (report.report[0]?.lv.some((l) => l.lv_name === lv)) {
      await this.lvm("lvremove", "-q", "-y", `${vg}/${lv}`);
    }
  }

  /** Percentage of a thin LV's size that its pool has allocated. */
  async dataPercent(vg: string, lv: string): Promise<number> {
    const out = await this.lvm("lvs", "--reportformat", "json", "-o", "data_percent", `${vg}/${lv}`);
    const report = JSON.parse(out) as { report: { lv: { data_percent: string }[] }[] };
    return Number(report.report[0]?.lv[0]?.data_percent ?? NaN);
  }

  /** Empties the guest's page cache, so no run reads what the previous one left there. */
  async dropCaches(): Promise<void> {
    await this.run(["bash", "-c", "sync && echo 3 > /proc/sys/vm/drop_caches"]);
  }

  async fill(dev: string, mib: number, from: "/dev/urandom" | "/dev/zero"): Promise<void> {
    await this.run([
      "dd",
      `if=${from}`,
      `of=${dev}`,
      "bs=4M",
      `count=${mib / 4}`,
      "iflag=fullblock",
      "oflag=direct",
      "status=none",
    ]);
  }

  /** Writes random data to the 1 MiB blocks at OFFSETS (MiB) of DEV, nothing else. */
  async scatter(dev: string, offsetsMib: readonly number[]): Promise<void> {
    const script = `dev=$1; shift
for o in "$@"; do dd if=/dev/urandom of="$dev" bs=1M seek="$o" count=1 oflag=direct conv=notrunc status=none || exit; done`;
    await this.run(["bash", "-c", script, "scatter", dev, ...offsetsMib.map(String)]);
  }
}

function checkName(lv: string): void {
  if (!NAME.test(lv)) {
    throw new Error(`the bench only touches LVs named bench-*, not ${JSON.stringify(lv)}`);
  }
}
