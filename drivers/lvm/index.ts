import { DriverError } from "../../common/errors";
import type { ServiceCapabilities } from "../../db/services";
import { checksum } from "../checksum";
import { CommandError } from "../exec/types";
import type {
  CopyEndpoint,
  DriverDeps,
  DriverMigrateResult,
  DriverSnapshot,
  DriverVolume,
  MigrationDestination,
  VolumeDriver,
  VolumeModelUpdate,
} from "../types";
import { checkLvName, checkVgName, devicePath, snapshotLvName } from "./names";
import { type LvmOptions, lvmOptions } from "./options";
import { isNotFound, lvm, LVS_FIELDS, parseLvs, parseVgs, REPORT, VGS_FIELDS } from "./report";

/**
 * LVM volumes on a storage host (cinder/volume/drivers/lvm.py), every command an argv through the
 * backend's runner (local or SSH). Idempotent where a crash could repeat a step: create finds an
 * existing LV, delete treats "not found" as done.
 */
export class LvmDriver implements VolumeDriver {
  readonly opts: LvmOptions;

  constructor(private readonly deps: DriverDeps) {
    this.opts = lvmOptions(deps.backend);
  }

  private run(argv: string[]): Promise<{ stdout: string }> {
    return this.deps.runner.run(argv, { timeoutMs: 600_000 });
  }

  private get vg(): string {
    return this.opts.volumeGroup;
  }

  /** A size in API GiB as bytes on the host (see lvm_size_unit_mib). */
  private bytes(sizeGb: number): number {
    return sizeGb * this.opts.gibBytes;
  }

  async doSetup(): Promise<void> {
    const vgs = await this.vgs();
    if (!vgs.some((v) => v.name === this.vg)) {
      throw new DriverError(`Volume Group ${this.vg} does not exist on ${this.deps.runner.where}`);
    }
  }

  private async vgs(): Promise<ReturnType<typeof parseVgs>> {
    return parseVgs((await this.run(lvm("vgs", ...REPORT, "-o", VGS_FIELDS))).stdout);
  }

  private async lvs(): Promise<ReturnType<typeof parseLvs>> {
    return parseLvs((await this.run(lvm("lvs", ...REPORT, "-o", LVS_FIELDS, this.vg))).stdout);
  }

  private async findLv(name: string): Promise<ReturnType<typeof parseLvs>[number] | undefined> {
    checkLvName(name);
    return (await this.lvs()).find((l) => l.name === name);
  }

  async getCapabilities(): Promise<ServiceCapabilities> {
    const [vg] = (await this.vgs()).filter((v) => v.name === this.vg);
    if (!vg) {
      throw new DriverError(`Volume Group ${this.vg} does not exist`);
    }
    const lvs = await this.lvs();
    const volumes = lvs.filter((l) => !l.attr.startsWith("t"));
    const provisioned = volumes.reduce((n, l) => n + l.sizeBytes, 0);
    const pool = lvs.find((l) => l.name === this.opts.thinPool);
    const thin = this.opts.lvmType === "thin";
    const gb = (n: number): number => Math.round((n / this.opts.gibBytes) * 100) / 100;
    const b = this.deps.backend;
    // A thin pool's free space is what its data does not use; a thick VG's is vg_free.
    const free =
      thin && pool ? vg.freeBytes + pool.sizeBytes * (1 - (pool.dataPercent ?? 0) / 100) : vg.freeBytes;
    return {
      volume_backend_name: b.volumeBackendName,
      vendor_name: "Open Source",
      driver_version: "3.0.0",
      storage_protocol: "lvm",
      timestamp: new Date().toISOString(),
      pools: [
        {
          pool_name: b.volumeBackendName,
          total_capacity_gb: gb(vg.sizeBytes),
          free_capacity_gb: gb(free),
          allocated_capacity_gb: gb(provisioned),
          provisioned_capacity_gb: gb(provisioned),
          reserved_percentage: b.reservedPercentage,
          max_over_subscription_ratio: b.maxOverSubscriptionRatio,
          thin_provisioning_support: thin,
          thick_provisioning_support: !thin,
          QoS_support: false,
          multiattach: true,
          location_info: this.locationInfo(),
          sparse_copy_volume: thin,
          backend_state: "up",
        },
      ],
    };
  }

  /** Cinder's `LVMVolumeDriver:<host>:<vg>:<lvm_type>:<mirrors>`. */
  locationInfo(): string {
    return `LVMVolumeDriver:${this.opts.hostId}:${this.vg}:${this.opts.lvmType}:${this.opts.mirrors}`;
  }

  async createVolume(volume: DriverVolume): Promise<VolumeModelUpdate> {
    await this.createLv(this.vg, volume.name, volume.size, this.opts.lvmType);
    return { provider_location: null };
  }

  private async createLv(vg: string, name: string, sizeGb: number, type: "default" | "thin"): Promise<void> {
    checkVgName(vg);
    checkLvName(name);
    const existing = (await this.lvsOf(vg)).find((l) => l.name === name);
    if (existing) {
      // Created before a crash: the same create again is done if the size is right.
      if (existing.sizeBytes < this.bytes(sizeGb)) {
        throw new DriverError(
          `LV ${vg}/${name} exists with ${existing.sizeBytes} bytes, smaller than ${sizeGb} GiB`,
        );
      }
      return;
    }
    if (type === "thin") {
      const pool = await this.ensureThinPool(vg);
      await this.run(
        lvm("lvcreate", "-T", `${vg}/${pool}`, "-n", name, "-V", `${this.bytes(sizeGb)}b`, "-y"),
      );
    } else {
      const mirrors = this.opts.mirrors > 0 ? ["--type", "raid1", "-m", String(this.opts.mirrors)] : [];
      await this.run(lvm("lvcreate", "-n", name, "-L", `${this.bytes(sizeGb)}b`, ...mirrors, "-y", vg));
    }
  }

  private async lvsOf(vg: string): Promise<ReturnType<typeof parseLvs>> {
    return parseLvs((await this.run(lvm("lvs", ...REPORT, "-o", LVS_FIELDS, checkVgName(vg)))).stdout);
  }

  /** The thin pool is made on first use from most of the VG, as Cinder does (95% of free space). */
  private async ensureThinPool(vg: string): Promise<string> {
    const pool = vg === this.vg ? this.opts.thinPool : `${vg}-pool`;
    if (!(await this.lvsOf(vg)).some((l) => l.name === pool)) {
      await this.run(lvm("lvcreate", "-T", "-l", "95%FREE", `${vg}/${pool}`, "-y"));
    }
    return pool;
  }

  async deleteVolume(volume: DriverVolume): Promise<void> {
    await this.removeLv(this.vg, volume.name, volume.size);
  }

  private async removeLv(vg: string, name: string, sizeGb: number): Promise<void> {
    // A name that could never be an LV is refused, not reported "already gone".
    checkLvName(name);
    const lv = (await this.lvsOf(vg)).find((l) => l.name === name);
    if (!lv) {
      return;
    }
    // Thin LVs read zeros once gone; thick extents are reused, so wipe them (volume_clear).
    if (this.opts.volumeClear === "zero" && lv.poolLv === "") {
      const mib = this.opts.volumeClearSize || this.bytes(sizeGb) / 2 ** 20;
      await this.run([
        "dd",
        "if=/dev/zero",
        `of=${devicePath(vg, name)}`,
        "bs=1M",
        `count=${mib}`,
        "oflag=direct",
        "status=none",
      ]);
    }
    try {
      await this.run(lvm("lvremove", "-f", `${vg}/${name}`));
    } catch (e) {
      if (!(e instanceof CommandError && isNotFound(e.exitCode, e.stderr))) {
        throw e;
      }
    }
  }

  async extendVolume(volume: DriverVolume, newSizeGb: number): Promise<void> {
    await this.run(
      lvm("lvextend", "-L", `${this.bytes(newSizeGb)}b`, `${this.vg}/${checkLvName(volume.name)}`),
    );
  }

  async createSnapshot(snapshot: DriverSnapshot, volume: DriverVolume): Promise<void> {
    const origin = `${this.vg}/${checkLvName(volume.name)}`;
    const size = this.opts.lvmType === "thin" ? [] : ["-L", `${this.bytes(snapshot.volumeSize)}b`];
    await this.run(lvm("lvcreate", "--snapshot", "-n", snapshotLvName(snapshot.name), ...size, origin, "-y"));
    if (this.opts.lvmType === "thin") {
      // Thin snapshots skip activation by default; the copy engine needs to read them.
      await this.run(lvm("lvchange", "-ay", "-K", `${this.vg}/${snapshotLvName(snapshot.name)}`));
    }
  }

  async deleteSnapshot(snapshot: DriverSnapshot): Promise<void> {
    await this.removeLv(this.vg, snapshotLvName(snapshot.name), 0);
  }

  async createVolumeFromSnapshot(volume: DriverVolume, snapshot: DriverSnapshot): Promise<VolumeModelUpdate> {
    await this.createVolume(volume);
    await this.localCopy(
      devicePath(this.vg, snapshotLvName(snapshot.name)),
      devicePath(this.vg, volume.name),
      snapshot.volumeSize,
    );
    return { provider_location: null };
  }

  private async localCopy(src: string, dst: string, sizeGb: number): Promise<void> {
    const sparse = this.opts.lvmType === "thin" ? ",sparse" : "";
    await this.run([
      "dd",
      `if=${src}`,
      `of=${dst}`,
      "bs=4M",
      `count=${this.bytes(sizeGb)}`,
      "iflag=count_bytes,direct",
      "oflag=direct",
      `conv=notrunc${sparse}`,
      "status=none",
    ]);
  }

  async copyEndpoint(volume: DriverVolume): Promise<CopyEndpoint> {
    return {
      runner: this.deps.runnerSpec,
      path: devicePath(this.vg, volume.name),
      sizeBytes: this.bytes(volume.size),
      directIo: true,
      // A new thin LV reads zeros where nothing was written; a thick one holds old extents.
      sparseTarget: this.opts.lvmType === "thin",
      thinLv: this.opts.lvmType === "thin",
    };
  }

  async snapshotCopyEndpoint(snapshot: DriverSnapshot): Promise<CopyEndpoint> {
    return {
      runner: this.deps.runnerSpec,
      path: devicePath(this.vg, snapshotLvName(snapshot.name)),
      sizeBytes: this.bytes(snapshot.volumeSize),
      directIo: true,
      sparseTarget: false,
      // A thin volume's snapshots are thin LVs of its pool.
      thinLv: this.opts.lvmType === "thin",
    };
  }

  /**
   * Cinder's LVM update_migrated_volume: an `available` volume's new LV takes the source's name
   * (volume-<source id>), so name_id goes back to null; an in-use one keeps the temp's name.
   */
  async updateMigratedVolume(
    volume: DriverVolume,
    newVolume: DriverVolume,
    originalStatus: string,
  ): Promise<VolumeModelUpdate> {
    if (originalStatus !== "available") {
      return { name_id: newVolume.nameId ?? newVolume.id, provider_location: newVolume.providerLocation };
    }
    const current = checkLvName(newVolume.name);
    const wanted = checkLvName(this.deps.volumeNameTemplate.replace("%s", volume.id));
    await this.run(lvm("lvrename", this.vg, current, wanted));
    return { name_id: null, provider_location: null };
  }

  /**
   * Cinder's native LVM move: only to another VG of the same storage host. Creates the LV there,
   * copies on the host with dd, verifies sha256 on both (beyond Cinder), removes the source.
   */
  async migrateVolume(volume: DriverVolume, dest: MigrationDestination): Promise<DriverMigrateResult> {
    const info = String(dest.capabilities?.location_info ?? "").split(":");
    if (
      info.length !== 5 ||
      info[0] !== "LVMVolumeDriver" ||
      info[1] !== this.opts.hostId ||
      !/^\d+$/.test(info[4]!)
    ) {
      return { moved: false };
    }
    const destVg = info[2]!;
    const destType = info[3] === "thin" ? "thin" : "default";
    if (destVg === this.vg) {
      throw new DriverError(
        `Refusing to migrate volume ID: ${volume.id}. Please check your configuration because source and destination are the same Volume Group: ${destVg}.`,
      );
    }
    if (!(await this.vgs()).some((v) => v.name === checkVgName(destVg))) {
      return { moved: false };
    }
    const src = devicePath(this.vg, volume.name);
    const dst = devicePath(destVg, volume.name);
    await this.createLv(destVg, volume.name, volume.size, destType);
    try {
      await this.localCopy(src, dst, volume.size);
      const size = this.bytes(volume.size);
      const [a, b] = await Promise.all([
        checksum(this.deps.runner, src, size, "4M"),
        checksum(this.deps.runner, dst, size, "4M"),
      ]);
      if (a !== b) {
        throw new DriverError(`native copy of ${src} to ${dst} does not match (${a} != ${b}); source kept`);
      }
    } catch (e) {
      await this.removeLv(destVg, volume.name, volume.size);
      throw e;
    }
    await this.removeLv(this.vg, volume.name, volume.size);
    return { moved: true, modelUpdate: {} };
  }
}
