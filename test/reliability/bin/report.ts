/** Prints the tier's figures as one table and writes them as JSON (test/reliability/.results). */
import fs from "node:fs";
import path from "node:path";

import { type Figure, FIGURES_FILE, RESULTS_DIR } from "../figures";

const figures: Figure[] = fs.existsSync(FIGURES_FILE)
  ? fs
      .readFileSync(FIGURES_FILE, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as Figure)
  : [];
fs.writeFileSync(path.join(RESULTS_DIR, "figures.json"), `${JSON.stringify(figures, null, 2)}\n`);

const rows = figures.map((f) => [f.section, f.name, String(f.value), f.note ?? ""]);
const head = ["section", "figure", "value", "note"];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]): string =>
  r
    .map((c, i) => c.padEnd(widths[i]!))
    .join("  ")
    .trimEnd();
console.log("\nreliability tier figures");
console.log(line(head));
console.log(line(widths.map((w) => "-".repeat(w))));
for (const r of rows) {
  console.log(line(r));
}
if (figures.length === 0) {
  console.log("(no figures recorded)");
}
