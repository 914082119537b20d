import { DriverError } from "../../common/errors";

/** The argv prefix of every LVM command (Cinder's LVM_CMD_PREFIX): a fixed locale for fixed output. */
export function lvm(sub: string, ...args: string[]): string[] {
  return ["env", "LC_ALL=C", "LVM_SUPPRESS_FD_WARNINGS=1", "lvm", sub, ...args];
}

/** Report options: JSON, sizes in bytes without suffix, no headings to parse by position. */
export const REPORT = ["--reportformat", "json", "--units", "b", "--nosuffix"];

export interface LvInfo {
  name: string;
  vg: string;
  sizeBytes: number;
  attr: string;
  /** The thin pool of a thin LV, "" otherwise. */
  poolLv: string;
  /** Percent of a thin pool's data space in use (thin pools only). */
  dataPercent: number | null;
}

export interface VgInfo {
  name: string;
  sizeBytes: number;
  freeBytes: number;
}

interface Report<T> {
  report?: Record<string, T[]>[];
}

function rows<T>(stdout: string, key: string): T[] {
  let parsed: Report<T>;
  try {
    parsed = JSON.parse(stdout) as Report<T>;
  } catch (e) {
    throw new DriverError(`Unreadable LVM report: ${stdout.slice(0, 200)}`, { cause: e });
  }
  return (parsed.report ?? []).flatMap((r) => r[key] ?? []);
}

function bytes(v: string | undefined, what: string): number {
  const n = Number(v);
  if (v === undefined || v === "" || !Number.isFinite(n)) {
    throw new DriverError(`LVM report has no numeric ${what}: ${JSON.stringify(v)}`);
  }
  return n;
}

export const LVS_FIELDS = "lv_name,vg_name,lv_size,lv_attr,pool_lv,data_percent";

/** `lvs --reportformat json -o LVS_FIELDS` → typed rows. */
export function parseLvs(stdout: string): LvInfo[] {
  return rows<Record<string, string>>(stdout, "lv").map((r) => ({
    name: r["lv_name"] ?? "",
    vg: r["vg_name"] ?? "",
    sizeBytes: bytes(r["lv_size"], "lv_size"),
    attr: r["lv_attr"] ?? "",
    poolLv: r["pool_lv"] ?? "",
    dataPercent: r["data_percent"] ? Number(r["data_percent"]) : null,
  }));
}

export const VGS_FIELDS = "vg_name,vg_size,vg_free";

export function parseVgs(stdout: string): VgInfo[] {
  return rows<Record<string, string>>(stdout, "vg").map((r) => ({
    name: r["vg_name"] ?? "",
    sizeBytes: bytes(r["vg_size"], "vg_size"),
    freeBytes: bytes(r["vg_free"], "vg_free"),
  }));
}

/**
 * LVM exits 5 for "not found" among other failures; the message pattern tells them apart
 * (topolvm's IsLVMNotFound does the same).
 */
export function isNotFound(exitCode: number | null, stderr: string): boolean {
  return (
    exitCode === 5 && /not found|Failed to find logical volume|Volume group "[^"]*" not found/i.test(stderr)
  );
}
