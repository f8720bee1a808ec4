/**
 * Exact Euclidean distance transform with anisotropic spacing (Felzenszwalb & Huttenlocher 2012,
 * "Distance Transforms of Sampled Functions"), separable over the axes of a C-order grid.
 *
 * Returns SQUARED distances in mm² to the nearest feature point. The passes run in axis order
 * 0, 1, …, so each value is accumulated as ((Δ0·s0)² + (Δ1·s1)²) + (Δ2·s2)² — the same
 * floating-point sum scipy's `distance_transform_edt(…, sampling=…)` forms from its feature transform,
 * so tolerance comparisons agree with the reference implementation.
 *
 * `maxDistance` (optional) lets callers that only need "is it within d?" skip work: every value whose
 * distance exceeds it comes back as +Infinity (values within it are exact). This is safe because each
 * pass only adds non-negative terms.
 */
export function squaredDistanceTransform(
  isFeature: Uint8Array,
  shape: readonly number[],
  spacing: readonly number[],
  maxDistance = Infinity,
): Float64Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (isFeature.length !== size)
    throw new Error(`edt: mask has ${isFeature.length} elements, shape needs ${size}`);
  // Cap slightly above maxDistance² so that values whose sqrt is exactly maxDistance survive.
  const cap = Number.isFinite(maxDistance) ? maxDistance * maxDistance * (1 + 1e-9) + 1e-12 : Infinity;
  const out = new Float64Array(size);
  firstAxisPass(isFeature, shape, spacing[0]!, cap, out);
  for (let axis = 1; axis < shape.length; axis++) parabolaPass(out, shape, axis, spacing[axis]!, cap);
  return out;
}

/** Axis 0 on a binary input: squared distance to the nearest feature along each axis-0 line. */
function firstAxisPass(
  isFeature: Uint8Array,
  shape: readonly number[],
  s: number,
  cap: number,
  out: Float64Array,
): void {
  const n = shape[0]!;
  const rest = out.length / Math.max(n, 1);
  const last = new Float64Array(rest).fill(-Infinity); // index of the last feature seen (forward sweep)
  for (let i = 0; i < n; i++) {
    const base = i * rest;
    for (let r = 0; r < rest; r++) {
      if (isFeature[base + r] !== 0) last[r] = i;
      const t = (i - last[r]!) * s;
      out[base + r] = t * t;
    }
  }
  last.fill(Infinity); // now: index of the next feature (backward sweep)
  for (let i = n - 1; i >= 0; i--) {
    const base = i * rest;
    for (let r = 0; r < rest; r++) {
      if (isFeature[base + r] !== 0) last[r] = i;
      const t = (last[r]! - i) * s;
      const v = Math.min(out[base + r]!, t * t);
      out[base + r] = v > cap ? Infinity : v;
    }
  }
}

/** One FH pass along `axis`: out[p] = min_q out[q] + ((p − q)·s)², capped. */
function parabolaPass(
  out: Float64Array,
  shape: readonly number[],
  axis: number,
  s: number,
  cap: number,
): void {
  const n = shape[axis]!;
  if (n === 0) return;
  let inner = 1;
  for (let a = axis + 1; a < shape.length; a++) inner *= shape[a]!;
  const outer = out.length / (n * inner);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n); // parabola apexes of the lower envelope
  const z = new Float64Array(n + 1); // boundaries between envelope parabolas
  const s2 = s * s;
  for (let o = 0; o < outer; o++) {
    for (let in_ = 0; in_ < inner; in_++) {
      const start = o * n * inner + in_;
      let finite = 0;
      for (let i = 0; i < n; i++) {
        const value = out[start + i * inner]!;
        f[i] = value;
        if (value !== Infinity) finite++;
      }
      if (finite === 0) continue; // no feature within reach on this line
      lowerEnvelope(f, n, s, s2, v, z, d);
      for (let i = 0; i < n; i++) {
        const value = d[i]!;
        out[start + i * inner] = value > cap ? Infinity : value;
      }
    }
  }
}

/** 1D squared-distance transform of sampled function f (Infinity = no feature) with spacing s. */
function lowerEnvelope(
  f: Float64Array,
  n: number,
  s: number,
  s2: number,
  v: Int32Array,
  z: Float64Array,
  d: Float64Array,
): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q]!;
    if (fq === Infinity) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    // Intersection (in grid units) of the parabolas rooted at q and at the envelope's last apex;
    // pop apexes that q hides completely. z[0] = -Infinity keeps k ≥ 0.
    let p = v[k]!;
    let boundary = (fq + s2 * q * q - (f[p]! + s2 * p * p)) / (2 * s2 * (q - p));
    while (boundary <= z[k]!) {
      k--;
      p = v[k]!;
      boundary = (fq + s2 * q * q - (f[p]! + s2 * p * p)) / (2 * s2 * (q - p));
    }
    k++;
    v[k] = q;
    z[k] = boundary;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let p = 0; p < n; p++) {
    while (z[k + 1]! < p) k++;
    const apex = v[k]!;
    const t = (p - apex) * s;
    d[p] = f[apex]! + t * t;
  }
}
