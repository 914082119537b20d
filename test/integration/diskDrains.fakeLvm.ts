/**
 * A storage host's LVM as the disk-drain code sees it, for off-lab tests: `pvs` and `lvs -a`
 * reports from a small model of one volume group, and `pvmove`, `pvmove --abort` and `vgreduce`
 * acting on that model. Every argv is recorded.
 */
import type { CommandResult, CommandRunner, RunningCommand } from "../../drivers/exec/types";

const MiB = 1024 * 1024;

export interface FakePv {
  name: string;
  vg: string;
  sizeMib: number;
  usedMib: number;
}

export class FakeLvm implements CommandRunner {
  readonly where = "fake-host";
  readonly calls: string[][] = [];
  /** The move in progress: its source PV and copy_percent. */
  move: { pv: string; percent: number } | null = null;
  /** Commands that fail while set (as an unreachable host would). */
  failing: Error | null = null;
  /** /proc/sys/kernel/random/boot_id: change it to model a reboot. */
  bootId = "boot-1";

  constructor(public pvs: FakePv[]) {}

  async run(argv: readonly string[]): Promise<CommandResult> {
    this.calls.push([...argv]);
    if (this.failing) {
      throw this.failing;
    }
    const ok = (stdout = ""): CommandResult => ({ stdout, stderr: "", exitCode: 0 });
    if (argv[0] === "cat" && argv[1] === "/proc/sys/kernel/random/boot_id") {
      return ok(`${this.bootId}\n`);
    }
    const [sub, ...args] = argv.slice(argv.indexOf("lvm") + 1);
    switch (sub) {
      case "pvs":
        return ok(JSON.stringify({ report: [{ pv: this.pvs.map(pvRow) }] }));
      case "lvs":
        return ok(JSON.stringify({ report: [{ lv: this.lvRows() }] }));
      case "pvmove":
        if (args.includes("--abort")) {
          this.move = null;
        } else if (!this.move) {
          this.move = { pv: args[args.length - 1]!, percent: 0 };
        }
        return ok();
      case "vgreduce":
        this.pvs = this.pvs.map((p) => (p.name === args[1] ? { ...p, vg: "" } : p));
        return ok();
      default:
        throw new Error(`FakeLvm: unexpected ${argv.join(" ")}`);
    }
  }

  /** Advances the move; at 100 its extents are on the other PVs and the pvmove LV is gone. */
  advance(percent: number): void {
    if (!this.move) {
      return;
    }
    this.move.percent = percent;
    if (percent >= 100) {
      const src = this.pvs.find((p) => p.name === this.move!.pv)!;
      const dst = this.pvs.find((p) => p.vg === src.vg && p.name !== src.name)!;
      dst.usedMib += src.usedMib;
      src.usedMib = 0;
      this.move = null;
    }
  }

  /** The argv of the LVM commands that changed something (reports left out). */
  changes(): string[] {
    return this.calls
      .map((a) => a.slice(a.indexOf("lvm") + 1))
      .filter((a) => a[0] !== "pvs" && a[0] !== "lvs" && a[0] !== "cat")
      .map((a) => a.join(" "));
  }

  private lvRows(): Record<string, string>[] {
    const volume = { lv_name: "volume-1", lv_attr: "-wi-ao----", copy_percent: "", move_pv: "" };
    if (!this.move) {
      return [volume];
    }
    const p = this.move.percent.toFixed(2);
    return [volume, { lv_name: "[pvmove0]", lv_attr: "p-C-aom---", copy_percent: p, move_pv: this.move.pv }];
  }

  spawn(): RunningCommand {
    throw new Error("FakeLvm: spawn is not used by disk drains");
  }

  async close(): Promise<void> {}
}

function pvRow(p: FakePv): Record<string, string> {
  return {
    pv_name: p.name,
    vg_name: p.vg,
    pv_size: String(p.sizeMib * MiB),
    pv_free: String((p.sizeMib - p.usedMib) * MiB),
    pv_used: String(p.usedMib * MiB),
    pv_attr: "a--",
  };
}
