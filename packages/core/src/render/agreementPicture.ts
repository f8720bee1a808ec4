/**
 * Pictures of where a prediction agrees with its ground truth — what `daft eval` draws for the cases it scores
 * worst, because a mean DSC does not say whether a model misses an object's tip, leaks into a neighbour or takes
 * the wrong object. Each pixel is tinted by what happened there: the same label in both (green), ground truth the
 * prediction missed (blue), prediction where the ground truth has another label or none (red); the ground truth's
 * outline is drawn in yellow over it. A 3D case is shown as the slices where its labels go most wrong.
 */
import { imageToRgb, onLabelEdge, tilePictures, type PictureSource, type RgbPicture } from "./overlay.js";

export const AGREEMENT_COLOURS = {
  agree: [40, 200, 70],
  missed: [40, 110, 255],
  extra: [255, 45, 45],
  outline: [255, 220, 0],
} as const satisfies Record<string, readonly [number, number, number]>;

/** One 2D picture: `gt` and `pred` are label maps of the image's size (row-major). */
export function drawAgreement(
  image: PictureSource,
  gt: ArrayLike<number>,
  pred: ArrayLike<number>,
  opts: { fill?: number; errorFill?: number } = {},
): RgbPicture {
  const picture = imageToRgb(image);
  const { data: out, width: W, height: H } = picture;
  const fill = opts.fill ?? 0.35;
  const errorFill = opts.errorFill ?? 0.6;
  const tint = (p: number, colour: readonly number[], alpha: number) => {
    for (let k = 0; k < 3; k++)
      out[p * 3 + k] = Math.round(out[p * 3 + k]! * (1 - alpha) + colour[k]! * alpha);
  };
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const g = gt[p]!;
      const q = pred[p]!;
      if (g === 0 && q === 0) continue;
      if (g === q) tint(p, AGREEMENT_COLOURS.agree, fill);
      else if (q === 0) tint(p, AGREEMENT_COLOURS.missed, errorFill);
      else tint(p, AGREEMENT_COLOURS.extra, errorFill);
      if (onLabelEdge(gt, x, y, W, H)) out.set(AGREEMENT_COLOURS.outline, p * 3);
    }
  }
  return picture;
}

/** A case to draw: label maps in C order over `shape` ([H, W] or [D, H, W]); the image, when there is one, too. */
export interface AgreementCase {
  shape: readonly number[];
  gt: ArrayLike<number>;
  pred: ArrayLike<number>;
  /** Grey or RGB (channels last) values over the same grid; absent: drawn on black. */
  image?: { data: ArrayLike<number>; channels: number };
}

/**
 * The case's picture: a 2D case whole; a 3D case as up to `maxPanels` axial slices side by side — for each label,
 * worst first, the slice where it has the most disagreeing voxels (the middle of its ground truth when it has
 * none) — then shrunk so that its longer side is at most `maxSide` pixels, or enlarged (whole pixels, so each
 * voxel stays visible) when its shorter side is under `minSide` (a 35×50 hippocampus slice).
 */
export function agreementPicture(
  kase: AgreementCase,
  maxPanels = 4,
  maxSide = 1600,
  minSide = 200,
): RgbPicture {
  const [H, W] = kase.shape.slice(-2) as [number, number];
  const depth = kase.shape.length === 3 ? kase.shape[0]! : 1;
  const channels = kase.image?.channels ?? 1;
  const plane = H * W;
  const panel = (z: number) =>
    drawAgreement(
      {
        data: kase.image
          ? sliceOf(kase.image.data, z * plane * channels, (z + 1) * plane * channels)
          : new Uint8Array(plane),
        width: W,
        height: H,
        channels,
      },
      sliceOf(kase.gt, z * plane, (z + 1) * plane),
      sliceOf(kase.pred, z * plane, (z + 1) * plane),
    );
  const pictures = depth === 1 ? [panel(0)] : worstSlices(kase, depth, plane, maxPanels).map(panel);
  const tiled = tilePictures(pictures);
  const enlarge = Math.floor(
    Math.min(minSide / Math.min(tiled.width, tiled.height), maxSide / Math.max(tiled.width, tiled.height)),
  );
  return enlarge > 1 ? enlargeBy(tiled, enlarge) : shrinkToFit(tiled, maxSide);
}

/** Each pixel as an f×f block. */
export function enlargeBy(picture: RgbPicture, f: number): RgbPicture {
  const width = picture.width * f;
  const height = picture.height * f;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = Math.floor(y / f) * picture.width;
    for (let x = 0; x < width; x++) {
      const p = (from + Math.floor(x / f)) * 3;
      data.set(picture.data.subarray(p, p + 3), (y * width + x) * 3);
    }
  }
  return { data, width, height };
}

/** Per label, the slice with most disagreement (or its ground truth's middle), labels with most errors first. */
export function worstSlices(
  kase: Pick<AgreementCase, "gt" | "pred">,
  depth: number,
  plane: number,
  maxPanels: number,
): number[] {
  const perLabel = new Map<number, { errors: number[]; first: number; last: number }>();
  const statsOf = (label: number) => {
    let stats = perLabel.get(label);
    if (!stats)
      perLabel.set(label, (stats = { errors: new Array<number>(depth).fill(0), first: -1, last: -1 }));
    return stats;
  };
  for (let z = 0; z < depth; z++) {
    for (let i = z * plane; i < (z + 1) * plane; i++) {
      const g = kase.gt[i]!;
      const q = kase.pred[i]!;
      if (g !== 0) {
        const stats = statsOf(g);
        if (stats.first < 0) stats.first = z;
        stats.last = z;
      }
      if (g === q) continue;
      if (g !== 0) statsOf(g).errors[z]!++;
      if (q !== 0) statsOf(q).errors[z]!++;
    }
  }
  const ranked = [...perLabel.entries()]
    .map(([label, stats]) => {
      const total = stats.errors.reduce((a, b) => a + b, 0);
      const worst = stats.errors.indexOf(Math.max(...stats.errors));
      const slice = total > 0 ? worst : Math.floor((stats.first + stats.last) / 2);
      return { label, total, slice };
    })
    .sort((a, b) => b.total - a.total || a.label - b.label);
  const slices = [...new Set(ranked.map((r) => r.slice))].slice(0, maxPanels).sort((a, b) => a - b);
  return slices.length > 0 ? slices : [Math.floor(depth / 2)];
}

function sliceOf(data: ArrayLike<number>, start: number, end: number): ArrayLike<number> {
  const typed = data as unknown as { subarray?: (s: number, e: number) => ArrayLike<number> };
  return typeof typed.subarray === "function"
    ? typed.subarray(start, end)
    : Array.prototype.slice.call(data, start, end);
}

/** Averages blocks of f×f pixels (f the smallest integer that brings the longer side to ≤ maxSide). */
export function shrinkToFit(picture: RgbPicture, maxSide: number): RgbPicture {
  const f = Math.ceil(Math.max(picture.width, picture.height) / maxSide);
  if (f <= 1) return picture;
  const width = Math.ceil(picture.width / f);
  const height = Math.ceil(picture.height / f);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sums = [0, 0, 0];
      let n = 0;
      for (let yy = y * f; yy < Math.min((y + 1) * f, picture.height); yy++) {
        for (let xx = x * f; xx < Math.min((x + 1) * f, picture.width); xx++) {
          const p = (yy * picture.width + xx) * 3;
          for (let k = 0; k < 3; k++) sums[k]! += picture.data[p + k]!;
          n++;
        }
      }
      for (let k = 0; k < 3; k++) data[(y * width + x) * 3 + k] = Math.round(sums[k]! / n);
    }
  }
  return { data, width, height };
}
