// Calibrates each expert's maskLogitOffset (manifest; packages/core/src/pipeline/maskLogitOffset.ts) on a split:
// for every candidate offset, the expert's cases (the modalities the manifest routes to it) are segmented with the
// real CLI and scored with `daft eval` at original resolution; the offset with the highest mean DSC + NSD wins
// (ties within 1e-4: the one closest to 0). Writes <out>/report.md (every offset's scores) and, with --write, the
// chosen offsets into <models>/manifest.json (atomically; 0 removes the field). The general expert is calibrated
// only when named in --experts: as the fallback it also serves inputs of no known modality.
//
// Usage: node scripts/calibrate_mask_offsets.mjs [--models models] [--cases data/cases] [--split val]
//          [--experts CT,Fundus,…] [--offsets -1,-0.5,0,0.5,1,1.5,2] [--out out/calibration] [--write]
import { execFileSync } from "node:child_process";
import {
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

// "--offsets -1,…" would read as an unknown option "-1,…" to parseArgs: join the list to its option
const args = process.argv.slice(2);
for (let i = 0; i < args.length - 1; i++)
  if (args[i] === "--offsets") args.splice(i, 2, `--offsets=${args[i + 1]}`);
const { values: o } = parseArgs({
  args,
  options: {
    models: { type: "string", default: "models" },
    cases: { type: "string", default: "data/cases" },
    split: { type: "string", default: "val" },
    experts: { type: "string" },
    offsets: { type: "string", default: "-1,-0.5,0,0.5,1,1.5,2" },
    out: { type: "string", default: "out/calibration" },
    write: { type: "boolean", default: false },
  },
});
const daft = resolve("packages/node/bin/daft.js");
const modelsDir = resolve(o.models);
const manifestPath = join(modelsDir, "manifest.json");
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const offsets = o.offsets.split(",").map(Number);
if (offsets.some((x) => !Number.isFinite(x) || Math.abs(x) > 10))
  throw new Error(`--offsets: numbers in [-10, 10], got ${o.offsets}`);

// cases.csv: name, dataset, modality, dimension, case, split, …
const casesByModality = new Map();
for (const line of readFileSync(join(o.cases, "cases.csv"), "utf8").trim().split("\n").slice(1)) {
  const [name, , modality, , , split] = line.split(",");
  if (split !== o.split) continue;
  if (!casesByModality.has(modality)) casesByModality.set(modality, []);
  casesByModality.get(modality).push(join(o.cases, split, "imgs", `${name}.npz`));
}
/** The expert the manifest gives a modality: the one listing it, else the fallback. */
const expertOf = (modality) =>
  manifest.experts.find((e) => e.modalities.includes(modality))?.name ?? manifest.fallback;
const servedBy = new Map();
for (const modality of [...casesByModality.keys()].sort()) {
  const e = expertOf(modality);
  if (!servedBy.has(e)) servedBy.set(e, []);
  servedBy.get(e).push(modality);
}
const chosenExperts = o.experts
  ? o.experts.split(",")
  : [...servedBy.keys()].filter((e) => e !== manifest.fallback);
for (const e of chosenExperts)
  if (!servedBy.has(e))
    throw new Error(`--experts: ${e} serves no modality with ${o.split} cases in ${o.cases}`);

mkdirSync(o.out, { recursive: true });
/** A models folder beside the real one: its files linked, the manifest with `offset` set on `expert`. */
function zooWith(expert, offset) {
  const dir = resolve(o.out, "zoo");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (const f of readdirSync(modelsDir))
    if (f !== "manifest.json") symlinkSync(join(modelsDir, f), join(dir, f));
  const m = structuredClone(manifest);
  const entry = m.experts.find((e) => e.name === expert);
  if (offset === 0) delete entry.maskLogitOffset;
  else entry.maskLogitOffset = offset;
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(m, null, 2));
  return dir;
}

const rows = [];
const chosen = new Map();
const started = Date.now();
let done = 0;
const total = chosenExperts.length * offsets.length;
for (const expert of chosenExperts) {
  const modalities = servedBy.get(expert);
  const inputs = modalities.flatMap((m) => casesByModality.get(m));
  let best;
  for (const offset of offsets) {
    const pred = resolve(o.out, `${expert}/${offset}`);
    rmSync(pred, { recursive: true, force: true });
    execFileSync(
      "node",
      [daft, "segment", ...inputs, "-o", pred, "--quiet", "--models", zooWith(expert, offset)],
      {
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    execFileSync(
      "node",
      [
        daft,
        "eval",
        "--pred",
        pred,
        "--gt",
        join(o.cases, o.split, "gts"),
        "--only-predicted",
        "-o",
        join(pred, "eval"),
      ],
      {
        stdio: "ignore",
      },
    );
    const summary = JSON.parse(readFileSync(join(pred, "eval", "summary.json"), "utf8")).summary
      .meanOverModalities;
    const score = summary.meanDsc + summary.meanNsd;
    rows.push({
      expert,
      modalities: modalities.join(" "),
      cases: inputs.length,
      offset,
      dsc: summary.meanDsc,
      nsd: summary.meanNsd,
    });
    const better =
      !best ||
      score > best.score + 1e-4 ||
      (Math.abs(score - best.score) <= 1e-4 && Math.abs(offset) < Math.abs(best.offset));
    if (better) best = { offset, score };
    done++;
    const eta = ((Date.now() - started) / done) * (total - done);
    process.stderr.write(
      `calibrate ${done}/${total} ${expert} offset ${offset}: DSC ${summary.meanDsc.toFixed(4)} NSD ${summary.meanNsd.toFixed(4)} (ETA ${Math.round(eta / 1000)} s)\n`,
    );
  }
  chosen.set(expert, best.offset);
}
rmSync(resolve(o.out, "zoo"), { recursive: true, force: true });

const report = [
  `Mask logit offsets on the ${o.split} split (${o.models}, scored at original resolution by \`daft eval\`); * = chosen (highest DSC + NSD)`,
  "",
  "| expert | modalities | cases | offset | DSC | NSD |",
  "|---|---|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.expert} | ${r.modalities} | ${r.cases} | ${r.offset}${chosen.get(r.expert) === r.offset ? " *" : ""} | ${r.dsc.toFixed(4)} | ${r.nsd.toFixed(4)} |`,
  ),
  "",
].join("\n");
writeFileSync(join(o.out, "report.md"), report);
process.stdout.write(report);

if (o.write) {
  for (const [expert, offset] of chosen) {
    const entry = manifest.experts.find((e) => e.name === expert);
    if (offset === 0) delete entry.maskLogitOffset;
    else entry.maskLogitOffset = offset;
  }
  const tmp = `${manifestPath}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(tmp, manifestPath);
  process.stderr.write(`wrote the offsets into ${manifestPath}\n`);
}
