// Two policies (e.g. general vs DAFT) over several training seeds, from `daft eval` summaries:
//   node scripts/seeds_table.mjs OUT A B RUN...
// reads OUT/<RUN>/<A|B>/eval/summary.json for every RUN (one RUN per seed, all on the same test cases) and prints,
// per modality and for the mean over modalities, each policy's mean ± sample standard deviation over the seeds,
// the paired difference B − A (mean ± sd of the per-seed differences) and in how many seeds B beat A.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const [out, a, b, ...runs] = process.argv.slice(2);
if (!out || !a || !b || runs.length < 2) {
  console.error("usage: node scripts/seeds_table.mjs OUT A B RUN RUN [RUN...]   (at least two seeds)");
  process.exit(2);
}

const load = (run, policy) => {
  const file = join(out, run, policy, "eval", "summary.json");
  try {
    return JSON.parse(readFileSync(file, "utf8")).summary;
  } catch (error) {
    console.error(`${file}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
};
const summaries = Object.fromEntries([a, b].map((p) => [p, runs.map((r) => load(r, p))]));
const modalities = summaries[a][0].modalities.map((m) => m.modality);
const row = (summary, modality) => {
  const found =
    modality === "all" ? summary.meanOverModalities : summary.modalities.find((m) => m.modality === modality);
  if (!found) {
    console.error(`${modality}: missing from one of the summaries (different test cases?)`);
    process.exit(1);
  }
  return found;
};
const cases = (modality) =>
  modality === "all" ? summaries[a][0].overall.cases : row(summaries[a][0], modality).cases;
for (const policy of [a, b])
  for (const [i, summary] of summaries[policy].entries())
    for (const m of modalities)
      if (row(summary, m).cases !== cases(m)) {
        console.error(`${runs[i]}/${policy}: ${m} has ${row(summary, m).cases} cases, not ${cases(m)}`);
        process.exit(1);
      }

const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs) => Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const f = (v) => v.toFixed(3);
const signed = (v) => (v >= 0 ? "+" : "−") + Math.abs(v).toFixed(3);
const values = (policy, modality, key) => summaries[policy].map((s) => row(s, modality)[key]);

const table = (key, label) => {
  const lines = [
    `${label}: mean ± sd over ${runs.length} seeds (${runs.join(", ")})`,
    "",
    `| modality | cases | ${a} | ${b} | ${b} − ${a} (paired) | ${b} better |`,
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const m of [...modalities, "all"]) {
    const va = values(a, m, key);
    const vb = values(b, m, key);
    const diff = vb.map((v, i) => v - va[i]);
    const name = m === "all" ? "**mean over modalities**" : m;
    lines.push(
      `| ${name} | ${cases(m)} | ${f(mean(va))} ± ${f(sd(va))} | ${f(mean(vb))} ± ${f(sd(vb))} | ` +
        `${signed(mean(diff))} ± ${f(sd(diff))} | ${diff.filter((d) => d > 0).length}/${runs.length} |`,
    );
  }
  return lines.join("\n");
};

console.log(table("meanDsc", "DSC"));
console.log("");
console.log(table("meanNsd", "NSD"));
