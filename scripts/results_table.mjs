// Builds the README results table from `daft eval` summaries: node scripts/results_table.mjs <out> <run>...
// (SPLIT=validation names another split than the test split in the caption.)
import { readFileSync } from "node:fs";
import { join } from "node:path";

const [out, ...runs] = process.argv.slice(2);
const load = (run) => JSON.parse(readFileSync(join(out, run, "eval", "summary.json"), "utf8")).summary;
const timings = (run) => {
  const rows = readFileSync(join(out, run, "timings.csv"), "utf8")
    .trim()
    .split("\n");
  const header = rows[0].split(",");
  const total = header.indexOf("total_ms");
  const modality = header.indexOf("case");
  const byModality = new Map();
  for (const line of rows.slice(1)) {
    const cells = line.split(",");
    const m = /^(?:2D|3D)Box_([^_]+)_/.exec(cells[modality])?.[1] ?? "unknown";
    byModality.set(m, [...(byModality.get(m) ?? []), Number(cells[total])]);
    byModality.set("all", [...(byModality.get("all") ?? []), Number(cells[total])]);
  }
  return byModality;
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summaries = Object.fromEntries(runs.map((r) => [r, load(r)]));
const modalities = summaries[runs[0]].modalities.map((m) => m.modality);
const f = (v) => (Number.isFinite(v) ? v.toFixed(3) : "–");
const cell = (s, m) => {
  const row = m === "all" ? s.meanOverModalities : s.modalities.find((x) => x.modality === m);
  return row ? `${f(row.meanDsc)} / ${f(row.meanNsd)}` : "–";
};
const last = runs.find((r) => r === "selected") ?? runs[runs.length - 1];
const t = timings(last);
const lines = [
  `| modality | cases | ${runs.join(" | ")} | median s/case (${last}) |`,
  `|---|---:|${runs.map(() => "---:").join("|")}|---:|`,
];
for (const m of modalities) {
  const n = summaries[runs[0]].modalities.find((x) => x.modality === m).cases;
  lines.push(
    `| ${m} | ${n} | ${runs.map((r) => cell(summaries[r], m)).join(" | ")} | ${f(median(t.get(m) ?? []) / 1000)} |`,
  );
}
lines.push(
  `| **mean over modalities** | ${summaries[runs[0]].overall.cases} | ${runs.map((r) => `**${cell(summaries[r], "all")}**`).join(" | ")} | ${f(median(t.get("all") ?? []) / 1000)} |`,
);
console.log(
  `Cells: mean DSC / mean NSD on the ${process.env.SPLIT ?? "test"} split (\`daft eval\`: NSD 2 mm in 3D, 2 px contour in 2D).\n`,
);
console.log(lines.join("\n"));
