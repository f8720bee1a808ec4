// Where `daft segment` sent each test case, by modality (from the challenge file name) × expert, from a timings.csv:
//   node scripts/routing_table.mjs <out>/<run>/timings.csv
import { readFileSync } from "node:fs";

const [path] = process.argv.slice(2);
if (!path) {
  console.error("usage: node scripts/routing_table.mjs <timings.csv>");
  process.exit(2);
}
const [header, ...rows] = readFileSync(path, "utf8").trim().split("\n");
const column = Object.fromEntries(header.split(",").map((name, i) => [name, i]));
const counts = new Map(); // modality → expert → cases
const experts = new Set();
const rules = new Map();
for (const line of rows) {
  const cells = line.split(",");
  const modality = /^(?:2D|3D)Box_([^_]+)_/.exec(cells[column.case])?.[1] ?? "unknown";
  const expert = cells[column.expert];
  experts.add(expert);
  const row = counts.get(modality) ?? new Map();
  row.set(expert, (row.get(expert) ?? 0) + 1);
  counts.set(modality, row);
  rules.set(cells[column.route], (rules.get(cells[column.route]) ?? 0) + 1);
}
const names = [...experts].sort((a, b) => (a === "general" ? -1 : b === "general" ? 1 : a.localeCompare(b)));
const lines = [
  "",
  `Test cases by modality (rows) and the expert they were routed to (columns); rules: ${[...rules]
    .map(([rule, n]) => `${rule} ${n}`)
    .join(", ")}.`,
  "",
  `| modality | ${names.join(" | ")} |`,
  `|---|${names.map(() => "---:").join("|")}|`,
];
for (const [modality, row] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
  lines.push(`| ${modality} | ${names.map((e) => row.get(e) ?? "").join(" | ")} |`);
}
console.log(lines.join("\n"));
