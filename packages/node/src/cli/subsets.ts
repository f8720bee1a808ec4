/**
 * `daft subsets propose`: data-driven subsets — k-means clusters of standardised meta-features of the train
 * split (per dimension), k by the best mean silhouette — written as JSON that is also a nearest-centroid selector
 * (core: selectSubset). Prints how the clusters relate to the modalities and datasets.
 */
import { resolve } from "node:path";
import {
  DaftInputError,
  proposeSubsets,
  withValidationCases,
  type SubsetCase,
  type SubsetGroup,
  type Subsets,
} from "@daft/core";
import { writeFileAtomic } from "../io/atomicWrite.js";
import { commandErrorLine, parseCommandLine, takeSubcommand } from "./common.js";
import { formatSeconds } from "./progress.js";
import { loadCaseFeatures } from "./selector.js";

export const HELP = `usage: daft subsets propose --cases <cases-dir> -o <subsets.json> [options]

Clusters the train split's cases by their meta-features (z-scored, per dimension) with k-means (k-means++ init,
seeded restarts). With --k auto, k is the k in 2..10 with the highest mean silhouette coefficient. Writes
{"criterion", "groups": {"2d": {"k", "silhouettes", "subsets": {"2d-cluster-0": {"cases", "modalities",
"datasets", "valCases"}, ...}, "centroids", "featureNames", "standardisation", "agreement"}, "3d": ...}}; the file
routes a new case to the subset with the nearest centroid. "cases" are the clustered train cases, "valCases" the
val split's cases routed by that rule (the training package validates each cluster's expert on them); case ids
are "<dataset>/<case>" as in cases.csv.

options:
  --cases <dir>        imported cases folder (cases.csv, train/imgs/*.npz)
  -o, --out <file>     subsets JSON to write
  --k <auto|n>         number of clusters per dimension (default auto)
  --k-max <n>          largest k tried by auto (default 10)
  --seed <n>           k-means seed (default 0)
  --skip-bad           exit 0 even when some cases could not be read (they are still reported)
  --quiet              no progress output
  -h, --help           this help`;

export async function main(args: string[]): Promise<number> {
  const subcommand = takeSubcommand("subsets", args, ["propose"], HELP);
  if (typeof subcommand === "number") return subcommand;
  const parsed = parseCommandLine(
    "daft subsets propose",
    {
      args: subcommand.rest,
      options: {
        cases: { type: "string" },
        out: { type: "string", short: "o" },
        k: { type: "string", default: "auto" },
        "k-max": { type: "string", default: "10" },
        seed: { type: "string", default: "0" },
        "skip-bad": { type: "boolean", default: false },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    },
    HELP,
  );
  if (typeof parsed === "number") return parsed;
  const o = parsed.values;
  const k = o.k === "auto" ? "auto" : Number(o.k);
  const kMax = Number(o["k-max"]);
  const seed = Number(o.seed);
  if (!o.cases || !o.out) {
    process.stderr.write("daft subsets propose: --cases <cases-dir> and -o <subsets.json> are required\n");
    return 2;
  }
  if ((k !== "auto" && !(Number.isInteger(k) && k >= 1)) || !(Number.isInteger(kMax) && kMax >= 2)) {
    process.stderr.write(
      "daft subsets propose: --k must be auto or an integer >= 1, --k-max an integer >= 2\n",
    );
    return 2;
  }
  if (!Number.isInteger(seed) || seed < 0) {
    process.stderr.write("daft subsets propose: --seed must be an integer >= 0\n");
    return 2;
  }
  try {
    const started = Date.now();
    const casesDir = resolve(o.cases);
    const { cases, bad } = await loadCaseFeatures(casesDir, ["train", "val"], { quiet: o.quiet });
    const asSubsetCase = (c: (typeof cases)[number]): SubsetCase => ({
      id: `${c.dataset}/${c.caseId}`,
      dataset: c.dataset,
      modality: c.label,
      dimension: c.dimension,
      values: c.values,
    });
    const members = cases.filter((c) => c.split === "train").map(asSubsetCase);
    const valCases = cases.filter((c) => c.split === "val").map(asSubsetCase);
    if (members.length === 0)
      throw new DaftInputError("no readable train cases", resolve(casesDir, "cases.csv"));
    const clustered = proposeSubsets(members, {
      k,
      kMax,
      seed,
      onProgress: o.quiet ? undefined : (m) => process.stderr.write(`${m}\n`),
    });
    const { subsets, unrouted } = withValidationCases(clustered, valCases);
    await writeFileAtomic(resolve(o.out), `${JSON.stringify(subsets, null, 1)}\n`);
    process.stdout.write(describeSubsets(subsets));
    process.stdout.write(
      `wrote ${o.out} (${members.length} train cases clustered, ${valCases.length - unrouted.length} val cases routed` +
        `${unrouted.length ? `, ${unrouted.length} val cases of a dimension without train cases` : ""}` +
        `${bad ? `, ${bad} unreadable` : ""}) in ` +
        `${formatSeconds((Date.now() - started) / 1000)}\n`,
    );
    return bad > 0 && !o["skip-bad"] ? 1 : 0;
  } catch (error) {
    process.stderr.write(`${commandErrorLine(error, "daft subsets")}\n`);
    return 1;
  }
}

/** Human-readable summary: criterion, silhouette per k, and each cluster's modality/dataset make-up. */
export function describeSubsets(subsets: Subsets): string {
  const lines = [`criterion: ${subsets.criterion}`];
  for (const key of ["2d", "3d"] as const) {
    const g = subsets.groups[key];
    if (!g) continue;
    lines.push("", describeGroup(g));
  }
  return `${lines.join("\n")}\n`;
}

function describeGroup(g: SubsetGroup): string {
  const size = Object.values(g.subsets).reduce((a, s) => a + s.cases.length, 0);
  const lines = [`${g.dimension}D: ${size} cases, k = ${g.k} (${g.kChosenBy})`];
  if (g.silhouettes.length > 0) {
    lines.push(
      `  silhouette by k: ${g.silhouettes.map((s) => `${s.k}: ${s.silhouette.toFixed(3)}`).join(", ")}`,
    );
  }
  const a = g.agreement;
  lines.push(
    `  vs modality: purity ${(100 * a.modalityPurity).toFixed(1)} %, NMI ${a.modalityNmi.toFixed(3)}; ` +
      `vs dataset: purity ${(100 * a.datasetPurity).toFixed(1)} %, NMI ${a.datasetNmi.toFixed(3)}`,
  );
  for (const [name, s] of Object.entries(g.subsets)) {
    const mix = (counts: Record<string, number>) =>
      Object.entries(counts)
        .sort((x, y) => y[1] - x[1])
        .map(([label, n]) => `${label} ${n}`)
        .join(", ");
    const routed = s.valCases ? ` (+ ${s.valCases.length} val)` : "";
    lines.push(
      `  ${name}: ${s.cases.length} cases${routed} — modalities: ${mix(s.modalities)} — datasets: ${mix(s.datasets)}`,
    );
  }
  return lines.join("\n");
}
