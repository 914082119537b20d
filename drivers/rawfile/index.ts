import path from "node:path";

import { DriverError } from "../../common/errors";
import type { ServiceCapabilities } from "../../db/services";
import { checksum } from "../checksum";
import { CommandError } from "../exec/types";
import type {
  BackendObject,
  CopyEndpoint,
  DriverDeps,
  DriverMigrateResult,
  DriverSnapshot,
  DriverVolume,
  MigrationDestination,
  VolumeDriver,
  VolumeModelUpdate,
} from "../types";

const GiB = 1024 ** 3;
/** Backend object names come from templates over uuids; anything else is refused before a command runs. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** A destination directory read from another service's capabilities: absolute, plain characters. */
const SAFE_DIR = /^\/[A-Za-z0-9._/-]*$/;

/**
 * A volume is a sparse file of exactly `size` GiB in the backend's directory, named by
 * `volume_name_template`. Every file operation goes through the command runner, so the same
 * driver works on the worker's host or, later, on a storage host over SSH.
 */
export class RawFileDriver implements VolumeDriver {
  private readonly dir: string;

  constructor(private readonly deps: DriverDeps) {
    const dir = deps.backend.rawfileDirectory;
    if (!dir || !path.isAbsolute(dir)) {
      throw new DriverError(`[${deps.backend.section}] rawfile_directory must be an absolute path`);
    }
    this.dir = dir;
  }

  async doSetup(): Promise<void> {
    await this.deps.runner.run(["mkdir", "-p", "--", this.dir]);
  }

  async getCapabilities(): Promise<ServiceCapabilities> {
    const { stdout } = await this.deps.runner.run(["df", "-P", "-B1", "--", this.dir]);
    const fields = stdout.trim().split("\n").pop()?.trim().split(/\s+/) ?? [];
    const total = Number(fields[1]);
    const avail = Number(fields[3]);
    if (!Number.isFinite(total) || !Number.isFinite(avail)) {
      throw new DriverError(`Cannot read capacity of ${this.dir} from df: ${stdout.trim()}`);
    }
    const { stdout: du } = await this.deps.runner.run(["du", "-s", "-B1", "--apparent-size", "--", this.dir]);
    const provisioned = Number(du.trim().split(/\s+/)[0]) || 0;
    const b = this.deps.backend;
    const gb = (n: number): number => Math.round((n / GiB) * 100) / 100;
    return {
      volume_backend_name: b.volumeBackendName,
      vendor_name: "Open Source",
      driver_version: "1.0.0",
      storage_protocol: "file",
      timestamp: new Date().toISOString(),
      pools: [
        {
          pool_name: b.volumeBackendName,
          total_capacity_gb: gb(total),
          free_capacity_gb: gb(avail),
          allocated_capacity_gb: gb(provisioned),
          provisioned_capacity_gb: gb(provisioned),
          reserved_percentage: b.reservedPercentage,
          max_over_subscription_ratio: b.maxOverSubscriptionRatio,
          thin_provisioning_support: true,
          thick_provisioning_support: false,
          QoS_support: false,
          multiattach: false,
          location_info: `RawFileDriver:${b.serviceHost.split("@")[0]}:${this.dir}`,
          backend_state: "up",
        },
      ],
    };
  }

  async createVolume(volume: DriverVolume): Promise<VolumeModelUpdate> {
    const file = this.pathOf(volume.name);
    // truncate creates the file sparse and sets its exact size; running it again is harmless.
    await this.deps.runner.run(["truncate", "-s", String(volume.size * GiB), "--", file]);
    return { provider_location: file };
  }

  async deleteVolume(volume: DriverVolume): Promise<void> {
    await this.deps.runner.run(["rm", "-f", "--", this.pathOf(volume.name)]);
  }

  async createVolumeFromSnapshot(volume: DriverVolume, snapshot: DriverSnapshot): Promise<VolumeModelUpdate> {
    const file = this.pathOf(volume.name);
    await this.deps.runner.run(["cp", "--sparse=always", "--", this.pathOf(snapshot.name), file]);
    await this.deps.runner.run(["truncate", "-s", `>${volume.size * GiB}`, "--", file]);
    return { provider_location: file };
  }

  async extendVolume(volume: DriverVolume, newSizeGb: number): Promise<void> {
    // `truncate -s` with a plain size would also shrink; only ever grow.
    await this.deps.runner.run(["truncate", "-s", `>${newSizeGb * GiB}`, "--", this.pathOf(volume.name)]);
  }

  async createSnapshot(snapshot: DriverSnapshot, volume: DriverVolume): Promise<void> {
    await this.deps.runner.run([
      "cp",
      "--sparse=always",
      "--",
      this.pathOf(volume.name),
      this.pathOf(snapshot.name),
    ]);
  }

  async deleteSnapshot(snapshot: DriverSnapshot): Promise<void> {
    await this.deps.runner.run(["rm", "-f", "--", this.pathOf(snapshot.name)]);
  }

  async copyEndpoint(volume: DriverVolume): Promise<CopyEndpoint> {
    return {
      runner: this.deps.runnerSpec,
      path: this.pathOf(volume.name),
      sizeBytes: volume.size * GiB,
      // Files may sit on tmpfs or overlay, which refuse O_DIRECT; the writer syncs instead.
      directIo: false,
      // A freshly truncated file reads zeros everywhere, so zero blocks need not be written.
      sparseTarget: true,
      // Volumes are sparse files: a copy reads their data ranges only.
      mapsData: true,
    };
  }

  async snapshotCopyEndpoint(snapshot: DriverSnapshot): Promise<CopyEndpoint> {
    return this.copyEndpoint({
      id: snapshot.id,
      nameId: null,
      size: snapshot.volumeSize,
      name: snapshot.name,
      providerLocation: null,
    });
  }

  /**
   * Native move between two raw-file backends of the same host (the LVM driver's "same node, other
   * VG" rule): a hard link when both directories share a filesystem (no byte moves, nothing can be
   * lost), otherwise a sparse copy verified by sha256 before the source is removed. Any other
   * destination answers `{moved: false}` and the volume goes through the generic copy.
   */
  async migrateVolume(volume: DriverVolume, dest: MigrationDestination): Promise<DriverMigrateResult> {
    const m = /^RawFileDriver:([^:]+):(.+)$/.exec(String(dest.capabilities?.location_info ?? ""));
    const myHost = this.deps.backend.serviceHost.split("@")[0];
    if (
      !this.deps.backend.rawfileNativeMigration ||
      !m ||
      m[1] !== myHost ||
      !SAFE_DIR.test(m[2]!) ||
      m[2]!.split("/").includes("..")
    ) {
      return { moved: false };
    }
    const destDir = m[2]!;
    if (path.resolve(destDir) === this.dir) {
      throw new DriverError(
        `Refusing to migrate volume ID: ${volume.id}. Please check your configuration because source and destination are the same directory: ${destDir}.`,
      );
    }
    const src = this.pathOf(volume.name);
    const dst = path.join(destDir, path.basename(src));
    const run = (argv: string[]): Promise<unknown> => this.deps.runner.run(argv);
    const exists = (p: string): Promise<boolean> =>
      this.deps.runner.run(["test", "-e", p]).then(
        () => true,
        () => false,
      );
    // Resumed after a crash between "linked or copied" and "source removed": the move is done.
    if (!(await exists(src)) && (await exists(dst))) {
      return { moved: true, modelUpdate: { provider_location: dst } };
    }
    try {
      await run(["ln", "-f", "--", src, dst]);
    } catch (e) {
      if (!(e instanceof CommandError) || !/cross-device/i.test(e.stderr)) {
        throw e;
      }
      const part = `${dst}.part`;
      await run(["cp", "--sparse=always", "--", src, part]);
      const size = volume.size * GiB;
      const [a, b] = await Promise.all([
        checksum(this.deps.runner, src, size, "1M"),
        checksum(this.deps.runner, part, size, "1M"),
      ]);
      if (a !== b) {
        await run(["rm", "-f", "--", part]);
        throw new DriverError(`copy of ${src} to ${part} does not match (${a} != ${b}); source kept`);
      }
      await run(["mv", "-f", "--", part, dst]);
    }
    await run(["rm", "-f", "--", src]);
    return { moved: true, modelUpdate: { provider_location: dst } };
  }

  /** The regular files of the directory (volumes, snapshots, and anything put there to adopt). */
  async listBackendObjects(): Promise<BackendObject[]> {
    const { stdout } = await this.deps.runner.run([
      "find",
      this.dir,
      "-mindepth",
      "1",
      "-maxdepth",
      "1",
      "-type",
      "f",
      "-printf",
      "%f\\t%s\\n",
    ]);
    return stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => {
        const [name, size] = l.split("\t");
        return { name: name!, sizeBytes: Number(size) };
      })
      .filter((o) => SAFE_NAME.test(o.name) && Number.isFinite(o.sizeBytes));
  }

  async backendObjectSize(sourceName: string): Promise<number> {
    const file = this.pathOf(sourceName);
    try {
      const { stdout } = await this.deps.runner.run(["stat", "-c", "%F %s", "--", file]);
      const m = /^regular (?:empty )?file (\d+)$/.exec(stdout.trim());
      if (!m) {
        throw new DriverError(`${sourceName} is not a regular file`);
      }
      return Number(m[1]);
    } catch (err) {
      if (err instanceof CommandError) {
        throw new DriverError(`${sourceName} does not exist in ${this.dir}`, { cause: err });
      }
      throw err;
    }
  }

  /**
   * Rename the file to the volume's name (never over an existing one) and round it up to whole GiB
   * with zeros, as the LVM driver renames the LV it adopts.
   */
  async manageExisting(volume: DriverVolume, sourceName: string): Promise<VolumeModelUpdate> {
    const src = this.pathOf(sourceName);
    const dst = this.pathOf(volume.name);
    if (src !== dst) {
      await this.deps.runner.run(["mv", "-n", "-T", "--", src, dst]);
      await this.deps.runner.run(["test", "!", "-e", src]).catch((err: unknown) => {
        throw new DriverError(`${volume.name} exists already; ${sourceName} was not adopted`, { cause: err });
      });
    }
    await this.deps.runner.run(["truncate", "-s", `>${volume.size * GiB}`, "--", dst]);
    return { provider_location: dst };
  }

  private pathOf(name: string): string {
    if (!SAFE_NAME.test(name)) {
      throw new DriverError(`Refusing unsafe backend object name ${JSON.stringify(name)}`);
    }
    return path.join(this.dir, name);
  }
}
