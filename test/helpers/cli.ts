/**
 * Drives the real, unmodified OpenStack clients (Debian's python3-cinderclient and
 * python3-openstackclient) against a running service.
 */
import { execFile } from "node:child_process";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `cinder` with noauth against `endpoint` (…/v3), as user `user` in project `project`. */
export function cinder(
  endpoint: string,
  args: string[],
  who: { user?: string; project?: string } = {},
): Promise<CliResult> {
  return run("cinder", [
    "--os-auth-type",
    "noauth",
    "--os-endpoint",
    endpoint,
    "--os-user-id",
    who.user ?? "admin",
    "--os-project-id",
    who.project ?? "demo",
    ...args,
  ]);
}

/** Parses cinderclient's `| Property | Value |` table into a record. */
export function parseTable(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const m = /^\|\s*(\S[^|]*?)\s*\|\s*(.*?)\s*\|$/.exec(line);
    if (m && m[1] !== "Property") {
      out[m[1]!] = m[2]!;
    }
  }
  return out;
}

/** Every `name` value of the `| Property | Value |` tables cinderclient prints one per item (get-pools). */
export function tableValues(stdout: string, key: string): string[] {
  return stdout
    .split("\n")
    .map((l) => new RegExp(`^\\|\\s*${key}\\s*\\|\\s*(.*?)\\s*\\|$`).exec(l)?.[1])
    .filter((v): v is string => v !== undefined);
}

/** Rows of a cinderclient list table (`| a | b |`), header row first. */
export function parseRows(stdout: string): string[][] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("|"))
    .map((l) =>
      l
        .slice(1, -1)
        .split("|")
        .map((c) => c.trim()),
    );
}
