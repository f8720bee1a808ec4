/**
 * `daft selector train|eval`: the learned expert selector on meta-features of imported challenge cases
 * (<cases-dir>/cases.csv + <cases-dir>/<split>/imgs/<name>.npz). The modality label comes from cases.csv;
 * the selector itself sees only the meta-features of the image and its boxes, never the file name.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { readFileBytes } from "../io/fileBytes.js";
import {
  DaftInputError,
  SPLIT_NAMES,
  decodeChallengeCase,
  evaluateSelector,
  metaFeaturesOfCase,
  openNpz,
  parseCasesCsv,
  parseSelector,
  selectorEvaluationMarkdown,
  trainSelector,
  type CaseRow,
  type Selector,
  type SelectorEvaluation,
  type SelectorSample,
  type SplitName,
} from "@daft/core";
import { writeFileAtomic } from "../io/atomicWrite.js";
import { loadSelector } from "../runtime/routingFiles.js";
import { commandErrorLine, fileErrorLine, parseCommandLine, takeSubcommand } from "./common.js";
import { Progress, formatSeconds } from "./progress.js";

export const HELP = `usage: daft selector train --cases <cases-dir> -o <selector.json> [options]
       daft selector eval  --cases <cases-dir> --selector <selector.json> [options]

train: computes meta-features of every case of the train and val splits, trains a softmax / MLP selector per
       dimension (2D, 3D) on train, picks the model and the confidence threshold on val, writes the JSON.
eval:  scores the selector on a held-out split (default test) from the meta-features only (file names are not
       used): accuracy, confusion matrix and per-modality recall, 2D and 3D separately; printed and written as
       <out>.md and <out>.json.

options:
  --cases <dir>        imported cases folder (cases.csv, <split>/imgs/*.npz)
  -o, --out <path>     train: the selector JSON; eval: report base name (default <selector>.eval-<split>)
  --selector <file>    eval: the selector to score
  --split <name>       eval: split to score (default test)
  --seed <n>           train: seed of initialisation and shuffling (default 0)
  --wrong-cost <x>     train: cost of a wrong routed case vs. the gain of a right one, for the threshold (default 2)
  --skip-bad           exit 0 even when some cases could not be read (they are still reported)
  --quiet              no progress output
  -h, --help           this help`;

/** Paper's meta-model accuracy (DAFT), for comparison in reports. */
export const PAPER_META_MODEL_ACCURACY = { "2d": 0.64, "3d": 0.88 } as const;

export interface CaseFeatures extends SelectorSample {
  name: string;
  dataset: string;
  caseId: string;
  split: SplitName;
}

/**
 * Meta-features of every case of `splits` listed in <casesDir>/cases.csv. A case that cannot be read is
 * reported on one line (`<file>: <problem>`) and counted in `bad`.
 */
export async function loadCaseFeatures(
  casesDir: string,
  splits: SplitName[],
  options: { quiet?: boolean; label?: string } = {},
): Promise<{ cases: CaseFeatures[]; bad: number }> {
  const csvPath = join(casesDir, "cases.csv");
  let rows: CaseRow[];
  try {
    rows = parseCasesCsv(await readFile(csvPath, "utf8"));
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "not found" : (error as Error).message;
    throw new DaftInputError(reason, csvPath);
  }
  const wanted = rows.filter((r) => (splits as string[]).includes(r.split));
  const progress = new Progress(wanted.length, options.label ?? "features", process.stderr, !options.quiet);
  const cases: CaseFeatures[] = [];
  let bad = 0;
  for (const row of wanted) {
    const path = join(casesDir, row.split, "imgs", `${row.name}.npz`);
    try {
      const bytes = await readFileBytes(path);
      const archive = openNpz(bytes, path);
      const arrays = new Map(
        archive.keys
          .filter((k) => ["imgs", "boxes", "spacing"].includes(k))
          .map((k) => [k, archive.read(k)] as const),
      );
      const kase = decodeChallengeCase(arrays, path);
      const features = metaFeaturesOfCase(kase);
      if (String(features.dimension) !== row.dimension) {
        throw new DaftInputError(
          `cases.csv says dimension ${row.dimension}, the file is ${features.dimension}D`,
          path,
        );
      }
      cases.push({
        name: row.name,
        dataset: row.dataset,
        caseId: row.case,
        split: row.split as SplitName,
        dimension: features.dimension,
        label: row.modality,
        values: features.values,
      });
    } catch (error) {
      bad++;
      const line =
        (error as NodeJS.ErrnoException).code === "ENOENT"
          ? `${path}: not found`
          : fileErrorLine(error, path);
      process.stderr.write(`${line}\n`);
    }
    progress.tick(row.name);
  }
  return { cases, bad };
}

export async function main(args: string[]): Promise<number> {
  const subcommand = takeSubcommand("selector", args, ["train", "eval"], HELP);
  if (typeof subcommand === "number") return subcommand;
  const parsed = parseCommandLine(
    `daft selector ${subcommand.name}`,
    {
      args: subcommand.rest,
      options: {
        cases: { type: "string" },
        out: { type: "string", short: "o" },
        selector: { type: "string" },
        split: { type: "string", default: "test" },
        seed: { type: "string", default: "0" },
        "wrong-cost": { type: "string", default: "2" },
        "skip-bad": { type: "boolean", default: false },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    },
    HELP,
  );
  if (typeof parsed === "number") return parsed;
  const o = parsed.values;
  if (!o.cases) {
    process.stderr.write(`daft selector ${subcommand.name}: --cases <cases-dir> is required\n`);
    return 2;
  }
  try {
    return subcommand.name === "train"
      ? await train(resolve(o.cases), o.out, o.seed, o["wrong-cost"], o)
      : await evaluate(resolve(o.cases), o.selector, o.split, o.out, o);
  } catch (error) {
    process.stderr.write(`${commandErrorLine(error, "daft selector")}\n`);
    return 1;
  }
}

interface Flags {
  quiet: boolean;
  "skip-bad": boolean;
}

async function train(
  casesDir: string,
  out: string | undefined,
  seedText: string,
  costText: string,
  flags: Flags,
) {
  const seed = Number(seedText);
  const wrongCost = Number(costText);
  if (!out) {
    process.stderr.write("daft selector train: -o <selector.json> is required\n");
    return 2;
  }
  if (!Number.isInteger(seed) || seed < 0 || !(wrongCost >= 0)) {
    process.stderr.write(
      "daft selector train: --seed must be an integer >= 0 and --wrong-cost a number >= 0\n",
    );
    return 2;
  }
  const started = Date.now();
  const { cases, bad } = await loadCaseFeatures(casesDir, ["train", "val"], { quiet: flags.quiet });
  const trainSet = cases.filter((c) => c.split === "train");
  const valSet = cases.filter((c) => c.split === "val");
  if (trainSet.length === 0) throw new DaftInputError("no readable train cases", join(casesDir, "cases.csv"));
  const selector = trainSelector(trainSet, valSet, {
    seed,
    wrongCost,
    onProgress: flags.quiet ? undefined : (m) => process.stderr.write(`${m}\n`),
  });
  await writeFileAtomic(resolve(out), `${JSON.stringify(selector, null, 1)}\n`);
  for (const key of ["2d", "3d"] as const) process.stdout.write(`${describeModel(selector, key)}\n`);
  process.stdout.write(
    `wrote ${out} (${trainSet.length} train, ${valSet.length} val cases${bad ? `, ${bad} unreadable` : ""}) ` +
      `in ${formatSeconds((Date.now() - started) / 1000)}\n`,
  );
  return bad > 0 && !flags["skip-bad"] ? 1 : 0;
}

function describeModel(selector: Selector, key: "2d" | "3d"): string {
  const m = selector.models[key];
  if (!m) return `${key.toUpperCase()}: no training cases, no model`;
  const t = m.training;
  const chosen = t?.chosen;
  const how = chosen ? ` (l2=${chosen.l2}${chosen.balanced ? ", class-balanced" : ""})` : "";
  const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
  return (
    `${key.toUpperCase()}: ${plural(m.classes.length, "modality")} (${m.classes.join(", ")}); model ${m.architecture}${how}; ` +
    (t
      ? `${t.trainCases} train / ${t.valCases} ${t.valSource} cases; ${t.valSource} accuracy ${pct(t.valAccuracy)}; ` +
        `threshold ${m.threshold.toFixed(3)} routes ${pct(t.valRoutedShare)} of ${t.valSource}, ${pct(t.valRoutedAccuracy)} of them right`
      : `threshold ${m.threshold.toFixed(3)}`)
  );
}

async function evaluate(
  casesDir: string,
  selectorPath: string | undefined,
  splitText: string,
  out: string | undefined,
  flags: Flags,
) {
  if (!selectorPath) {
    process.stderr.write("daft selector eval: --selector <selector.json> is required\n");
    return 2;
  }
  if (!(SPLIT_NAMES as readonly string[]).includes(splitText)) {
    process.stderr.write(
      `daft selector eval: unknown split "${splitText}" (expected ${SPLIT_NAMES.join(", ")})\n`,
    );
    return 2;
  }
  const split = splitText as SplitName;
  const selector = await loadSelector(resolve(selectorPath));
  const { cases, bad } = await loadCaseFeatures(casesDir, [split], { quiet: flags.quiet });
  if (cases.length === 0) throw new DaftInputError(`no readable ${split} cases`, join(casesDir, "cases.csv"));
  const report = evaluateSelector(selector, cases);
  let markdown = selectorEvaluationMarkdown(
    report,
    `Selector evaluation on the ${split} split (${cases.length} cases)`,
  );
  markdown += paperComparison(report, cases);
  const base = out ?? `${selectorPath.replace(/\.json$/i, "")}.eval-${split}`;
  await writeFileAtomic(resolve(`${base}.md`), markdown);
  await writeFileAtomic(
    resolve(`${base}.json`),
    `${JSON.stringify({ split, selector: selectorPath, cases: cases.length, unreadable: bad, report }, null, 1)}\n`,
  );
  process.stdout.write(`${markdown}\nwrote ${base}.md and ${base}.json\n`);
  return bad > 0 && !flags["skip-bad"] ? 1 : 0;
}

function paperComparison(
  report: { "2d": SelectorEvaluation | null; "3d": SelectorEvaluation | null },
  cases: CaseFeatures[],
): string {
  const lines = [
    "",
    "## Compared with the paper's meta-model",
    "",
    "| | this selector | paper |",
    "|---|---:|---:|",
  ];
  for (const key of ["2d", "3d"] as const) {
    const e = report[key];
    const ours = e
      ? `${(100 * e.accuracy).toFixed(1)} % (${e.cases} cases, ${plural(e.labels.length, "modality")})`
      : "–";
    lines.push(`| ${key.toUpperCase()} | ${ours} | ${(100 * PAPER_META_MODEL_ACCURACY[key]).toFixed(0)} % |`);
  }
  // How hard the task is: with one dataset per modality, recognising the modality is recognising a dataset
  // that training has seen (the splits are per case, not per dataset).
  const datasets = new Map<string, Set<string>>();
  for (const c of cases) {
    const key = `${c.dimension}D ${c.label}`;
    datasets.set(key, (datasets.get(key) ?? new Set<string>()).add(c.dataset));
  }
  const perModality = [...datasets.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .map(([m, d]) => `${m}: ${[...d].sort().join(", ")}`);
  lines.push(
    "",
    "Datasets behind each modality in this split (test cases come from the same datasets as the training cases, " +
      "so a modality with a single dataset measures recognising a known dataset, not a new one):",
    "",
    ...perModality.map((line) => `- ${line}`),
  );
  return `${lines.join("\n")}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${n === 1 ? word : word === "modality" ? "modalities" : `${word}s`}`;
}
