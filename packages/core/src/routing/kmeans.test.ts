import { describe, expect, it } from "vitest";
import { inputErrorLine } from "../testing/inputErrors.js";
import { chooseK, kmeans, pairwiseDistances, silhouetteScore } from "./kmeans.js";
import { META_FEATURE_NAMES } from "./metaFeatures.js";
import { SeededRandom } from "./random.js";
import { clusterAgreement, parseSubsets, proposeSubsets, selectSubset, type SubsetCase } from "./subsets.js";

/** `perBlob` points around each centre with unit-ish noise. */
function blobs(
  centres: number[][],
  perBlob: number,
  spread: number,
  seed: number,
): { points: Float64Array[]; blob: number[] } {
  const rng = new SeededRandom(seed);
  const points: Float64Array[] = [];
  const blob: number[] = [];
  centres.forEach((c, b) => {
    for (let i = 0; i < perBlob; i++) {
      points.push(Float64Array.from(c, (v) => v + spread * rng.normal()));
      blob.push(b);
    }
  });
  return { points, blob };
}

describe("k-means and silhouette", () => {
  const centres = [
    [0, 0, 0, 0, 0],
    [10, 0, 0, 0, 0],
    [0, 10, 0, 0, 0],
    [0, 0, 10, 5, 0],
  ];

  it("chooses the number of blobs by the best mean silhouette", () => {
    const { points, blob } = blobs(centres, 40, 1, 7);
    const choice = chooseK(points, 2, 10, { seed: 0 });
    expect(choice.k).toBe(4);
    expect(choice.scores.map((s) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const best = Math.max(...choice.scores.map((s) => s.silhouette));
    expect(choice.scores.find((s) => s.k === 4)!.silhouette).toBe(best);
    // Every blob is one cluster.
    expect(clusterAgreement(choice.result.assignment, blob.map(String))).toEqual({ purity: 1, nmi: 1 });
  });

  it("is deterministic for a seed", () => {
    const { points } = blobs(centres, 30, 2, 3);
    const a = kmeans(points, 4, { seed: 5 });
    const b = kmeans(points, 4, { seed: 5 });
    expect([...a.assignment]).toEqual([...b.assignment]);
    expect(a.inertia).toBe(b.inertia);
  });

  it("computes the silhouette by hand on a tiny example", () => {
    // Points 0, 1 (cluster 0) and 10 (cluster 1) on a line.
    const points = [[0], [1], [10]].map((p) => Float64Array.from(p));
    const d = pairwiseDistances(points);
    const s = silhouetteScore(d, Int32Array.from([0, 0, 1]), 2);
    // s(0) = (10 − 1) / 10, s(1) = (9 − 1) / 9, s(2) = 0 (alone in its cluster).
    expect(s).toBeCloseTo((0.9 + 8 / 9 + 0) / 3, 12);
  });

  it("scores purity and NMI", () => {
    expect(clusterAgreement([0, 0, 1, 1], ["a", "a", "b", "b"])).toEqual({ purity: 1, nmi: 1 });
    expect(clusterAgreement([0, 0, 0, 0], ["a", "a", "b", "b"]).nmi).toBe(0);
    expect(clusterAgreement([0, 1, 0, 1], ["a", "a", "b", "b"])).toEqual({ purity: 0.5, nmi: 0 });
  });
});

describe("data-driven subsets", () => {
  const WIDTH = META_FEATURE_NAMES.length;
  const at = (name: string) => META_FEATURE_NAMES.indexOf(name as (typeof META_FEATURE_NAMES)[number]);
  const make = (count: number, seed: number): SubsetCase[] => {
    const rng = new SeededRandom(seed);
    const kinds = [
      { modality: "Endoscopy", dataset: "kvasir", feature: "mean_r_minus_b" },
      { modality: "US", dataset: "hc18", feature: "edge_share" },
      { modality: "XRay", dataset: "cxr", feature: "log_height" },
    ];
    return Array.from({ length: count }, (_, i) => {
      const kind = kinds[i % 3]!;
      // Constant features standardise to 0; each modality stands out in its own feature (with jitter).
      const values = new Float64Array(WIDTH);
      for (const k of kinds) values[at(k.feature)] = (k === kind ? 5 : 0) + 0.3 * rng.normal();
      return {
        id: `${kind.dataset}/case_${i}`,
        dataset: kind.dataset,
        modality: kind.modality,
        dimension: 2,
        values,
      };
    });
  };

  it("finds the modalities as clusters, stores a valid file and routes new cases to the nearest centroid", () => {
    const cases = make(90, 1);
    const subsets = proposeSubsets(cases, { k: "auto", seed: 0 });
    expect(subsets.criterion).toMatch(/highest mean silhouette/);
    const group = subsets.groups["2d"]!;
    expect(subsets.groups["3d"]).toBeNull();
    expect(group.k).toBe(3);
    expect(group.kChosenBy).toBe("silhouette");
    expect(group.agreement.modalityPurity).toBe(1);
    expect(Object.keys(group.subsets)).toEqual(["2d-cluster-0", "2d-cluster-1", "2d-cluster-2"]);
    for (const subset of Object.values(group.subsets)) {
      expect(Object.keys(subset.modalities)).toHaveLength(1);
      expect(subset.cases).toHaveLength(30);
    }
    const loaded = parseSubsets(JSON.parse(JSON.stringify(subsets)), "subsets.json");
    for (const fresh of make(6, 2)) {
      const hit = selectSubset(loaded, { dimension: 2, values: Float64Array.from(fresh.values) })!;
      expect(Object.keys(group.subsets[hit.subset]!.modalities)).toEqual([fresh.modality]);
    }
    expect(selectSubset(loaded, { dimension: 3, values: new Float64Array(WIDTH) })).toBeNull();
  });

  it("honours a fixed k and rejects a malformed file in one line", () => {
    const subsets = proposeSubsets(make(30, 3), { k: 2, seed: 0 });
    expect(subsets.groups["2d"]!.k).toBe(2);
    expect(subsets.groups["2d"]!.kChosenBy).toBe("fixed");
    const broken = JSON.parse(JSON.stringify(subsets)) as {
      groups: { "2d": { centroids: Record<string, number[]> } };
    };
    broken.groups["2d"].centroids["2d-cluster-0"]!.pop();
    expect(inputErrorLine(() => parseSubsets(broken, "s.json"))).toMatch(
      /^s\.json: invalid subsets file: groups\.2d: centroid 2d-cluster-0 must have \d+ values$/,
    );
  });
});
