/**
 * k-means (k-means++ seeding, Lloyd iterations, best of several seeded restarts) and the mean silhouette
 * coefficient used to choose k. Deterministic for a seed.
 */
import { SeededRandom } from "./random.js";

export interface KMeansOptions {
  seed?: number;
  /** Independent k-means++ starts; the lowest inertia wins (default 8). */
  restarts?: number;
  maxIterations?: number;
}

export interface KMeansResult {
  k: number;
  centroids: Float64Array[];
  /** Cluster of each point. */
  assignment: Int32Array;
  /** Sum of squared distances of points to their centroid. */
  inertia: number;
}

export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j]! - b[j]!) ** 2;
  return s;
}

export function kmeans(points: Float64Array[], k: number, options: KMeansOptions = {}): KMeansResult {
  if (k < 1 || k > points.length)
    throw new Error(`k-means needs 1 ≤ k ≤ ${points.length} points, got k = ${k}`);
  const rng = new SeededRandom(options.seed ?? 0);
  let best: KMeansResult | null = null;
  for (let r = 0; r < (options.restarts ?? 8); r++) {
    const result = lloyd(points, seedCentroids(points, k, rng), options.maxIterations ?? 100);
    if (!best || result.inertia < best.inertia - 1e-9) best = result;
  }
  return best!;
}

/** k-means++: the first centre uniformly, each next one with probability ∝ squared distance to the nearest. */
function seedCentroids(points: Float64Array[], k: number, rng: SeededRandom): Float64Array[] {
  const centroids = [Float64Array.from(points[rng.int(points.length)]!)];
  const nearest = Float64Array.from(points, (p) => squaredDistance(p, centroids[0]!));
  while (centroids.length < k) {
    const total = nearest.reduce((a, b) => a + b, 0);
    let pick = 0;
    if (total > 0) {
      let u = rng.next() * total;
      for (pick = 0; pick < points.length - 1; pick++) {
        u -= nearest[pick]!;
        if (u < 0) break;
      }
    } else pick = rng.int(points.length);
    const c = Float64Array.from(points[pick]!);
    centroids.push(c);
    points.forEach((p, i) => (nearest[i] = Math.min(nearest[i]!, squaredDistance(p, c))));
  }
  return centroids;
}

function lloyd(points: Float64Array[], centroids: Float64Array[], maxIterations: number): KMeansResult {
  const k = centroids.length;
  const width = points[0]!.length;
  const assignment = new Int32Array(points.length).fill(-1);
  for (let iter = 0; iter < maxIterations; iter++) {
    let changed = false;
    points.forEach((p, i) => {
      const c = nearestCentroid(centroids, p).index;
      if (c !== assignment[i]) {
        assignment[i] = c;
        changed = true;
      }
    });
    if (!changed) break;
    const sums = centroids.map(() => new Float64Array(width));
    const counts = new Int32Array(k);
    points.forEach((p, i) => {
      const c = assignment[i]!;
      counts[c]!++;
      for (let j = 0; j < width; j++) sums[c]![j]! += p[j]!;
    });
    for (let c = 0; c < k; c++) {
      if (counts[c]! > 0) {
        for (let j = 0; j < width; j++) centroids[c]![j] = sums[c]![j]! / counts[c]!;
      } else {
        // An empty cluster takes over the point farthest from its centroid.
        let far = 0;
        let farDistance = -1;
        points.forEach((p, i) => {
          const d = squaredDistance(p, centroids[assignment[i]!]!);
          if (d > farDistance) {
            farDistance = d;
            far = i;
          }
        });
        centroids[c] = Float64Array.from(points[far]!);
        assignment[far] = c;
      }
    }
  }
  let inertia = 0;
  points.forEach((p, i) => (inertia += squaredDistance(p, centroids[assignment[i]!]!)));
  return { k, centroids, assignment, inertia };
}

export function nearestCentroid(
  centroids: ArrayLike<number>[],
  point: ArrayLike<number>,
): { index: number; distance: number } {
  let index = 0;
  let best = Infinity;
  centroids.forEach((c, i) => {
    const d = squaredDistance(point, c);
    if (d < best) {
      best = d;
      index = i;
    }
  });
  return { index, distance: Math.sqrt(best) };
}

/** Euclidean distances between all pairs, as a packed n×n matrix. */
export function pairwiseDistances(points: Float64Array[]): Float64Array {
  const n = points.length;
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.sqrt(squaredDistance(points[i]!, points[j]!));
      d[i * n + j] = v;
      d[j * n + i] = v;
    }
  }
  return d;
}

/**
 * Mean silhouette s(i) = (b − a) / max(a, b), a = mean distance to the own cluster, b = the smallest mean
 * distance to another cluster; points alone in their cluster score 0 (as in scikit-learn).
 */
export function silhouetteScore(distances: Float64Array, assignment: Int32Array, k: number): number {
  const n = assignment.length;
  const sizes = new Int32Array(k);
  for (const c of assignment) sizes[c]!++;
  let total = 0;
  const sums = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    for (let j = 0; j < n; j++) if (j !== i) sums[assignment[j]!]! += distances[i * n + j]!;
    const own = assignment[i]!;
    if (sizes[own]! <= 1) continue;
    const a = sums[own]! / (sizes[own]! - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && sizes[c]! > 0) b = Math.min(b, sums[c]! / sizes[c]!);
    if (!Number.isFinite(b)) continue;
    const m = Math.max(a, b);
    total += m > 0 ? (b - a) / m : 0;
  }
  return n > 0 ? total / n : 0;
}

export interface KChoice {
  k: number;
  result: KMeansResult;
  scores: { k: number; silhouette: number; inertia: number }[];
  /** Points the silhouette was computed on (a seeded sample when there are more than maxSilhouettePoints). */
  silhouettePoints: number;
}

/**
 * k-means for every k in [kMin, kMax] (capped at n − 1); the k with the highest mean silhouette wins
 * (ties: the smaller k). The silhouette uses at most `maxSilhouettePoints` points (a seeded sample).
 */
export function chooseK(
  points: Float64Array[],
  kMin = 2,
  kMax = 10,
  options: KMeansOptions & { maxSilhouettePoints?: number; onProgress?: (message: string) => void } = {},
): KChoice {
  const top = Math.min(kMax, points.length - 1);
  if (top < kMin) throw new Error(`choosing k needs more than ${kMin} points, got ${points.length}`);
  const limit = options.maxSilhouettePoints ?? 3000;
  const sample =
    points.length > limit
      ? new SeededRandom((options.seed ?? 0) + 104729)
          .shuffle(points.map((_, i) => i))
          .slice(0, limit)
          .sort((a, b) => a - b)
      : points.map((_, i) => i);
  const distances = pairwiseDistances(sample.map((i) => points[i]!));
  let best: { k: number; result: KMeansResult; silhouette: number } | null = null;
  const scores: KChoice["scores"] = [];
  for (let k = kMin; k <= top; k++) {
    const result = kmeans(points, k, options);
    const silhouette = silhouetteScore(
      distances,
      Int32Array.from(sample, (i) => result.assignment[i]!),
      k,
    );
    scores.push({ k, silhouette, inertia: result.inertia });
    options.onProgress?.(
      `k = ${k}: silhouette ${silhouette.toFixed(4)}, inertia ${result.inertia.toFixed(1)}`,
    );
    if (!best || silhouette > best.silhouette + 1e-12) best = { k, result, silhouette };
  }
  return { k: best!.k, result: best!.result, scores, silhouettePoints: sample.length };
}
