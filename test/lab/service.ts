/**
 * The service as an operator runs it, against the lab's storage hosts: one all-in-one process
 * (tsx main/index.ts all) on its embedded database and in-process bus, four LVM backends
 * reached over SSH with the lab's keys and known_hosts. Lab tests run inside the lab's network
 * namespace, where this machine's PostgreSQL and RabbitMQ are out of reach.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { cinder, parseTable } from "../helpers/cli";
import { freePort, type ServiceProcess, startProcess } from "../helpers/processes";
import { waitFor } from "../helpers/stack";
import { type Lab, type LabHost, labHost, shellQuote, sshOk } from "./lab";

/** One API GiB is this many MiB on the lab's disks (lvm_size_unit_mib): a "1 GiB" volume is 64 MiB. */
export const UNIT_MIB = 64;
export const UNIT_BYTES = UNIT_MIB * 1024 * 1024;
export const LOG_DIR = path.join(__dirname, ".cache/logs");

export interface LabBackend {
  name: string;
  host: string;
  vg: string;
  lvmType: "default" | "thin";
}

/** host-a and host-b, each with a thick VG and a thin one. */
export const BACKENDS: LabBackend[] = [
  { name: "lvm-a", host: "host-a", vg: "cinder-a", lvmType: "default" },
  { name: "lvm-a-thin", host: "host-a", vg: "cinder-a2", lvmType: "thin" },
  { name: "lvm-b", host: "host-b", vg: "cinder-b", lvmType: "default" },
  { name: "lvm-b-thin", host: "host-b", vg: "cinder-b2", lvmType: "thin" },
];

export function labConfig(
  lab: Lab,
  stateDir: string,
  port: number,
  extra = "",
  backends: LabBackend[] = BACKENDS,
): string {
  const sections = backends.map((b) => {
    const h = labHost(lab, b.host);
    return [
      `[${b.name}]`,
      "volume_driver = lvm",
      `volume_backend_name = ${b.name}`,
      `volume_group = ${b.vg}`,
      `lvm_type = ${b.lvmType}`,
      `lvm_size_unit_mib = ${UNIT_MIB}`,
      // One zone per storage host, so `cinder create --availability-zone` picks the host.
      `backend_availability_zone = ${b.host}`,
      `ssh_host = ${h.sshHost}`,
      `ssh_port = ${h.sshPort}`,
      `ssh_user = ${h.sshUser}`,
      `ssh_private_key = ${h.privateKey}`,
      `ssh_known_hosts = ${h.knownHosts}`,
    ].join("\n");
  });
  return [
    "[DEFAULT]",
    "host = lab",
    `state_path = ${stateDir}`,
    "transport_url = memory://",
    "auth_strategy = noauth",
    "noauth_admin_users = admin",
    `enabled_backends = ${backends.map((b) => b.name).join(", ")}`,
    "report_interval = 3",
    "service_down_time = 60",
    "osapi_volume_listen = 127.0.0.1",
    `osapi_volume_listen_port = ${port}`,
    "",
    "[database]",
    "connection = pglite://$state_path/db",
    "",
    ...sections.map((s) => `${s}\n`),
    extra,
  ].join("\n");
}

export interface LabService {
  endpoint: string;
  proc: ServiceProcess;
  stateDir: string;
  stop(): Promise<void>;
}

/** The service on the lab; `backends` replaces the four of BACKENDS (a test of its own VG). */
export async function startLabService(
  lab: Lab,
  extra = "",
  backends: LabBackend[] = BACKENDS,
): Promise<LabService> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-lab-svc-"));
  const port = await freePort();
  const conf = path.join(stateDir, "cinder.conf");
  fs.writeFileSync(conf, labConfig(lab, stateDir, port, extra, backends));
  // Four backends each open SSH to a UML host and read its VGs before the API listens: about
  // 10 s per backend at a load of 9 on this machine's two CPUs, over a minute in all.
  const proc = await startProcess(["all", "--config", conf], {
    readyLine: /listening on http/,
    readyTimeoutMs: 180_000,
  });
  const endpoint = `http://127.0.0.1:${port}/v3`;
  try {
    await prepare(endpoint, backends);
  } catch (e) {
    await proc.stop();
    const tail = proc.output().split("\n").slice(-40).join("\n");
    throw new Error(`${(e as Error).message}; the service's last lines:\n${tail}`, { cause: e });
  }
  return {
    endpoint,
    proc,
    stateDir,
    async stop() {
      await proc.stop();
      // The service's log outlives the run, for whoever reads a failed lab tier.
      fs.mkdirSync(LOG_DIR, { recursive: true });
      fs.writeFileSync(path.join(LOG_DIR, `service-${path.basename(stateDir)}.log`), proc.output());
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Volume types per backend, and every pool reported. */
async function prepare(endpoint: string, backends: LabBackend[]): Promise<void> {
  // Types ask for a kind of provisioning, not for a backend: a type naming volume_backend_name
  // would make every other backend an invalid migration destination (as in Cinder).
  for (const [name, specs] of [
    ["thick", { thick_provisioning_support: "<is> True" }],
    ["thin", { thin_provisioning_support: "<is> True" }],
    ["plain", {}],
  ] as const) {
    const res = await fetch(`${endpoint}/lab/types`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-auth-token": "admin:lab" },
      body: JSON.stringify({ volume_type: { name, extra_specs: specs } }),
    });
    if (res.status !== 200) {
      throw new Error(`creating volume type ${name}: ${res.status} ${await res.text()}`);
    }
  }
  // Every backend has reported its pool (so the scheduler can place volumes on it).
  await waitFor(
    async () => {
      const r = await cinder(endpoint, ["get-pools"], { project: "lab" });
      return backends.every((b) => r.stdout.includes(`lab@${b.name}#${b.name}`));
    },
    "every lab pool reported",
    60_000,
    500,
  );
}

/** `cinder show` as a field → value table (admin, project lab). */
export async function show(svc: LabService, id: string): Promise<Record<string, string>> {
  const r = await cinder(svc.endpoint, ["show", id], { project: "lab" });
  if (r.code !== 0) {
    throw new Error(`cinder show ${id}: ${r.stderr}`);
  }
  return parseTable(r.stdout);
}

/**
 * Creates a volume of `units` API GiB with the cinder client on `backend` (by zone and type), or
 * anywhere on a host with `{ zone }` (type "plain"); resolves with its id when available.
 */
export async function createVolume(
  svc: LabService,
  backend: string | { zone: string },
  name: string,
  units = 1,
): Promise<string> {
  const b = typeof backend === "string" ? BACKENDS.find((x) => x.name === backend)! : null;
  const type = b ? (b.lvmType === "thin" ? "thin" : "thick") : "plain";
  const zone = b ? b.host : (backend as { zone: string }).zone;
  const r = await cinder(
    svc.endpoint,
    ["create", "--volume-type", type, "--availability-zone", zone, "--name", name, String(units)],
    { project: "lab" },
  );
  if (r.code !== 0) {
    throw new Error(`cinder create: ${r.stderr}`);
  }
  const id = parseTable(r.stdout)["id"]!;
  const v = await waitFor(
    async () => {
      const s = await show(svc, id);
      return s["status"] === "available" || s["status"] === "error" ? s : undefined;
    },
    `volume ${id} available`,
    60_000,
    500,
  );
  if (v["status"] !== "available") {
    throw new Error(`volume ${id} went to ${v["status"]}`);
  }
  return id;
}

/** Waits for migstat success or error and returns the volume. */
export function migrationSettled(
  svc: LabService,
  id: string,
  timeoutMs = 180_000,
): Promise<Record<string, string>> {
  return waitFor(
    async () => {
      const s = await show(svc, id);
      const st = s["os-vol-mig-status-attr:migstat"];
      return st === "success" || st === "error" ? s : undefined;
    },
    `migration of ${id} settled`,
    timeoutMs,
    500,
  );
}

export function devicePath(vg: string, lv: string): string {
  return `/dev/${vg}/${lv}`;
}

/** Writes `mib` MiB of random data into DEV on HOST at `seekMib` (O_DIRECT, as a guest would). */
export async function fillRandom(host: LabHost, dev: string, mib = UNIT_MIB, seekMib = 0): Promise<void> {
  await sshOk(host, [
    "dd",
    "if=/dev/urandom",
    `of=${dev}`,
    "bs=1M",
    `seek=${seekMib}`,
    `count=${mib}`,
    "oflag=direct",
    "status=none",
  ]);
}

/** The `vg/volume-*` LVs of HOST that belong to volume ID, after waiting up to 30 s for them to go. */
export async function lvsOfVolumeSettled(host: LabHost, id: string): Promise<string[]> {
  const mine = async (): Promise<string[]> => (await volumeLvs(host)).filter((l) => l.includes(id));
  // Deleting the old data runs in the background after the swap: give it time to finish.
  for (let i = 0; i < 60 && (await mine()).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 500));
  }
  return mine();
}

/** sha256 of the first `bytes` of a device, computed on its host. */
export async function deviceSha256(host: LabHost, dev: string, bytes = UNIT_BYTES): Promise<string> {
  const out = await sshOk(
    host,
    `dd if=${shellQuote([dev])} bs=1M count=${bytes >> 20} iflag=direct status=none | sha256sum`,
  );
  return out.trim().split(/\s+/)[0]!;
}

export interface LvInfo {
  vg: string;
  name: string;
  attr: string;
  sizeBytes: number;
  dataPercent: number | null;
}

export async function listLvs(host: LabHost): Promise<LvInfo[]> {
  const out = await sshOk(host, [
    "lvs",
    "--reportformat",
    "json",
    "--units",
    "b",
    "--nosuffix",
    "-o",
    "vg_name,lv_name,lv_attr,lv_size,data_percent",
  ]);
  const report = JSON.parse(out) as {
    report: {
      lv: { vg_name: string; lv_name: string; lv_attr: string; lv_size: string; data_percent: string }[];
    }[];
  };
  return report.report[0]!.lv.map((l) => ({
    vg: l.vg_name,
    name: l.lv_name,
    attr: l.lv_attr,
    sizeBytes: Number(l.lv_size),
    dataPercent: l.data_percent === "" ? null : Number(l.data_percent),
  }));
}

/** Every `volume-*` LV on HOST as `vg/lv`. */
export async function volumeLvs(host: LabHost): Promise<string[]> {
  return (await listLvs(host)).filter((l) => l.name.startsWith("volume-")).map((l) => `${l.vg}/${l.name}`);
}
