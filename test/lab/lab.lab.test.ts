/**
 * Proves the lab itself: two UML storage hosts with real LVM2, reached by SSH with verified host
 * keys, and a guest-to-guest copy over the lab bridge. Runs with `npm run test:lab` (needs
 * `npm run lab:start`).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { Client } from "ssh2";

import { inLabNetns, knownHostKey, type LabHost, labHost, loadLab, ssh, sshOk } from "./lab";

const lab = loadLab();
const hostA = labHost(lab, "host-a");
const hostB = labHost(lab, "host-b");

interface LvsReport {
  report: { lv: { lv_name: string; vg_name: string; lv_size: string }[] }[];
}
interface VgsReport {
  report: { vg: { vg_name: string }[] }[];
}

/** ssh2 client connection to HOST whose host key must equal EXPECTED; resolves on ready. */
function ssh2Connect(host: LabHost, expected: Buffer): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client
      .on("ready", () => resolve(client))
      .on("error", (err) => reject(err))
      .connect({
        host: host.sshHost,
        port: host.sshPort,
        username: host.sshUser,
        privateKey: fs.readFileSync(host.privateKey),
        hostVerifier: (key: Buffer) => key.equals(expected),
        readyTimeout: 20_000,
      });
  });
}

describe("the LVM lab", () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vms-lab-test-"));
  });
  afterAll(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("runs this test inside the lab's network namespace", () => {
    expect(inLabNetns(lab)).toBe(true);
    expect(lab.hosts.map((h) => h.name)).toEqual(["host-a", "host-b"]);
  });

  it.each([
    ["host-a", ["cinder-a", "cinder-a2"]],
    ["host-b", ["cinder-b", "cinder-b2"]],
  ])("%s answers ssh with key and known_hosts verification and has its VGs", async (name, vgs) => {
    const host = labHost(lab, name);
    expect(host.vgs.map((v) => v.name)).toEqual(vgs);
    expect((await sshOk(host, ["hostname"])).trim()).toBe(name);

    const vgReport = JSON.parse(
      await sshOk(host, ["vgs", "--reportformat", "json", "-o", "vg_name"]),
    ) as VgsReport;
    const drainVg = host.drainVg ? [host.drainVg.name] : [];
    expect(vgReport.report[0]!.vg.map((v) => v.vg_name).sort()).toEqual([...vgs, ...drainVg].sort());

    const lvReport = JSON.parse(
      await sshOk(host, ["lvs", "--reportformat", "json", "-o", "lv_name,vg_name,lv_size"]),
    ) as LvsReport;
    expect(Array.isArray(lvReport.report[0]!.lv)).toBe(true);
  });

  it("refuses a host whose key does not match known_hosts (OpenSSH, StrictHostKeyChecking=yes)", async () => {
    // host-b's known_hosts has no entry for host-a at all.
    const unknown = await ssh(hostA, ["true"], { knownHosts: hostB.knownHosts });
    expect(unknown.exitCode).toBe(255);
    expect(unknown.stderr).toMatch(/Host key verification failed/);

    // host-b's key listed under host-a's address: a changed host key.
    const { type, blob } = knownHostKey(hostB.knownHosts, hostB.sshHost);
    const wrong = path.join(tmp, "wrong_known_hosts");
    fs.writeFileSync(wrong, `${hostA.sshHost} ${type} ${blob.toString("base64")}\n`);
    const changed = await ssh(hostA, ["true"], { knownHosts: wrong });
    expect(changed.exitCode).toBe(255);
    expect(changed.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  it("verifies host keys from known_hosts with ssh2 too", async () => {
    const right = knownHostKey(hostA.knownHosts, hostA.sshHost).blob;
    const client = await ssh2Connect(hostA, right);
    client.end();

    const other = knownHostKey(hostB.knownHosts, hostB.sshHost).blob;
    await expect(ssh2Connect(hostA, other)).rejects.toThrow(/verification failed/i);
  });

  it("copies a 64 MiB LV from host-a to host-b over the bridge, sha256 equal", async () => {
    const lv = `lab-test-${process.pid}-${Date.now().toString(36)}`;
    const [vgA, vgB] = [hostA.vgs[0]!.name, hostB.vgs[0]!.name];
    const devA = `/dev/${vgA}/${lv}`;
    const devB = `/dev/${vgB}/${lv}`;
    try {
      await sshOk(hostA, ["lvcreate", "-q", "-y", "-L", "64M", "-n", lv, vgA]);
      await sshOk(hostB, ["lvcreate", "-q", "-y", "-L", "64M", "-n", lv, vgB]);
      await sshOk(hostA, [
        "dd",
        "if=/dev/urandom",
        `of=${devA}`,
        "bs=4M",
        "count=16",
        "oflag=direct",
        "status=none",
      ]);

      const lvs = JSON.parse(
        await sshOk(hostA, [
          "lvs",
          "--reportformat",
          "json",
          "--units",
          "b",
          "--nosuffix",
          "-o",
          "lv_name,lv_size",
          vgA,
        ]),
      ) as LvsReport;
      expect(lvs.report[0]!.lv).toContainEqual(
        expect.objectContaining({ lv_name: lv, lv_size: String(64 << 20) }),
      );

      // Guest to guest: host-a's dd piped into ssh to host-b's bridge address, host key verified
      // by host-a's known_hosts (made for this run).
      const started = Date.now();
      await sshOk(
        hostA,
        `dd if=${devA} bs=4M iflag=direct status=none | ` +
          `ssh -o BatchMode=yes -o StrictHostKeyChecking=yes root@${hostB.bridgeAddress} ` +
          `dd of=${devB} bs=4M iflag=fullblock oflag=direct status=none`,
        { timeoutMs: 240_000 },
      );
      const seconds = (Date.now() - started) / 1000;
      console.log(`64 MiB host-a -> host-b over the bridge: ${seconds.toFixed(1)} s`);

      const [sumA, sumB] = await Promise.all([
        sshOk(hostA, ["sha256sum", devA]),
        sshOk(hostB, ["sha256sum", devB]),
      ]);
      const hashA = sumA.split(/\s+/)[0]!;
      expect(hashA).toMatch(/^[0-9a-f]{64}$/);
      expect(sumB.split(/\s+/)[0]).toBe(hashA);
      // Random data, not an empty LV.
      expect(hashA).not.toBe(
        crypto
          .createHash("sha256")
          .update(Buffer.alloc(64 << 20))
          .digest("hex"),
      );
    } finally {
      await Promise.all([
        ssh(hostA, ["lvremove", "-q", "-y", `${vgA}/${lv}`]),
        ssh(hostB, ["lvremove", "-q", "-y", `${vgB}/${lv}`]),
      ]);
    }
    const after = await sshOk(hostA, ["lvs", "--noheadings", "-o", "lv_name", vgA]);
    expect(after).not.toContain(lv);
  });
});
