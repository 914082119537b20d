import { execFileSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import {
  hostMatches,
  keyTypeOf,
  knownHostsCheck,
  parseKnownHosts,
  PinnedHostKey,
  sha256Fingerprint,
} from "../../drivers/exec/hostKeys";
import { SshConnectError } from "../../drivers/exec/types";

let dir: string;
const pub: Record<string, { line: string; blob: Buffer }> = {};
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "vms-hostkeys-"));
  for (const [name, args] of [
    ["ed", ["-t", "ed25519"]],
    ["ed2", ["-t", "ed25519"]],
    ["ec", ["-t", "ecdsa", "-b", "256"]],
  ] as const) {
    execFileSync("ssh-keygen", ["-q", ...args, "-N", "", "-f", path.join(dir, name)]);
    const line = fs.readFileSync(path.join(dir, `${name}.pub`), "utf8").trim();
    pub[name] = { line, blob: Buffer.from(line.split(" ")[1]!, "base64") };
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const typeAndKey = (name: string): string => pub[name]!.line.split(" ").slice(0, 2).join(" ");

test("fingerprints match ssh-keygen -lf and key blobs name their type", () => {
  for (const name of ["ed", "ec"]) {
    const printed = execFileSync("ssh-keygen", ["-lf", path.join(dir, `${name}.pub`)], { encoding: "utf8" });
    expect(sha256Fingerprint(pub[name]!.blob)).toBe(printed.split(" ")[1]);
  }
  expect(keyTypeOf(pub["ed"]!.blob)).toBe("ssh-ed25519");
  expect(keyTypeOf(pub["ec"]!.blob)).toBe("ecdsa-sha2-nistp256");
  expect(keyTypeOf(Buffer.from([0, 0]))).toBeNull();
});

test("parses plain, bracketed and marked lines; skips comments and corrupt lines", () => {
  const text = [
    "# comment",
    "",
    `host1,10.0.0.1 ${typeAndKey("ed")} root@x`,
    `[host2]:2222 ${typeAndKey("ec")}`,
    `@revoked * ${typeAndKey("ed2")}`,
    `bad ssh-rsa ${pub["ed"]!.line.split(" ")[1]}`, // type and blob disagree
    "short line",
    `also-bad ssh-ed25519 not*base64`,
  ].join("\n");
  const entries = parseKnownHosts(text);
  expect(entries.map((e) => [e.marker, e.hosts, e.keyType])).toEqual([
    [null, "host1,10.0.0.1", "ssh-ed25519"],
    [null, "[host2]:2222", "ecdsa-sha2-nistp256"],
    ["revoked", "*", "ssh-ed25519"],
  ]);
  expect(entries[0]!.key.equals(pub["ed"]!.blob)).toBe(true);
});

test("host patterns: port 22 plain, other ports bracketed, wildcards, negation, hashed names", () => {
  expect(hostMatches("host1,10.0.0.1", "10.0.0.1", 22)).toBe(true);
  expect(hostMatches("host1", "host1", 2222)).toBe(false);
  expect(hostMatches("[host1]:2222", "host1", 2222)).toBe(true);
  expect(hostMatches("[host1]:2222", "host1", 22)).toBe(false);
  expect(hostMatches("HOST1", "host1", 22)).toBe(true);
  expect(hostMatches("*.example.org", "st1.example.org", 22)).toBe(true);
  expect(hostMatches("*.example.org", "st1.example.org.evil", 22)).toBe(false);
  expect(hostMatches("st?", "st1", 22)).toBe(true);
  expect(hostMatches("*.example.org,!bad.example.org", "bad.example.org", 22)).toBe(false);
  expect(hostMatches("a.b", "axb", 22)).toBe(false);

  const salt = randomBytes(20);
  const hashed = (name: string): string =>
    `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
  expect(hostMatches(hashed("[10.0.0.5]:2222"), "10.0.0.5", 2222)).toBe(true);
  expect(hostMatches(hashed("10.0.0.5"), "10.0.0.5", 22)).toBe(true);
  expect(hostMatches(hashed("10.0.0.5"), "10.0.0.6", 22)).toBe(false);
});

test("a known_hosts check accepts the listed keys only, offers their types, and honours @revoked", async () => {
  const file = path.join(dir, "known_hosts");
  fs.writeFileSync(file, `[st1]:2222 ${typeAndKey("ec")}\nother ${typeAndKey("ed")}\n`);
  const check = await knownHostsCheck(file, "st1", 2222);
  expect(check.algorithms()).toEqual(["ecdsa-sha2-nistp256"]);
  expect(check.verify(pub["ec"]!.blob)).toBe(true);
  expect(check.verify(pub["ed"]!.blob)).toBe(false);
  expect(check.mayMatchOtherAlgorithm()).toBe(false);

  fs.appendFileSync(file, `@revoked * ${typeAndKey("ec")}\n`);
  expect((await knownHostsCheck(file, "st1", 2222)).verify(pub["ec"]!.blob)).toBe(false);
});

test("a known_hosts file without the host, or unreadable, is refused as such", async () => {
  const file = path.join(dir, "known_hosts_other");
  fs.writeFileSync(file, `st1 ${typeAndKey("ed")}\n`);
  await expect(knownHostsCheck(file, "st1", 2222)).rejects.toMatchObject({
    failure: "host-key",
    message: expect.stringContaining("no usable host key for [st1]:2222"),
  });
  await expect(knownHostsCheck(path.join(dir, "missing"), "st1", 22)).rejects.toBeInstanceOf(SshConnectError);
});

test("a pinned fingerprint is matched across key types: a refused type is left out next time", () => {
  expect(() => new PinnedHostKey("SHA256:short")).toThrow(TypeError);
  const pin = new PinnedHostKey(sha256Fingerprint(pub["ec"]!.blob));
  expect(pin.algorithms()[0]).toBe("ssh-ed25519");
  expect(pin.verify(pub["ed"]!.blob)).toBe(false);
  expect(pin.mayMatchOtherAlgorithm()).toBe(true);
  expect(pin.algorithms()).not.toContain("ssh-ed25519");
  expect(pin.verify(pub["ec"]!.blob)).toBe(true);
  // Another ED25519 key with the pinned fingerprint cannot exist; a forged one is still refused.
  expect(pin.verify(pub["ed2"]!.blob)).toBe(false);
});
