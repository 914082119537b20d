/**
 * `npm run bench`: the copy engine against the commands an admin would use, on this machine's own
 * disk (raw files), on the lab's storage hosts (same-host LV copies) and between two OpenSSH
 * servers on loopback (cross-host copies).
 * Prints a table with the targets and, with --json FILE, writes the figures. See README.md.
 * `--evacuation` measures an evacuation of 1,000 volumes instead (evacuationMain.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { RunnerFactory, type SshRunnerSpec } from "../drivers/exec";
import { labHost, loadLab } from "../test/lab/lab";
import { abortOnSignals, Cleanup } from "./cleanup";
import { findEngine } from "./engine";
import { runEvacuationBench } from "./evacuationMain";
import { Guest } from "./guest";
import { type HostFigures, hostNeedMib, measureHost } from "./hostParts";
import { type LabFigures, labNeedMib, measureLab } from "./labParts";
import { IN_NETNS_ENV, runInLab } from "./labSession";
import { MIB } from "./measure";
import { type BenchOptions, parseOptions } from "./options";
import { buildReport, formatTable, type RunInfo } from "./report";
import { measureXhost, type XhostFigures, xhostNeedMib } from "./xhost";

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

/** The largest size from WANTED down, halving, that FITS (at least 128 MiB), or null. */
function pickSize(wanted: number, fits: (mib: number) => boolean): number | null {
  for (let mib = wanted; mib >= Math.min(wanted, 128); mib = Math.floor(mib / 2 / 4) * 4) {
    if (fits(mib)) {
      return mib;
    }
  }
  return null;
}

async function labPart(
  opts: BenchOptions,
  info: RunInfo,
  runners: RunnerFactory,
  cleanup: Cleanup,
  signal: AbortSignal,
): Promise<LabFigures | null> {
  const host = labHost(loadLab(), "host-a");
  const spec: SshRunnerSpec = {
    kind: "ssh",
    host: host.sshHost,
    port: host.sshPort,
    username: host.sshUser,
    privateKeyPath: host.privateKey,
    knownHostsFile: host.knownHosts,
  };
  const guest = new Guest(runners.get(spec), signal);
  const [vg0, vg1] = host.vgs.map((v) => v.name);
  if (!vg0 || !vg1) {
    throw new Error(`${host.name} has fewer than two VGs`);
  }
  const freeMib = Math.min(await guest.vgFreeBytes(vg0), await guest.vgFreeBytes(vg1)) / MIB;
  const mib = pickSize(opts.sizeMib, (m) => labNeedMib(m) <= freeMib);
  info.labMib = mib;
  if (mib === null) {
    info.notes.push(
      `lab skipped: ${vg0}/${vg1} have ${freeMib.toFixed(0)} MiB free, too little even for 128 MiB`,
    );
    return null;
  }
  if (mib !== opts.sizeMib) {
    info.notes.push(
      `lab volumes are ${mib} MiB, not ${opts.sizeMib}: ${vg0}/${vg1} have only ${freeMib.toFixed(0)} MiB free (need ${labNeedMib(opts.sizeMib)})`,
    );
  }
  const ctx = { guest, spec, vgs: [vg0, vg1] as [string, string], engine: info.engine, sizeMib: mib };
  return measureLab({ ...ctx, repeat: opts.repeat, parts: opts.parts, cleanup, signal, log });
}

async function hostPart(
  opts: BenchOptions,
  info: RunInfo,
  runners: RunnerFactory,
  tmp: string,
  cleanup: Cleanup,
  signal: AbortSignal,
): Promise<HostFigures | null> {
  const st = fs.statfsSync(tmp);
  const freeMib = (st.bavail * st.bsize) / MIB;
  const mib = pickSize(opts.sizeMib, (m) => hostNeedMib(m) <= freeMib);
  info.hostMib = mib;
  if (mib === null) {
    info.notes.push(`host skipped: ${tmp} has ${freeMib.toFixed(0)} MiB free`);
    return null;
  }
  if (mib !== opts.sizeMib) {
    info.notes.push(
      `host volumes are ${mib} MiB, not ${opts.sizeMib}: ${tmp} has ${freeMib.toFixed(0)} MiB free`,
    );
  }
  const local = runners.get({ kind: "local" });
  return measureHost({
    local,
    engine: info.engine,
    sizeMib: mib,
    repeat: opts.repeat,
    tmp,
    cleanup,
    signal,
    log,
  });
}

async function xhostPart(
  opts: BenchOptions,
  info: RunInfo,
  runners: RunnerFactory,
  tmp: string,
  cleanup: Cleanup,
  signal: AbortSignal,
): Promise<XhostFigures | null> {
  const st = fs.statfsSync(tmp);
  const freeMib = (st.bavail * st.bsize) / MIB;
  const mib = pickSize(opts.sizeMib, (m) => xhostNeedMib(m) <= freeMib);
  info.xhostMib = mib;
  if (mib === null) {
    info.notes.push(`cross-host skipped: ${tmp} has ${freeMib.toFixed(0)} MiB free`);
    return null;
  }
  if (mib !== opts.sizeMib) {
    info.notes.push(
      `cross-host volumes are ${mib} MiB, not ${opts.sizeMib}: ${tmp} has ${freeMib.toFixed(0)} MiB free`,
    );
  }
  const local = runners.get({ kind: "local" });
  return measureXhost({
    local,
    engine: info.engine,
    sizeMib: mib,
    repeat: opts.repeat,
    tmp,
    cleanup,
    signal,
    log,
  });
}

async function bench(opts: BenchOptions): Promise<void> {
  const { signal, dispose } = abortOnSignals(log);
  const cleanup = new Cleanup();
  const runners = new RunnerFactory();
  cleanup.add("close the SSH connections", () => runners.close());
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vms-bench-"));
  cleanup.add(`remove ${tmp}`, () => fs.rmSync(tmp, { recursive: true, force: true }));
  try {
    const engine = { ...findEngine(opts.engine), streams: opts.streams };
    log(
      `engine: ${engine.className} from ${path.relative(process.cwd(), engine.module)}.ts, streams ${engine.streams ?? "default"}`,
    );
    const info: RunInfo = {
      engine,
      repeat: opts.repeat,
      requestedMib: opts.sizeMib,
      labMib: null,
      hostMib: null,
      xhostMib: null,
      notes: [],
    };
    const host = opts.parts.has("host") ? await hostPart(opts, info, runners, tmp, cleanup, signal) : null;
    const lab =
      opts.parts.has("dense") || opts.parts.has("sparse")
        ? await labPart(opts, info, runners, cleanup, signal)
        : null;
    const xhost = opts.parts.has("xhost") ? await xhostPart(opts, info, runners, tmp, cleanup, signal) : null;
    const report = buildReport(info, lab, xhost, host);
    process.stdout.write(`\n${formatTable(report)}\n`);
    if ((report["errors"] as string[]).length > 0) {
      process.exitCode = 1;
    }
    if (opts.json) {
      fs.writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`wrote ${opts.json}`);
    }
  } finally {
    await cleanup.run(log);
    dispose();
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.evacuation) {
    await runEvacuationBench(opts, log);
    return;
  }
  if (process.getuid?.() !== 0) {
    throw new Error("the bench needs root (loop devices, sshd, the lab's network namespace)");
  }
  const needsLab = opts.parts.has("dense") || opts.parts.has("sparse");
  if (needsLab && process.env[IN_NETNS_ENV] !== "1") {
    process.exitCode = await runInLab(__filename, process.argv.slice(2), log);
    return;
  }
  await bench(opts);
}

main().catch((err: unknown) => {
  log(`failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
