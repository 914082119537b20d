/**
 * Progress on the terminal: cli-progress bars (one per key) when stdout is a TTY, else plain lines
 * written when a state changes, every 5 % or every 10 s, so that logs stay readable.
 */
import { MultiBar, Presets, type SingleBar } from "cli-progress";

export interface Figures {
  label: string;
  state: string;
  percent: number | null;
  rateBps: number | null;
  etaSeconds: number | null;
}

export function formatRate(bps: number | null): string {
  return bps === null ? "-" : `${(bps / 1e6).toFixed(1)} MB/s`;
}

export function formatEta(s: number | null): string {
  if (s === null) {
    return "-";
  }
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return h > 0
    ? `${h}h${String(m).padStart(2, "0")}m`
    : m > 0
      ? `${m}m${String(sec).padStart(2, "0")}s`
      : `${sec}s`;
}

export function formatPercent(p: number | null): string {
  return p === null ? "-" : `${p.toFixed(1)}%`;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) {
    return "-";
  }
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export interface ProgressView {
  update(key: string, f: Figures): void;
  /** A key no longer shown (its bar goes; a line view forgets it). */
  remove(key: string): void;
  /** A line above the bars (or a plain line). */
  log(line: string): void;
  /** While held (a question is asked), updates are kept and drawn once released. */
  hold(held: boolean): void;
  /** Stops drawing (the bars stay as last drawn). */
  stop(): void;
}

function payload(f: Figures): Record<string, string> {
  return {
    what: f.label,
    status: f.state.padEnd(10),
    pct: formatPercent(f.percent).padStart(6),
    speed: formatRate(f.rateBps).padStart(11),
    remaining: formatEta(f.etaSeconds).padStart(6),
  };
}

class BarView implements ProgressView {
  private multi: MultiBar | undefined;
  private readonly bars = new Map<string, SingleBar>();
  private held = false;
  private readonly pending = new Map<string, Figures>();

  constructor(private readonly stream: NodeJS.WriteStream) {}

  hold(held: boolean): void {
    this.held = held;
    if (held) {
      this.stop();
      return;
    }
    for (const [key, f] of this.pending) {
      this.update(key, f);
    }
    this.pending.clear();
  }

  private ensure(): MultiBar {
    this.multi ??= new MultiBar(
      {
        stream: this.stream,
        // Not cli-progress's own tokens (eta, percentage…): these are the service's figures.
        format: "{bar} {pct} {speed} ETA {remaining} {status} {what}",
        barsize: 20,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
      },
      Presets.shades_classic,
    );
    return this.multi;
  }

  update(key: string, f: Figures): void {
    if (this.held) {
      this.pending.set(key, f);
      return;
    }
    const multi = this.ensure();
    const value = f.percent ?? 0;
    const bar = this.bars.get(key);
    if (bar) {
      bar.update(value, payload(f));
    } else {
      this.bars.set(key, multi.create(100, value, payload(f)));
    }
  }

  remove(key: string): void {
    this.pending.delete(key);
    const bar = this.bars.get(key);
    if (bar && this.multi) {
      this.multi.remove(bar);
    }
    this.bars.delete(key);
  }

  log(line: string): void {
    if (this.held) {
      return;
    }
    if (this.multi) {
      this.multi.log(`${line}\n`);
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  stop(): void {
    this.multi?.stop();
    this.multi = undefined;
    this.bars.clear();
  }
}

class LineView implements ProgressView {
  private readonly last = new Map<string, { state: string; percent: number; at: number }>();

  constructor(private readonly write: (line: string) => void) {}

  update(key: string, f: Figures): void {
    const prev = this.last.get(key);
    const percent = f.percent ?? 0;
    const now = Date.now();
    if (prev && prev.state === f.state && percent - prev.percent < 5 && now - prev.at < 10_000) {
      return;
    }
    this.last.set(key, { state: f.state, percent, at: now });
    this.write(
      `${f.label}: ${f.state} ${formatPercent(f.percent)} ${formatRate(f.rateBps)} ETA ${formatEta(f.etaSeconds)}`,
    );
  }

  remove(key: string): void {
    this.last.delete(key);
  }

  log(line: string): void {
    this.write(line);
  }

  hold(): void {}

  stop(): void {}
}

/** Bars on a TTY stdout, else plain lines. */
export function progressView(stdout: NodeJS.WriteStream = process.stdout): ProgressView {
  return stdout.isTTY ? new BarView(stdout) : new LineView((line) => stdout.write(`${line}\n`));
}
