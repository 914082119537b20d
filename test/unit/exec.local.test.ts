/**
 * LocalRunner starts bash without the invoking user's ~/.bashrc, even when the service itself was
 * started with no SHLVL (systemd, a container): a bash whose stdin is a socket takes itself for a
 * command run by sshd and sources ~/.bashrc unless it is a nested shell (drivers/exec/local.ts).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { LocalRunner } from "../../drivers/exec";
import { childEnv } from "../../drivers/exec/local";

describe("LocalRunner and bash startup files", () => {
  const saved = { HOME: process.env["HOME"], SHLVL: process.env["SHLVL"] };
  let home: string;

  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), "vms-home-"));
    fs.writeFileSync(path.join(home, ".bashrc"), "echo bashrc-ran\n");
    process.env["HOME"] = home;
    delete process.env["SHLVL"];
  });

  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) {
        delete process.env[k];
      } else {
        process.env[k] = v;
      }
    }
    fs.rmSync(home, { recursive: true, force: true });
  });

  it("raises SHLVL to 1 and keeps a higher one", () => {
    expect(childEnv({}).SHLVL).toBe("1");
    expect(childEnv({ SHLVL: "0" }).SHLVL).toBe("1");
    expect(childEnv({ SHLVL: "3" }).SHLVL).toBe("3");
    expect(childEnv({ SHLVL: "x" }).SHLVL).toBe("1");
    expect(childEnv({}).LC_ALL).toBe("C");
  });

  it("runs bash -c without sourcing ~/.bashrc", async () => {
    // What the runner used to do (socket stdio, no SHLVL): shows whether this bash sources it.
    const before = spawnSync("bash", ["-c", "echo script-ran"], {
      env: { ...process.env, LC_ALL: "C" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const sourced = before.stdout.toString().includes("bashrc-ran");
    const { stdout } = await new LocalRunner().run(["bash", "-c", "echo script-ran"]);
    expect(stdout).toBe("script-ran\n");
    // On a bash built without SSH_SOURCE_BASHRC neither sources it; Debian's does.
    expect(sourced || process.platform !== "linux" || !fs.existsSync("/etc/debian_version")).toBe(true);
  });
});
