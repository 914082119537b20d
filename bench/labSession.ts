/**
 * The bench's outer process: makes sure a lab runs (starting one only when none does, and then
 * stopping it at the end) and re-runs the bench inside the lab's network namespace, where the
 * storage hosts answer. A lab someone else started is never stopped.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

import { type Lab, LAB_JSON, loadLab } from "../test/lab/lab";

const LAB_DIR = path.join(__dirname, "../test/lab");
const LAB_BIN = path.join(LAB_DIR, "bin");
/** How long a lab someone else is starting or stopping is waited for. */
const BUSY_WAIT_MS = 5 * 60_000;
/** Set in the re-run inside the namespace. */
export const IN_NETNS_ENV = "VMS_BENCH_IN_NETNS";

/**
 * The running lab, or null when lab.json or its namespace is missing. A host whose UML process
 * has died does not count as "no lab": crash tests kill and reboot hosts, and starting a lab
 * would stop theirs.
 */
export function runningLab(): Lab | null {
  if (!fs.existsSync(LAB_JSON)) {
    return null;
  }
  const lab = loadLab();
  return fs.existsSync(lab.netnsPath) ? lab : null;
}

/** The namespace name test/lab/bin/lib.sh gives this checkout's lab. */
function labNetns(): string {
  return (
    process.env["LAB_NETNS"] ?? `vmslab-${createHash("sha256").update(LAB_DIR).digest("hex").slice(0, 8)}`
  );
}

/**
 * Whether a lab command is under way or a lab half exists (lock held, namespace present, or a UML
 * process of this lab alive): then one must not be started, it would stop someone else's.
 */
function labBusy(): boolean {
  const netns = labNetns();
  const lock = spawnSync("flock", ["-n", "-E", "99", path.join(LAB_DIR, ".cache/lab.lock"), "true"]);
  if (lock.status === 99 || fs.existsSync(`/run/netns/${netns}`)) {
    return true;
  }
  return fs.readdirSync("/proc").some((pid) => {
    try {
      return (
        /^\d+$/.test(pid) && fs.readFileSync(`/proc/${pid}/cmdline`, "latin1").includes(`umid=${netns}-`)
      );
    } catch {
      return false;
    }
  });
}

/** The running lab, after waiting out one that is being started or stopped; null when none. */
async function settledLab(log: (l: string) => void): Promise<Lab | null> {
  const deadline = Date.now() + BUSY_WAIT_MS;
  let said = false;
  for (;;) {
    const lab = runningLab();
    if (lab || !labBusy()) {
      return lab;
    }
    if (Date.now() > deadline) {
      throw new Error("a lab is being started or stopped by someone else and did not settle in 5 minutes");
    }
    if (!said) {
      log("a lab command is under way (lock held or lab half up): waiting for it");
      said = true;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: "inherit", env: env ?? process.env });
    const forward = (): void => {
      child.kill("SIGTERM");
    };
    // Ctrl-C reaches the child through the terminal; SIGTERM sent to this process only is passed on.
    const ignore = (): void => undefined;
    process.on("SIGINT", ignore);
    process.on("SIGTERM", forward);
    child.on("error", reject);
    child.on("close", (code, sig) => {
      process.off("SIGINT", ignore);
      process.off("SIGTERM", forward);
      resolve(code ?? (sig ? 128 + 1 : 1));
    });
  });
}

/** Runs the bench (ENTRY ARGS) in the lab's namespace; returns its exit code. */
export async function runInLab(
  entry: string,
  args: readonly string[],
  log: (l: string) => void,
): Promise<number> {
  let lab = await settledLab(log);
  let startedHere = false;
  try {
    if (!lab) {
      log("no lab is running: starting one (it is stopped at the end)");
      startedHere = true;
      const rc = await run("bash", [path.join(LAB_BIN, "start.sh")]);
      lab = rc === 0 ? runningLab() : null;
      if (!lab) {
        throw new Error(`the lab did not start (start.sh exited ${rc})`);
      }
    }
    const argv = ["netns", "exec", lab.netns, process.execPath, ...process.execArgv, entry, ...args];
    return await run("ip", argv, { ...process.env, [IN_NETNS_ENV]: "1" });
  } finally {
    if (startedHere) {
      log("stopping the lab this bench started");
      await run("bash", [path.join(LAB_BIN, "stop.sh")]);
    }
  }
}
