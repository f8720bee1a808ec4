/**
 * Voxel ↔ world geometry: 4x4 row-major affines mapping a voxel index (i, j, k) — i = x (column), j = y (row),
 * k = z (slice) — to a point in millimetres. NIfTI affines map into RAS+ (x right, y anterior, z superior);
 * DICOM geometry is LPS+ (x left, y posterior, z superior); the two differ by negating x and y.
 */

/** 4x4 row-major; the last row is [0, 0, 0, 1]. */
export type Affine = number[][];

export type WorldSpace = "RAS" | "LPS";

export type Vec3 = [number, number, number];

export function identityAffine(): Affine {
  return [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];
}

/** The affine with columns i, j, k and translation `origin`. */
export function affineFromColumns(i: Vec3, j: Vec3, k: Vec3, origin: Vec3): Affine {
  return [0, 1, 2].map((row) => [i[row]!, j[row]!, k[row]!, origin[row]!]).concat([[0, 0, 0, 1]]);
}

/** The affine applied to a point (i, j, k) → (x, y, z). */
export function applyAffine(affine: Affine, point: Vec3): Vec3 {
  const at = (row: number) =>
    affine[row]![0]! * point[0] +
    affine[row]![1]! * point[1] +
    affine[row]![2]! * point[2] +
    affine[row]![3]!;
  return [at(0), at(1), at(2)];
}

/** Inverse of an affine (its 3x3 part inverted by cofactors). Throws when the 3x3 part is singular. */
export function invertAffine(affine: Affine): Affine {
  const m = (r: number, c: number) => affine[r]![c]!;
  const cof = (r0: number, r1: number, c0: number, c1: number) =>
    m(r0, c0) * m(r1, c1) - m(r0, c1) * m(r1, c0);
  const adjugate = [
    [cof(1, 2, 1, 2), -cof(0, 2, 1, 2), cof(0, 1, 1, 2)],
    [-cof(1, 2, 0, 2), cof(0, 2, 0, 2), -cof(0, 1, 0, 2)],
    [cof(1, 2, 0, 1), -cof(0, 2, 0, 1), cof(0, 1, 0, 1)],
  ];
  const determinant = m(0, 0) * adjugate[0]![0]! + m(0, 1) * adjugate[1]![0]! + m(0, 2) * adjugate[2]![0]!;
  const scale = Math.max(...[0, 1, 2].map((c) => Math.hypot(m(0, c), m(1, c), m(2, c))));
  if (!Number.isFinite(determinant) || Math.abs(determinant) <= 1e-12 * Math.max(scale, 1e-300) ** 3) {
    throw new Error("the voxel-to-world affine is singular (no inverse)");
  }
  const inverse3 = adjugate.map((row) => row.map((v) => v / determinant));
  const translation = [0, 1, 2].map(
    (r) => -(inverse3[r]![0]! * m(0, 3) + inverse3[r]![1]! * m(1, 3) + inverse3[r]![2]! * m(2, 3)),
  );
  return [0, 1, 2].map((r) => [...inverse3[r]!, translation[r]!]).concat([[0, 0, 0, 1]]);
}

/** RAS ↔ LPS: negates the first two rows (the same operation both ways). */
export function flipXY(affine: Affine): Affine {
  return affine.map((row, r) => (r < 2 ? row.map((v) => -v) : [...row]));
}

/** Length of each voxel axis in mm: the norms of the affine's first three columns. */
export function voxelSizes(affine: Affine): Vec3 {
  const norm = (c: number) => Math.hypot(affine[0]![c]!, affine[1]![c]!, affine[2]![c]!);
  return [norm(0), norm(1), norm(2)];
}

export function crossProduct(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function dotProduct(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export interface NiftiQuaternion {
  /** quatern_b, quatern_c, quatern_d */
  b: number;
  c: number;
  d: number;
  /** qoffset_x, y, z */
  offset: Vec3;
  /** Voxel sizes (pixdim[1..3]), positive. */
  pixdim: Vec3;
  /** pixdim[0]: -1 when the k axis is flipped to make the rotation proper. */
  qfac: 1 | -1;
}

/**
 * The NIfTI quaternion form of an affine, as nifti_mat44_to_quatern computes it: the columns are normalised,
 * orthogonalised (polar decomposition is skipped: the nearest rotation of an already orthogonal matrix is itself;
 * an oblique-but-orthogonal affine is exact, a sheared one is approximated), and a negative determinant flips k.
 */
export function quaternionFromAffine(affine: Affine): NiftiQuaternion {
  const sizes = voxelSizes(affine);
  const pixdim: Vec3 = [sizes[0] || 1, sizes[1] || 1, sizes[2] || 1];
  const column = (c: number): Vec3 => [
    affine[0]![c]! / pixdim[c]!,
    affine[1]![c]! / pixdim[c]!,
    affine[2]![c]! / pixdim[c]!,
  ];
  const [i, j] = orthonormalPair(column(0), column(1));
  let k = column(2);
  // Replace k by the unit normal on its side, so the rotation is orthogonal.
  const normal = crossProduct(i, j);
  const qfac: 1 | -1 = dotProduct(normal, k) < 0 ? -1 : 1;
  k = normal;
  // Rotation columns i, j, k (k already has qfac folded out: the stored rotation is proper).
  const r = [
    [i[0], j[0], k[0]],
    [i[1], j[1], k[1]],
    [i[2], j[2], k[2]],
  ] as const;
  const trace = r[0][0] + r[1][1] + r[2][2] + 1;
  let a: number, b: number, c: number, d: number;
  if (trace > 0.5) {
    a = 0.5 * Math.sqrt(trace);
    b = (0.25 * (r[2][1] - r[1][2])) / a;
    c = (0.25 * (r[0][2] - r[2][0])) / a;
    d = (0.25 * (r[1][0] - r[0][1])) / a;
  } else {
    const xd = 1 + r[0][0] - (r[1][1] + r[2][2]);
    const yd = 1 + r[1][1] - (r[0][0] + r[2][2]);
    const zd = 1 + r[2][2] - (r[0][0] + r[1][1]);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r[0][1] + r[1][0])) / b;
      d = (0.25 * (r[0][2] + r[2][0])) / b;
      a = (0.25 * (r[2][1] - r[1][2])) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r[0][1] + r[1][0])) / c;
      d = (0.25 * (r[1][2] + r[2][1])) / c;
      a = (0.25 * (r[0][2] - r[2][0])) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r[0][2] + r[2][0])) / d;
      c = (0.25 * (r[1][2] + r[2][1])) / d;
      a = (0.25 * (r[1][0] - r[0][1])) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return {
    b,
    c,
    d,
    offset: [affine[0]![3]!, affine[1]![3]!, affine[2]![3]!],
    pixdim,
    qfac,
  };
}

/** i normalised, then j made orthogonal to i and normalised (Gram–Schmidt). */
function orthonormalPair(i: Vec3, j: Vec3): [Vec3, Vec3] {
  const unit = (v: Vec3): Vec3 => {
    const n = Math.hypot(...v) || 1;
    return [v[0] / n, v[1] / n, v[2] / n];
  };
  const iu = unit(i);
  const along = dotProduct(iu, j);
  return [iu, unit([j[0] - along * iu[0], j[1] - along * iu[1], j[2] - along * iu[2]])];
}

/** Largest absolute difference between two affines' entries. */
export function affineDistance(a: Affine, b: Affine): number {
  let worst = 0;
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++) worst = Math.max(worst, Math.abs(a[r]![c]! - b[r]![c]!));
  return worst;
}
