/**
 * The cross-host volumes: files under the bench's temp dir, attached as loop devices with direct
 * I/O to their files (so this machine's page cache, which others share, neither helps nor fills),
 * or used as plain files when losetup is unavailable.
 */
import { randomFillSync } from "node:crypto";
import fs from "node:fs";

import type { CommandRunner } from "../drivers/exec";
import { MIB } from "./measure";

export type Pattern = "random" | "mixed";

const BLOCK = 4 * MIB;
const WORDS = (
  "volume migration cinder backend pool host snapshot attach detach retype status available " +
  "in-use error lvm thin extent segment checksum sha256 copy bytes offset rate progress worker " +
  "scheduler request response success failed timeout retry connection session device mapper"
).split(" ");

/** A small deterministic PRNG (mulberry32): the text is the same in every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** BLOCK bytes of log-like text: what compresses about as well as a typical file system's text. */
function textBlock(rand: () => number, into: Buffer): void {
  const lines: string[] = [];
  let len = 0;
  while (len < into.length) {
    const words = Array.from(
      { length: 4 + Math.floor(rand() * 8) },
      () => WORDS[Math.floor(rand() * WORDS.length)],
    );
    const ts = new Date(1_780_000_000_000 + Math.floor(rand() * 1e9)).toISOString();
    const line = `${ts} host-${Math.floor(rand() * 16)} vms[${Math.floor(rand() * 65536)}]: ${words.join(" ")} id=${Math.floor(rand() * 1e9).toString(16)}\n`;
    lines.push(line);
    len += line.length;
  }
  into.write(lines.join("").slice(0, into.length), "latin1");
}

/**
 * Writes SIZE bytes to FILE. random: all from the CSPRNG. mixed: per 4 MiB block, two random,
 * one text, one zeros (half random, half text and zeros, spread over the volume).
 */
export function writeVolumeFile(file: string, size: number, pattern: Pattern): void {
  const buf = Buffer.alloc(BLOCK);
  const rand = prng(42);
  const fd = fs.openSync(file, "w");
  try {
    for (let k = 0; k * BLOCK < size; k++) {
      const kind = pattern === "random" ? 0 : k % 4;
      if (kind <= 1) {
        randomFillSync(buf);
      } else if (kind === 2) {
        textBlock(rand, buf);
      } else {
        buf.fill(0);
      }
      fs.writeSync(fd, buf, 0, Math.min(BLOCK, size - k * BLOCK));
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export interface Volume {
  /** What the copy reads or writes: a loop device, or the file itself. */
  path: string;
  file: string;
  directIo: boolean;
  detach(): Promise<void>;
}

/** Attaches FILE as a loop device (direct I/O to the file), or falls back to the plain file. */
export async function attach(local: CommandRunner, file: string): Promise<Volume> {
  try {
    const { stdout } = await local.run(["losetup", "-f", "--show", "--direct-io=on", file]);
    const dev = stdout.trim();
    return {
      path: dev,
      file,
      directIo: true,
      async detach() {
        await local.run(["losetup", "-d", dev]);
      },
    };
  } catch {
    return { path: file, file, directIo: false, detach: async () => undefined };
  }
}

/** Forgets what this machine caches of VOL (its own device and file only; never a global drop). */
export async function forgetCache(local: CommandRunner, vol: Volume): Promise<void> {
  if (vol.path !== vol.file) {
    await local.run(["blockdev", "--flushbufs", vol.path]);
  }
  await local.run(["dd", `if=${vol.file}`, "iflag=nocache", "count=0", "status=none"]);
}

/** Makes VOL read zeros again (a fresh destination: a copy that writes nothing cannot pass). */
export async function zero(local: CommandRunner, vol: Volume, size: number): Promise<void> {
  if (vol.path !== vol.file) {
    await local.run(["blkdiscard", vol.path]);
  } else {
    await local.run(["fallocate", "--punch-hole", "--offset", "0", "--length", String(size), vol.file]);
  }
  await forgetCache(local, vol);
}
