/**
 * Copies from a real LVM thin LV read only the blocks its pool mapped (services/copy/thin.ts,
 * scripts/thinMap.py on the host): on one host (segment.py's copy) and between hosts (segment.py
 * reads, perl applies the records), each checked against sha256sum of the whole LV on the guest,
 * and the destination left thin.
 */
import { RunnerFactory } from "../../drivers/exec";
import type { SshRunnerSpec } from "../../drivers/exec/types";
import type { CopyEndpoint } from "../../drivers/types";
import { CopyEngine } from "../../services/copy/engine";
import { thinMap } from "../../services/copy/thin";
import { RecordingRunners } from "../helpers/recordingRunners";
import { type LabHost, labHost, loadLab, ssh, sshOk } from "./lab";

const lab = loadLab();
const hostA = labHost(lab, "host-a");
const hostB = labHost(lab, "host-b");
const MiB = 1024 * 1024;
const SIZE = 128 * MiB;
const SEG = 64 * MiB;
/** The 1 MiB blocks written with random data; 100 is written with zeros (mapped, yet no data). */
const BLOCKS = [0, 1, 2, 17, 40, 63, 64, 90, 127];
const ZERO_BLOCK = 100;
const tag = `tc${process.pid}`;

const spec = (h: LabHost): SshRunnerSpec => ({
  kind: "ssh",
  host: h.sshHost,
  port: h.sshPort,
  username: h.sshUser,
  privateKeyPath: h.privateKey,
  knownHostsFile: h.knownHosts,
});

/** A thin LV as the LVM driver describes it: it reads zeros where nothing was written. */
const thinEndpoint = (h: LabHost, path: string): CopyEndpoint => ({
  runner: spec(h),
  path,
  sizeBytes: SIZE,
  directIo: true,
  sparseTarget: true,
  thinLv: true,
});

const pools: [LabHost, string][] = [
  [hostA, hostA.vgs[0]!.name],
  [hostA, hostA.vgs[1]!.name],
  [hostB, hostB.vgs[0]!.name],
];

async function thinLv(host: LabHost, vg: string, name: string): Promise<string> {
  await sshOk(host, ["lvcreate", "-q", "-y", "-V", `${SIZE}b`, "--thin", "-n", name, `${vg}/${tag}-pool`]);
  return `/dev/${vg}/${name}`;
}

const sha256Of = async (host: LabHost, dev: string): Promise<string> =>
  (await sshOk(host, ["sha256sum", dev])).split(/\s+/)[0]!;

/** The LV's data_percent as lvs reports it (share of the LV its pool mapped). */
const dataPercent = async (host: LabHost, dev: string): Promise<number> =>
  Number((await sshOk(host, ["lvs", "--noheadings", "-o", "data_percent", dev])).trim());

let source: string;
let sourceSha: string;

beforeAll(async () => {
  for (const [host, vg] of pools) {
    await sshOk(host, ["lvcreate", "-q", "-y", "--type", "thin-pool", "-L", "192M", "-n", `${tag}-pool`, vg]);
  }
  source = await thinLv(hostA, hostA.vgs[0]!.name, `${tag}-src`);
  const writes = BLOCKS.map(
    (b) => `dd if=/dev/urandom of=${source} bs=1M seek=${b} count=1 oflag=direct conv=notrunc status=none`,
  );
  writes.push(
    `dd if=/dev/zero of=${source} bs=1M seek=${ZERO_BLOCK} count=1 oflag=direct conv=notrunc status=none`,
  );
  await sshOk(hostA, writes.join(" && "));
  sourceSha = await sha256Of(hostA, source);
}, 300_000);

afterAll(async () => {
  for (const [host, vg] of pools) {
    await ssh(host, ["lvremove", "-q", "-y", "-f", `${vg}/${tag}-pool`]);
  }
}, 300_000);

test("the pool's map is the written blocks, the zero-written one included", async () => {
  const runners = new RunnerFactory();
  try {
    const map = await thinMap(runners.get(spec(hostA)), "python3", source, { offset: 0, length: SIZE });
    const mapped = [...BLOCKS, ZERO_BLOCK].sort((a, b) => a - b);
    // Adjacent blocks come back as one range.
    const expected: { offset: number; length: number }[] = [];
    for (const b of mapped) {
      const last = expected.at(-1);
      if (last && last.offset + last.length === b * MiB) {
        last.length += MiB;
      } else {
        expected.push({ offset: b * MiB, length: MiB });
      }
    }
    expect(map).toEqual(expected);
    // Clipped to a range that starts and ends inside mapped blocks.
    const part = await thinMap(runners.get(spec(hostA)), "python3", source, {
      offset: 1.5 * MiB,
      length: 16 * MiB,
    });
    expect(part).toEqual([
      { offset: 1.5 * MiB, length: 1.5 * MiB },
      { offset: 17 * MiB, length: 0.5 * MiB },
    ]);
    // A thick LV has no map: the engine then reads every byte.
    const thick = `${tag}-thick`;
    await sshOk(hostA, ["lvcreate", "-q", "-y", "-L", "8M", "-n", thick, hostA.vgs[0]!.name]);
    try {
      await expect(
        thinMap(runners.get(spec(hostA)), "python3", `/dev/${hostA.vgs[0]!.name}/${thick}`, {
          offset: 0,
          length: 8 * MiB,
        }),
      ).rejects.toThrow(/is not a thin LV/);
    } finally {
      await ssh(hostA, ["lvremove", "-q", "-y", `${hostA.vgs[0]!.name}/${thick}`]);
    }
  } finally {
    await runners.close();
  }
});

test.each([
  {
    name: "one host",
    dest: [hostA, hostA.vgs[1]!.name] as const,
    transport: "local",
    reader: "python3 copy",
  },
  {
    name: "host-a to host-b",
    dest: [hostB, hostB.vgs[0]!.name] as const,
    transport: "relay",
    reader: "python3 read",
  },
])(
  "$name: only mapped blocks are read, the copy is whole and stays thin",
  async ({ dest, transport, reader }) => {
    const [host, vg] = dest;
    const target = await thinLv(host, vg, `${tag}-dst-${transport}`);
    const runners = new RecordingRunners();
    try {
      const result = await new CopyEngine({ runners, segmentBytes: SEG }).copy({
        source: thinEndpoint(hostA, source),
        dest: thinEndpoint(host, target),
        sizeBytes: SIZE,
        blockSize: "4M",
        compression: "none",
      });
      expect(result.transport).toBe(transport);
      expect(await sha256Of(host, target)).toBe(sourceSha);
      // Both hosts hashed the same extents records (the data chunks; the zero block left out).
      expect(result.destSha256).toBe(result.sourceSha256);
      expect(runners.labels(true)).toContain(`python3 thin-map ${SIZE}`);
      expect(runners.labels(true)).toContainEqual(expect.stringMatching(new RegExp(`^${reader} stdin$`)));
      // The read-back used the destination's own map.
      expect(runners.labels(true).filter((s) => s === "python3 readback stdin")).toHaveLength(SIZE / SEG);
      // Nine data MiB written (not the zero block): about 7% of 128 MiB.
      const percent = await dataPercent(host, target);
      expect(percent).toBeGreaterThan(6.5);
      expect(percent).toBeLessThan(7.5);
    } finally {
      await runners.close();
    }
  },
);

test("one host: a limit set once the copy runs reaches the mapped writer too (map, then limit lines)", async () => {
  const [host, vg] = [hostA, hostA.vgs[1]!.name];
  const target = await thinLv(host, vg, `${tag}-dst-paced`);
  const runners = new RecordingRunners();
  try {
    // No limit while the copy is planned (so it reads the map, one host); 2 MiB/s once its first
    // writer runs, as an evacuation's cap set mid-copy would.
    const writing = (): boolean => runners.labels().includes("python3 copy");
    const started = Date.now();
    const result = await new CopyEngine({ runners, segmentBytes: SEG }).copy({
      source: thinEndpoint(host, source),
      dest: thinEndpoint(host, target),
      sizeBytes: SIZE,
      blockSize: "4M",
      compression: "none",
      bpsLimit: () => (writing() ? 2 * MiB : null),
    });
    const seconds = (Date.now() - started) / 1000;
    expect(result.transport).toBe("local");
    expect(runners.labels(true)).toContain(`python3 thin-map ${SIZE}`);
    expect(runners.calls.filter((argv) => argv.includes("copy") && argv.includes("--paced"))).toHaveLength(
      SIZE / SEG,
    );
    expect(await sha256Of(host, target)).toBe(sourceSha);
    // Nine data MiB written (the zero block is read, not written) at 2 MiB/s: 4.5 s at least;
    // unpaced, about 1 s.
    expect(seconds).toBeGreaterThan(4);
  } finally {
    await runners.close();
  }
});
