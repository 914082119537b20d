/** Plain output of the read commands: `--json` prints the API's body, else a table or key: value lines. */

export function printJson(data: unknown): void {
  process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
}

/** Columns padded to their widest cell, header first. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  process.stdout.write([line(header), ...rows.map(line)].map((l) => `${l}\n`).join(""));
}

/** `key: value` lines, keys aligned. */
export function printFields(fields: [string, string][]): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  process.stdout.write(fields.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}\n`).join(""));
}

export function text(v: unknown): string {
  if (v === null || v === undefined) {
    return "-";
  }
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}
