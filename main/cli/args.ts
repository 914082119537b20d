/** Parsers of command-line values (commander's argParser): a bad value is a usage error. */
import { InvalidArgumentError } from "commander";

const MiB = 1024 * 1024;

/** A positive MiB/s figure. */
export function parseMib(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError("a positive number of MiB/s");
  }
  return n;
}

/** MiB/s to bytes/s, as the migrations API takes them. */
export function mibToBps(mib: number): number {
  return Math.round(mib * MiB);
}

/** `null`, `0` or `default` (the backend's own limit), else a positive MiB/s figure. */
export function parseLimit(value: string): number | null {
  return ["null", "0", "default", "none"].includes(value.trim().toLowerCase()) ? null : parseMib(value);
}

/** A positive integer (caps). */
export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError("a positive integer");
  }
  return n;
}

/** Repeatable option: each occurrence appended. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** An integer ≥ 0 (retries). */
export function parseCountOrZero(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 0) {
    throw new InvalidArgumentError("an integer, 0 or more");
  }
  return n;
}
