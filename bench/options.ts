import { parseArgs } from "node:util";

/** The measurements a run can be limited to (`--only`, for development). */
export const PARTS = ["host", "dense", "sparse", "xhost"] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  /** Volume size asked for; a smaller one is used when the disks lack room (the output says so). */
  sizeMib: number;
  /** Runs per measurement; the figures are medians. */
  repeat: number;
  json: string | null;
  parts: ReadonlySet<Part>;
  /** Class name of the copier to use when services/copy has several. */
  engine: string | null;
  /** Segments in flight per copy (the engine's `parallel`, volume_copy_streams); null: default. */
  streams: number | null;
  /** `--evacuation`: issue 11's evacuation figures instead of the copy engine's (evacuation.ts). */
  evacuation: boolean;
  evacuationVolumes: number;
}

export const USAGE = `npm run bench -- [--size-mib N] [--repeat N] [--json FILE] [--quick]
                    [--only host,dense,sparse,xhost] [--engine ClassName] [--streams N]
       npm run bench -- --evacuation [--evacuation-volumes N] [--json FILE]
  --size-mib N   volume size (default 1024; smaller when the lab VGs or /tmp lack room)
  --repeat N     runs per measurement, the median is reported (default 3)
  --json FILE    also write the figures as JSON
  --quick        128 MiB and 1 run (development)
  --only LIST    measure only these parts (host: raw files on this machine; dense, sparse: the
                 lab's LVs; xhost: between two loopback sshd)
  --engine NAME  the VolumeCopier class of services/copy to use (default: found by name)
  --streams N    segments in flight per copy (volume_copy_streams; default: the engine's, 2)
  --evacuation   instead: plan and run the evacuation of N volumes on the embedded default
  --evacuation-volumes N  volumes to evacuate (default 1000)`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      "size-mib": { type: "string" },
      repeat: { type: "string" },
      json: { type: "string" },
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      engine: { type: "string" },
      streams: { type: "string" },
      evacuation: { type: "boolean", default: false },
      "evacuation-volumes": { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const sizeMib = positiveInt(values["size-mib"], values.quick ? 128 : 1024, "--size-mib");
  if (sizeMib % 4 !== 0) {
    throw new Error("--size-mib must be a multiple of 4 (LVM extents and 4 MiB dd blocks)");
  }
  const parts = new Set<Part>();
  for (const p of (values.only ?? PARTS.join(",")).split(",")) {
    if (!(PARTS as readonly string[]).includes(p)) {
      throw new Error(`--only: unknown part ${JSON.stringify(p)} (known: ${PARTS.join(", ")})`);
    }
    parts.add(p as Part);
  }
  return {
    sizeMib,
    repeat: positiveInt(values.repeat, values.quick ? 1 : 3, "--repeat"),
    json: values.json ?? null,
    parts,
    engine: values.engine ?? null,
    streams: values.streams === undefined ? null : positiveInt(values.streams, 2, "--streams"),
    evacuation: values.evacuation,
    evacuationVolumes: positiveInt(values["evacuation-volumes"], 1000, "--evacuation-volumes"),
  };
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) {
    return fallback;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new Error(`${name} wants a positive integer, got ${JSON.stringify(value)}`);
  }
  return n;
}
