/**
 * Data-driven subsets: k-means clusters of standardised meta-features (one clustering per dimension), with k
 * chosen by the best mean silhouette, and a nearest-centroid selector that routes a new case to its cluster.
 * Stored as JSON ("daft-subsets" v1).
 */
import * as z from "../zodMini.js";
import { DaftInputError } from "../errors.js";
import { chooseK, kmeans, nearestCentroid, type KMeansResult } from "./kmeans.js";
import { META_FEATURE_NAMES, type MetaFeatures } from "./metaFeatures.js";
import { featureIndices, fitStandardisation, pickFeatures, standardise } from "./standardisation.js";

export const SUBSETS_FORMAT = "daft-subsets" as const;
export const SUBSETS_VERSION = 1 as const;

const finite = z.number().check(z.refine(Number.isFinite, "must be a finite number"));
const counts = z.record(z.string(), z.int().check(z.nonnegative()));

export const SubsetSchema = z.object({
  /** "<dataset>/<case>" of each member (train split: the cases that were clustered). */
  cases: z.array(z.string()),
  modalities: counts,
  datasets: counts,
  /**
   * Optional: "<dataset>/<case>" of the val split's cases that the nearest-centroid rule (selectSubset) routes to
   * this subset — the cases the training package validates a cluster's expert on.
   */
  valCases: z.optional(z.array(z.string())),
});

export const SubsetGroupSchema = z
  .object({
    dimension: z.union([z.literal(2), z.literal(3)]),
    k: z.int().check(z.positive()),
    /** "silhouette" when k was chosen, "fixed" when given. */
    kChosenBy: z.enum(["silhouette", "fixed"]),
    silhouettes: z.array(z.object({ k: z.int(), silhouette: z.number(), inertia: z.number() })),
    featureNames: z.array(z.string()).check(z.minLength(1)),
    standardisation: z.object({ mean: z.array(finite), std: z.array(z.number().check(z.positive())) }),
    subsets: z.record(z.string(), SubsetSchema),
    /** Centroid of each subset in standardised feature space. */
    centroids: z.record(z.string(), z.array(finite)),
    /** How the clusters relate to the modality and dataset labels. */
    agreement: z.object({
      modalityPurity: z.number(),
      modalityNmi: z.number(),
      datasetPurity: z.number(),
      datasetNmi: z.number(),
    }),
  })
  .check(
    z.superRefine((g, ctx) => {
      const width = g.featureNames.length;
      if (g.standardisation.mean.length !== width || g.standardisation.std.length !== width) {
        ctx.addIssue({ code: "custom", message: `standardisation must have ${width} means and stds` });
      }
      for (const [name, c] of Object.entries(g.centroids)) {
        if (c.length !== width)
          ctx.addIssue({ code: "custom", message: `centroid ${name} must have ${width} values` });
        if (!(name in g.subsets)) ctx.addIssue({ code: "custom", message: `centroid ${name} has no subset` });
      }
    }),
  );

export const SubsetsSchema = z.object({
  format: z.literal(SUBSETS_FORMAT),
  version: z.literal(SUBSETS_VERSION),
  criterion: z.string(),
  seed: z.int(),
  groups: z.object({ "2d": z.nullable(SubsetGroupSchema), "3d": z.nullable(SubsetGroupSchema) }),
});

export type SubsetGroup = z.infer<typeof SubsetGroupSchema>;
export type Subsets = z.infer<typeof SubsetsSchema>;

export const SILHOUETTE_CRITERION =
  "k-means (k-means++ init, seeded restarts) on z-scored meta-features of the train split, per dimension; " +
  "k = the k in 2..10 with the highest mean silhouette coefficient (Euclidean; ties: smaller k)";

export function parseSubsets(value: unknown, source?: string): Subsets {
  const r = SubsetsSchema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new DaftInputError(`invalid subsets file: ${issues}`, source);
  }
  return r.data;
}

export interface SubsetCase {
  /** "<dataset>/<case>" */
  id: string;
  dataset: string;
  modality: string;
  dimension: 2 | 3;
  /** META_FEATURE_NAMES-ordered features. */
  values: ArrayLike<number>;
}

export interface ProposeSubsetsOptions {
  /** "auto" chooses by silhouette over kMin..kMax; a number fixes k. */
  k?: "auto" | number;
  kMin?: number;
  kMax?: number;
  seed?: number;
  featureNames?: readonly string[];
  onProgress?: (message: string) => void;
}

export function proposeSubsets(cases: SubsetCase[], options: ProposeSubsetsOptions = {}): Subsets {
  const group = (dimension: 2 | 3) => {
    const members = cases.filter((c) => c.dimension === dimension);
    return members.length === 0 ? null : clusterGroup(dimension, members, options);
  };
  const fixed = typeof options.k === "number";
  return {
    format: SUBSETS_FORMAT,
    version: SUBSETS_VERSION,
    criterion: fixed
      ? `k-means (k-means++ init, seeded restarts) on z-scored meta-features of the train split, per dimension; k fixed to ${options.k}`
      : SILHOUETTE_CRITERION.replace("2..10", `${options.kMin ?? 2}..${options.kMax ?? 10}`),
    seed: options.seed ?? 0,
    groups: { "2d": group(2), "3d": group(3) },
  };
}

function clusterGroup(dimension: 2 | 3, members: SubsetCase[], options: ProposeSubsetsOptions): SubsetGroup {
  const featureNames = [...(options.featureNames ?? META_FEATURE_NAMES)];
  const indices = featureIndices(featureNames, "the subsets");
  const raw = members.map((c) => pickFeatures(c.values, indices));
  const standardisation = fitStandardisation(raw, featureNames.length);
  const points = raw.map((r) => standardise(r, standardisation));
  const seed = options.seed ?? 0;
  const progress = options.onProgress && ((m: string) => options.onProgress!(`${dimension}D ${m}`));

  let result: KMeansResult;
  let silhouettes: SubsetGroup["silhouettes"] = [];
  let kChosenBy: SubsetGroup["kChosenBy"];
  if (typeof options.k === "number") {
    result = kmeans(points, Math.min(options.k, points.length), { seed });
    kChosenBy = "fixed";
  } else if (points.length <= (options.kMin ?? 2)) {
    result = kmeans(points, 1, { seed });
    kChosenBy = "fixed";
  } else {
    const choice = chooseK(points, options.kMin ?? 2, options.kMax ?? 10, { seed, onProgress: progress });
    result = choice.result;
    silhouettes = choice.scores;
    kChosenBy = "silhouette";
  }

  // Name clusters by size (largest first), ties by first member, so names are stable and readable.
  const order = Array.from({ length: result.k }, (_, c) => c)
    .map((c) => ({
      c,
      size: result.assignment.filter((a) => a === c).length,
      first: result.assignment.indexOf(c),
    }))
    .sort((a, b) => b.size - a.size || a.first - b.first)
    .map((x) => x.c);
  const nameOf = new Map(order.map((c, rank) => [c, `${dimension}d-cluster-${rank}`]));
  const subsets: SubsetGroup["subsets"] = {};
  const centroids: SubsetGroup["centroids"] = {};
  for (const c of order) {
    const name = nameOf.get(c)!;
    const inCluster = members.filter((_, i) => result.assignment[i] === c);
    subsets[name] = {
      cases: inCluster.map((m) => m.id),
      modalities: countBy(inCluster.map((m) => m.modality)),
      datasets: countBy(inCluster.map((m) => m.dataset)),
    };
    centroids[name] = [...result.centroids[c]!];
  }
  const modality = clusterAgreement(
    result.assignment,
    members.map((m) => m.modality),
  );
  const dataset = clusterAgreement(
    result.assignment,
    members.map((m) => m.dataset),
  );
  return {
    dimension,
    k: result.k,
    kChosenBy,
    silhouettes,
    featureNames,
    standardisation,
    subsets,
    centroids,
    agreement: {
      modalityPurity: modality.purity,
      modalityNmi: modality.nmi,
      datasetPurity: dataset.purity,
      datasetNmi: dataset.nmi,
    },
  };
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of [...values].sort()) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/**
 * Purity (share of points in their cluster's majority label) and normalised mutual information
 * (NMI = I(C;L) / sqrt(H(C) H(L)); 1 when clusters and labels match, 0 when independent or trivial).
 */
export function clusterAgreement(
  assignment: ArrayLike<number>,
  labels: string[],
): { purity: number; nmi: number } {
  const n = labels.length;
  if (n === 0) return { purity: 0, nmi: 0 };
  const table = new Map<number, Map<string, number>>();
  const labelCounts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const c = assignment[i]!;
    const row = table.get(c) ?? new Map<string, number>();
    row.set(labels[i]!, (row.get(labels[i]!) ?? 0) + 1);
    table.set(c, row);
    labelCounts.set(labels[i]!, (labelCounts.get(labels[i]!) ?? 0) + 1);
  }
  let majority = 0;
  let mutual = 0;
  let hc = 0;
  for (const row of table.values()) {
    const size = [...row.values()].reduce((a, b) => a + b, 0);
    majority += Math.max(...row.values());
    hc -= (size / n) * Math.log(size / n);
    for (const [label, count] of row) {
      mutual += (count / n) * Math.log((count * n) / (size * labelCounts.get(label)!));
    }
  }
  let hl = 0;
  for (const count of labelCounts.values()) hl -= (count / n) * Math.log(count / n);
  const nmi = hc > 0 && hl > 0 ? mutual / Math.sqrt(hc * hl) : 0;
  return { purity: majority / n, nmi: Math.max(0, Math.min(1, nmi)) };
}

/**
 * Routes each case by nearest centroid (selectSubset) and records it in its subset's `valCases`; returns a copy.
 * Cases of a dimension without a group are returned as unrouted.
 */
export function withValidationCases(
  subsets: Subsets,
  cases: SubsetCase[],
): { subsets: Subsets; unrouted: string[] } {
  const copy: Subsets = structuredClone(subsets);
  const unrouted: string[] = [];
  for (const key of ["2d", "3d"] as const) {
    for (const s of Object.values(copy.groups[key]?.subsets ?? {})) s.valCases = [];
  }
  for (const c of cases) {
    const hit = selectSubset(copy, { dimension: c.dimension, values: Float64Array.from(c.values) });
    const group = c.dimension === 2 ? copy.groups["2d"] : copy.groups["3d"];
    if (!hit || !group) {
      unrouted.push(c.id);
      continue;
    }
    group.subsets[hit.subset]!.valCases!.push(c.id);
  }
  return { subsets: copy, unrouted };
}

const subsetIndexCache = new WeakMap<SubsetGroup, number[]>();

/** Nearest-centroid routing of a case to a subset of its dimension; null when there is no group for it. */
export function selectSubset(
  subsets: Subsets,
  features: MetaFeatures,
): { subset: string; distance: number } | null {
  const group = features.dimension === 2 ? subsets.groups["2d"] : subsets.groups["3d"];
  if (!group) return null;
  let indices = subsetIndexCache.get(group);
  if (!indices) {
    indices = featureIndices(group.featureNames, "the subsets");
    subsetIndexCache.set(group, indices);
  }
  const z = standardise(pickFeatures(features.values, indices), group.standardisation);
  const names = Object.keys(group.centroids);
  const hit = nearestCentroid(
    names.map((n) => group.centroids[n]!),
    z,
  );
  return { subset: names[hit.index]!, distance: hit.distance };
}
