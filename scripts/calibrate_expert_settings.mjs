// Calibrates one inference setting per expert on a split (validation), in the manifest:
//   offset: maskLogitOffset (packages/core/src/pipeline/maskLogitOffset.ts), a constant added to the mask logits;
//   edges:  edgeRefinement (packages/core/src/pipeline/edgeRefinement.ts), the guided filter onto image edges.
// For every candidate value, the expert's cases (the modalities the manifest routes to it) are segmented with the
// real CLI and scored with `daft eval` at original resolution; the value with the highest mean DSC + NSD wins
// (ties within 1e-4: the neutral value — offset closest to 0, edges off — else the earlier one). Writes
// <out>/report.md (every value's scores) and, with --write, the chosen values into <models>/manifest.json
// (atomically; the neutral value removes the field). The general expert is calibrated only when named in --experts:
// as the fallback it also serves inputs of no known modality.
//
// Usage: node scripts/calibrate_expert_settings.mjs [--setting offset|edges] [--models models] [--cases data/cases]
//          [--split val] [--experts CT,Fundus,…] [--values "<v> <v> …"] [--out out/calibration] [--write]
//   offset values: numbers (default "-1 -0.5 0 0.5 1 1.5 2"; --offsets -1,-0.5,… is the same list);
//   edges values: off or <radius>,<eps> (default "off 2,0.0001 2,0.001 3,0.001 4,0.001 6,0.001")
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
import { parseEdgeRefinement } from "@daft/core";

/** How each setting is read, written into a manifest entry, shown, and which value is neutral. */
const SETTINGS = {
  offset: {
    field: "maskLogitOffset",
    defaults: "-1 -0.5 0 0.5 1 1.5 2",
    parse(text) {
      const x = Number(text);
      if (text.trim() === "" || !Number.isFinite(x) || Math.abs(x) > 10)
        throw new Error(`offset values: numbers in [-10, 10], got ${text}`);
      return x;
    },
    value: (x) => (x === 0 ? undefined : x),
    /** Distance from neutral, for ties. */
    distance: (x) => Math.abs(x),
    show: (x) => String(x),
  },
  edges: {
    field: "edgeRefinement",
    defaults: "off 2,0.0001 2,0.001 3,0.001 4,0.001 6,0.001",
    parse: (text) => parseEdgeRefinement(text),
    value: (x) => x ?? undefined,
    distance: (x) => (x === null ? 0 : 1),
    show: (x) => (x === null ? "off" : `${x.radius},${x.eps}`),
  },
};

// "--offsets -1,…" would read as an unknown option "-1,…" to parseArgs: join the list to its option
const args = process.argv.slice(2);
for (let i = 0; i < args.length - 1; i++)
  if (args[i] === "--offsets" || args[i] === "--values") args.splice(i, 2, `${args[i]}=${args[i + 1]}`);
const { values: o } = parseArgs({
  args,
  options: {
    setting: { type: "string", default: "offset" },
    models: { type: "string", default: "models" },
    cases: { type: "string", default: "data/cases" },
    split: { type: "string", default: "val" },
    experts: { type: "string" },
    values: { type: "string" },
    offsets: { type: "string" },
    out: { type: "string", default: "out/calibration" },
    write: { type: "boolean", default: false },
  },
});
const setting = SETTINGS[o.setting];
if (!setting) throw new Error(`--setting: offset or edges, got ${o.setting}`);
if (o.offsets !== undefined && o.setting !== "offset") throw new Error("--offsets is for --setting offset");
const valueList = o.values ?? (o.offsets !== undefined ? o.offsets.replaceAll(",", " ") : setting.defaults);
const candidates = valueList
  .trim()
  .split(/\s+/)
  .map((t) => setting.parse(t));
const daft = resolve("packages/node/bin/daft.js");
const modelsDir = resolve(o.models);
const manifestPath = join(modelsDir, "manifest.json");
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));

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
/** Sets (or, for the neutral value, removes) the setting on a manifest's entry for `expert`. */
function applySetting(m, expert, x) {
  const entry = m.experts.find((e) => e.name === expert);
  const v = setting.value(x);
  if (v === undefined) delete entry[setting.field];
  else entry[setting.field] = v;
}

/** A models folder beside the real one: its files linked, the manifest with value `x` set on `expert`. */
function zooWith(expert, x) {
  const dir = resolve(o.out, "zoo");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (const f of readdirSync(modelsDir))
    if (f !== "manifest.json") symlinkSync(join(modelsDir, f), join(dir, f));
  const m = structuredClone(manifest);
  applySetting(m, expert, x);
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(m, null, 2));
  return dir;
}

const rows = [];
const chosen = new Map();
const chosenValue = new Map();
const started = Date.now();
let done = 0;
const total = chosenExperts.length * candidates.length;
// The ETA counts cases segmented, not runs: an expert's runs take as long as its cases.
let casesDone = 0;
const casesTotal =
  candidates.length *
  chosenExperts.reduce(
    (n, e) => n + servedBy.get(e).reduce((m, mod) => m + casesByModality.get(mod).length, 0),
    0,
  );
for (const expert of chosenExperts) {
  const modalities = servedBy.get(expert);
  const inputs = modalities.flatMap((m) => casesByModality.get(m));
  let best;
  for (const [k, x] of candidates.entries()) {
    const pred = resolve(o.out, `${expert}/${k}`);
    rmSync(pred, { recursive: true, force: true });
    execFileSync(
      "node",
      [daft, "segment", ...inputs, "-o", pred, "--quiet", "--models", zooWith(expert, x)],
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
      value: setting.show(x),
      dsc: summary.meanDsc,
      nsd: summary.meanNsd,
    });
    const better =
      !best ||
      score > best.score + 1e-4 ||
      (Math.abs(score - best.score) <= 1e-4 && setting.distance(x) < setting.distance(best.x));
    if (better) best = { x, score };
    done++;
    casesDone += inputs.length;
    const eta = ((Date.now() - started) / casesDone) * (casesTotal - casesDone);
    process.stderr.write(
      `calibrate ${done}/${total} ${expert} ${o.setting} ${setting.show(x)}: DSC ${summary.meanDsc.toFixed(4)} NSD ${summary.meanNsd.toFixed(4)} (ETA ${Math.round(eta / 1000)} s)\n`,
    );
  }
  chosen.set(expert, setting.show(best.x));
  chosenValue.set(expert, best.x);
}
rmSync(resolve(o.out, "zoo"), { recursive: true, force: true });

const report = [
  `${setting.field} on the ${o.split} split (${o.models}, scored at original resolution by \`daft eval\`); * = chosen (highest DSC + NSD)`,
  "",
  `| expert | modalities | cases | ${o.setting} | DSC | NSD |`,
  "|---|---|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.expert} | ${r.modalities} | ${r.cases} | ${r.value}${chosen.get(r.expert) === r.value ? " *" : ""} | ${r.dsc.toFixed(4)} | ${r.nsd.toFixed(4)} |`,
  ),
  "",
].join("\n");
writeFileSync(join(o.out, "report.md"), report);
process.stdout.write(report);

if (o.write) {
  for (const [expert, x] of chosenValue) applySetting(manifest, expert, x);
  const tmp = `${manifestPath}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(tmp, manifestPath);
  process.stderr.write(`wrote ${setting.field} into ${manifestPath}\n`);
}
