/** endReaders.sh, the direct transport's last cleanup step on the source host, on its own. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";

import { END_READERS_SCRIPT } from "../../services/copy/scripts";
import { waitFor } from "../helpers/stack";

function endReaders(tag: string): { status: number | null; out: string } {
  const r = spawnSync("bash", ["-c", END_READERS_SCRIPT, "end-readers", tag], { encoding: "utf8" });
  return { status: r.status, out: r.stdout.trim() };
}

/**
 * A stand-in reader: a shell named vms-copy-read whose last argument is TAG, with a child, in its
 * own process group; with NAME, another of the copy's commands that holds the tag (remove-key).
 */
function reader(tag: string, name = "vms-copy-read"): ChildProcess {
  return spawn("bash", ["-c", "sleep 300 & wait", name, "/dev/null", tag], {
    detached: true,
    stdio: "ignore",
  });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("ends the process group of each reader of that copy, and nothing else", async () => {
  const mine = reader("vms-copy-aa11");
  const other = reader("vms-copy-bb22");
  const removeKey = reader("vms-copy-aa11", "remove-key");
  try {
    await new Promise((r) => setTimeout(r, 300));
    const exited = new Promise((r) => mine.once("exit", r));
    expect(endReaders("vms-copy-aa11")).toEqual({ status: 0, out: "vms-copy: ended 1" });
    await exited;
    // Its child sleep went with it (the group was signalled), the other copy's reader lives on.
    await waitFor(
      async () => (spawnSync("pgrep", ["-g", String(mine.pid)]).status === 1 ? true : undefined),
      "the reader's child ended",
      5000,
      50,
    );
    expect(alive(other.pid!)).toBe(true);
    expect(alive(removeKey.pid!)).toBe(true);
    expect(endReaders("vms-copy-aa11")).toEqual({ status: 0, out: "vms-copy: ended 0" });
  } finally {
    for (const c of [mine, other, removeKey]) {
      try {
        process.kill(-c.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
});

test("refuses anything but a copy tag", () => {
  for (const bad of ["", "sshd", "vms-copy-", "-9 1", "vms-copy-zz"]) {
    expect({ bad, ...endReaders(bad) }).toMatchObject({ bad, status: 2 });
  }
});
