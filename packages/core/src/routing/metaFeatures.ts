/**
 * Cheap meta-features of a challenge case (image + box prompts) for the learned expert selector and for
 * data-driven subsets. Pixels are read on a fixed stride grid (about 65 k samples; 3D: at most 16 evenly spaced
 * slices), so a 287×512×512 volume costs a few milliseconds. Deterministic; file names are never used.
 *
 * Intensities are expected in [0, 255] (challenge images are uint8). Float images with values outside that range
 * are mapped to [0, 255] by the min and max of the sampled values. RGB images are summarised on their gray
 * value (mean of the channels) plus separate colour features; grayscale images have colour features 0.
 */
import type { Box2D, Box3D, Image2D, Volume } from "../image/types.js";
import type { ChallengeCase } from "../io/challengeCase.js";

/** Feature names in the fixed order of `MetaFeatures.values`. */
export const META_FEATURE_NAMES = [
  // geometry
  "dimension",
  "channels",
  "log_height",
  "log_width",
  "log_depth",
  "log_aspect_w_over_h",
  "log_pixels",
  // spacing (mm); 0 when unknown
  "spacing_z",
  "spacing_y",
  "spacing_x",
  "log_anisotropy_z",
  "has_spacing",
  // gray-value histogram (16 bins of 16 levels, shares)
  ...Array.from({ length: 16 }, (_, i) => `hist_${String(i).padStart(2, "0")}`),
  "entropy_bits",
  "mean",
  "std",
  "skewness",
  "p05",
  "p50",
  "p95",
  "black_share",
  "white_share",
  "levels_used_share",
  // layout
  "border_mean",
  "corner_black_share",
  "center_minus_mean",
  // colour (0 for grayscale)
  "mean_r",
  "mean_g",
  "mean_b",
  "mean_saturation",
  "mean_r_minus_g",
  "mean_r_minus_b",
  "channel_spread",
  // texture
  "gradient_fine",
  "gradient_coarse",
  "edge_share",
  "gradient_z",
  // box prompts
  "log_box_count",
  "box_log_rel_area_median",
  "box_log_rel_area_min",
  "box_log_rel_area_max",
  "box_log_aspect_median",
  "box_rel_depth_median",
  "box_center_x_mean",
  "box_center_y_mean",
  "box_center_spread",
  "box_inside_minus_mean",
  "box_inside_std",
] as const;

export type MetaFeatureName = (typeof META_FEATURE_NAMES)[number];

export interface MetaFeatures {
  dimension: 2 | 3;
  /** One value per name of META_FEATURE_NAMES, in that order. */
  values: Float64Array;
}

/** About this many pixels are sampled per image. */
const TARGET_SAMPLES = 65536;
/** Most slices of a volume that are sampled. */
const MAX_SLICES = 16;
const BLACK_LEVEL = 5;
const WHITE_LEVEL = 250;
const EDGE_LEVEL = 20;
/** Box interiors are sampled on at most this many points per side. */
const BOX_GRID = 8;

const INDEX = new Map<string, number>(META_FEATURE_NAMES.map((n, i) => [n, i]));

/** Features of a decoded challenge case. */
export function metaFeaturesOfCase(kase: ChallengeCase): MetaFeatures {
  return kase.kind === "2d"
    ? metaFeaturesOfImage(kase.image, kase.boxes, kase.spacing)
    : metaFeaturesOfVolume(kase.volume, kase.boxes);
}

/** The features as a name → value record (for reports and JSON). */
export function metaFeatureRecord(features: MetaFeatures): Record<MetaFeatureName, number> {
  return Object.fromEntries(META_FEATURE_NAMES.map((n, i) => [n, features.values[i]!])) as Record<
    MetaFeatureName,
    number
  >;
}

/** One sampled plane: H×W×C interleaved values starting at `offset` in `data`. */
interface Plane {
  data: Uint8Array | Float32Array;
  offset: number;
  height: number;
  width: number;
  channels: number;
}

export function metaFeaturesOfImage(
  image: Image2D,
  boxes: Box2D[],
  spacing?: [number, number],
): MetaFeatures {
  const { height: H, width: W, channels: C } = image;
  const stride = Math.max(1, Math.floor(Math.sqrt((H * W) / TARGET_SAMPLES)));
  const plane: Plane = { data: image.data, offset: 0, height: H, width: W, channels: C };
  const f = new Float64Array(META_FEATURE_NAMES.length);
  const set = (name: MetaFeatureName, v: number) => (f[INDEX.get(name)!] = Number.isFinite(v) ? v : 0);

  set("dimension", 2);
  set("channels", C);
  setGeometry(set, H, W, 1);
  if (spacing) {
    set("spacing_y", spacing[0]);
    set("spacing_x", spacing[1]);
    set("has_spacing", 1);
  }
  const transform = grayTransform([plane], stride);
  const stats = sampleIntensities([plane], stride, transform, null);
  setIntensity(set, stats);

  // Box prompts.
  const rel = boxes.map((b) => {
    const w = b[2] - b[0] + 1;
    const h = b[3] - b[1] + 1;
    return {
      logArea: Math.log10(Math.max(w * h, 1) / (H * W)),
      logAspect: Math.log(Math.max(w, 1) / Math.max(h, 1)),
      depth: 0,
      cx: (b[0] + b[2] + 1) / 2 / W,
      cy: (b[1] + b[3] + 1) / 2 / H,
    };
  });
  const inside = boxes.map((b) => boxInterior(plane, transform, b[0], b[1], b[2], b[3]));
  setBoxes(set, rel, inside, stats.mean);
  return { dimension: 2, values: f };
}

export function metaFeaturesOfVolume(volume: Volume, boxes: Box3D[]): MetaFeatures {
  const { depth: D, height: H, width: W } = volume;
  const sliceCount = Math.min(D, MAX_SLICES);
  const slices = Array.from({ length: sliceCount }, (_, i) => Math.floor(((i + 0.5) * D) / sliceCount));
  const stride = Math.max(1, Math.floor(Math.sqrt((H * W * sliceCount) / TARGET_SAMPLES)));
  const planeAt = (z: number): Plane => ({
    data: volume.data,
    offset: z * H * W,
    height: H,
    width: W,
    channels: 1,
  });
  const planes = slices.map(planeAt);
  const f = new Float64Array(META_FEATURE_NAMES.length);
  const set = (name: MetaFeatureName, v: number) => (f[INDEX.get(name)!] = Number.isFinite(v) ? v : 0);

  set("dimension", 3);
  set("channels", 1);
  setGeometry(set, H, W, D);
  const [sz, sy, sx] = volume.spacing;
  set("spacing_z", sz);
  set("spacing_y", sy);
  set("spacing_x", sx);
  set("log_anisotropy_z", Math.log(sz / Math.max((sy + sx) / 2, 1e-6)));
  set("has_spacing", 1);

  const transform = grayTransform(planes, stride);
  // The neighbour slice of each sampled slice, for the through-plane gradient.
  const next = slices.map((z) => planeAt(z + 1 < D ? z + 1 : Math.max(z - 1, 0)));
  const stats = sampleIntensities(planes, stride, transform, next);
  setIntensity(set, stats);

  const rel = boxes.map((b) => {
    const w = b[3] - b[0] + 1;
    const h = b[4] - b[1] + 1;
    const d = b[5] - b[2] + 1;
    return {
      logArea: Math.log10(Math.max(w * h, 1) / (H * W)),
      logAspect: Math.log(Math.max(w, 1) / Math.max(h, 1)),
      depth: d / D,
      cx: (b[0] + b[3] + 1) / 2 / W,
      cy: (b[1] + b[4] + 1) / 2 / H,
    };
  });
  const inside = boxes.map((b) => {
    const z = Math.min(D - 1, Math.max(0, Math.round((b[2] + b[5]) / 2)));
    return boxInterior(planeAt(z), transform, b[0], b[1], b[3], b[4]);
  });
  setBoxes(set, rel, inside, stats.mean);
  return { dimension: 3, values: f };
}

type Setter = (name: MetaFeatureName, v: number) => void;

function setGeometry(set: Setter, H: number, W: number, D: number): void {
  set("log_height", Math.log(H));
  set("log_width", Math.log(W));
  set("log_depth", Math.log(D));
  set("log_aspect_w_over_h", Math.log(W / H));
  set("log_pixels", Math.log(H * W * D));
}

/** Maps raw values to gray levels in [0, 255]: identity for uint8-range data, else min–max of the samples. */
interface GrayTransform {
  offset: number;
  scale: number;
}

function grayTransform(planes: Plane[], stride: number): GrayTransform {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of planes) {
    if (p.data instanceof Uint8Array) return { offset: 0, scale: 1 };
    for (let y = stride >> 1; y < p.height; y += stride) {
      for (let x = stride >> 1; x < p.width; x += stride) {
        const v = grayAt(p, y, x, 0, 1);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  if (!(lo < hi) || (lo >= 0 && hi <= 255)) return { offset: 0, scale: 1 };
  return { offset: lo, scale: 255 / (hi - lo) };
}

function grayAt(p: Plane, y: number, x: number, offset: number, scale: number): number {
  const i = p.offset + (y * p.width + x) * p.channels;
  const raw = p.channels === 1 ? p.data[i]! : (p.data[i]! + p.data[i + 1]! + p.data[i + 2]!) / 3;
  const v = (raw - offset) * scale;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

interface IntensityStats {
  count: number;
  levels: Float64Array;
  mean: number;
  std: number;
  skewness: number;
  blackShare: number;
  whiteShare: number;
  borderMean: number;
  cornerBlackShare: number;
  centerMean: number;
  colour: {
    r: number;
    g: number;
    b: number;
    saturation: number;
    rg: number;
    rb: number;
    spread: number;
  } | null;
  gradientFine: number;
  gradientCoarse: number;
  edgeShare: number;
  gradientZ: number;
}

function sampleIntensities(
  planes: Plane[],
  stride: number,
  t: GrayTransform,
  nextPlanes: Plane[] | null,
): IntensityStats {
  const levels = new Float64Array(256);
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  let sumCube = 0;
  let black = 0;
  let white = 0;
  let borderSum = 0;
  let borderN = 0;
  let cornerBlack = 0;
  let cornerN = 0;
  let centerSum = 0;
  let centerN = 0;
  let r = 0;
  let g = 0;
  let b = 0;
  let sat = 0;
  let rg = 0;
  let rb = 0;
  let spread = 0;
  let gradFine = 0;
  let gradCoarse = 0;
  let edges = 0;
  let gradZ = 0;
  const colourScale = t.scale;
  planes.forEach((p, pi) => {
    const { height: H, width: W, channels: C } = p;
    const coarse = Math.max(1, Math.round(Math.min(H, W) / 64));
    const bx = Math.max(1, Math.floor(W * 0.05));
    const by = Math.max(1, Math.floor(H * 0.05));
    const cxs = Math.floor(W * 0.1);
    const cys = Math.floor(H * 0.1);
    const next = nextPlanes?.[pi];
    for (let y = stride >> 1; y < H; y += stride) {
      const yFine = y + 1 < H ? y + 1 : Math.max(y - 1, 0);
      const yCoarse = y + coarse < H ? y + coarse : Math.max(y - coarse, 0);
      for (let x = stride >> 1; x < W; x += stride) {
        const v = grayAt(p, y, x, t.offset, t.scale);
        levels[Math.round(v)]! += 1;
        n++;
        sum += v;
        sumSq += v * v;
        sumCube += v * v * v;
        if (v <= BLACK_LEVEL) black++;
        if (v >= WHITE_LEVEL) white++;
        if (y < by || y >= H - by || x < bx || x >= W - bx) {
          borderSum += v;
          borderN++;
        }
        if ((y < cys || y >= H - cys) && (x < cxs || x >= W - cxs)) {
          cornerN++;
          if (v <= BLACK_LEVEL) cornerBlack++;
        }
        if (y >= H / 4 && y < (3 * H) / 4 && x >= W / 4 && x < (3 * W) / 4) {
          centerSum += v;
          centerN++;
        }
        const xFine = x + 1 < W ? x + 1 : Math.max(x - 1, 0);
        const xCoarse = x + coarse < W ? x + coarse : Math.max(x - coarse, 0);
        const fine =
          Math.abs(grayAt(p, y, xFine, t.offset, t.scale) - v) +
          Math.abs(grayAt(p, yFine, x, t.offset, t.scale) - v);
        gradFine += fine;
        if (fine > EDGE_LEVEL) edges++;
        gradCoarse +=
          Math.abs(grayAt(p, y, xCoarse, t.offset, t.scale) - v) +
          Math.abs(grayAt(p, yCoarse, x, t.offset, t.scale) - v);
        if (next) gradZ += Math.abs(grayAt(next, y, x, t.offset, t.scale) - v);
        if (C === 3) {
          const i = p.offset + (y * W + x) * 3;
          const cr = (p.data[i]! - t.offset) * colourScale;
          const cg = (p.data[i + 1]! - t.offset) * colourScale;
          const cb = (p.data[i + 2]! - t.offset) * colourScale;
          r += cr;
          g += cg;
          b += cb;
          const max = Math.max(cr, cg, cb);
          const min = Math.min(cr, cg, cb);
          sat += max > 0 ? (max - min) / max : 0;
          rg += cr - cg;
          rb += cr - cb;
          const m = (cr + cg + cb) / 3;
          spread += Math.sqrt(((cr - m) ** 2 + (cg - m) ** 2 + (cb - m) ** 2) / 3);
        }
      }
    }
  });
  const N = Math.max(n, 1);
  const mean = sum / N;
  const variance = Math.max(sumSq / N - mean * mean, 0);
  const std = Math.sqrt(variance);
  const thirdCentral = sumCube / N - 3 * mean * (sumSq / N) + 2 * mean ** 3;
  return {
    count: n,
    levels,
    mean,
    std,
    skewness: std > 1e-9 ? thirdCentral / std ** 3 : 0,
    blackShare: black / N,
    whiteShare: white / N,
    borderMean: borderN > 0 ? borderSum / borderN : mean,
    cornerBlackShare: cornerN > 0 ? cornerBlack / cornerN : black / N,
    centerMean: centerN > 0 ? centerSum / centerN : mean,
    colour:
      planes[0]?.channels === 3
        ? { r: r / N, g: g / N, b: b / N, saturation: sat / N, rg: rg / N, rb: rb / N, spread: spread / N }
        : null,
    gradientFine: gradFine / N,
    gradientCoarse: gradCoarse / N,
    edgeShare: edges / N,
    gradientZ: nextPlanes ? gradZ / N : 0,
  };
}

function setIntensity(set: Setter, s: IntensityStats): void {
  const N = Math.max(s.count, 1);
  let entropy = 0;
  let used = 0;
  for (let level = 0; level < 256; level++) {
    const c = s.levels[level]!;
    if (c > 0) {
      used++;
      entropy -= (c / N) * Math.log2(c / N);
    }
  }
  for (let bin = 0; bin < 16; bin++) {
    let c = 0;
    for (let level = bin * 16; level < bin * 16 + 16; level++) c += s.levels[level]!;
    set(`hist_${String(bin).padStart(2, "0")}` as MetaFeatureName, c / N);
  }
  set("entropy_bits", entropy);
  set("mean", s.mean / 255);
  set("std", s.std / 255);
  set("skewness", s.skewness);
  set("p05", percentileLevel(s.levels, N, 0.05) / 255);
  set("p50", percentileLevel(s.levels, N, 0.5) / 255);
  set("p95", percentileLevel(s.levels, N, 0.95) / 255);
  set("black_share", s.blackShare);
  set("white_share", s.whiteShare);
  set("levels_used_share", used / 256);
  set("border_mean", s.borderMean / 255);
  set("corner_black_share", s.cornerBlackShare);
  set("center_minus_mean", (s.centerMean - s.mean) / 255);
  if (s.colour) {
    set("mean_r", s.colour.r / 255);
    set("mean_g", s.colour.g / 255);
    set("mean_b", s.colour.b / 255);
    set("mean_saturation", s.colour.saturation);
    set("mean_r_minus_g", s.colour.rg / 255);
    set("mean_r_minus_b", s.colour.rb / 255);
    set("channel_spread", s.colour.spread / 255);
  }
  set("gradient_fine", s.gradientFine / 255);
  set("gradient_coarse", s.gradientCoarse / 255);
  set("edge_share", s.edgeShare);
  set("gradient_z", s.gradientZ / 255);
}

function percentileLevel(levels: Float64Array, total: number, q: number): number {
  let cumulative = 0;
  for (let level = 0; level < 256; level++) {
    cumulative += levels[level]!;
    if (cumulative >= q * total) return level;
  }
  return 255;
}

/** Gray values on an up-to 8×8 grid inside the (inclusive, clamped) box. */
function boxInterior(p: Plane, t: GrayTransform, x0: number, y0: number, x1: number, y1: number): number[] {
  const clampX = (v: number) => Math.min(p.width - 1, Math.max(0, Math.round(v)));
  const clampY = (v: number) => Math.min(p.height - 1, Math.max(0, Math.round(v)));
  const [ax, bx] = [clampX(Math.min(x0, x1)), clampX(Math.max(x0, x1))];
  const [ay, by] = [clampY(Math.min(y0, y1)), clampY(Math.max(y0, y1))];
  const nx = Math.min(BOX_GRID, bx - ax + 1);
  const ny = Math.min(BOX_GRID, by - ay + 1);
  const values: number[] = [];
  for (let j = 0; j < ny; j++) {
    const y = ay + Math.floor(((j + 0.5) * (by - ay + 1)) / ny);
    for (let i = 0; i < nx; i++) {
      const x = ax + Math.floor(((i + 0.5) * (bx - ax + 1)) / nx);
      values.push(grayAt(p, y, x, t.offset, t.scale));
    }
  }
  return values;
}

interface RelativeBox {
  logArea: number;
  logAspect: number;
  depth: number;
  cx: number;
  cy: number;
}

function setBoxes(set: Setter, rel: RelativeBox[], inside: number[][], imageMean: number): void {
  set("log_box_count", Math.log1p(rel.length));
  if (rel.length === 0) return;
  const areas = rel.map((b) => b.logArea);
  set("box_log_rel_area_median", median(areas));
  set("box_log_rel_area_min", Math.min(...areas));
  set("box_log_rel_area_max", Math.max(...areas));
  set("box_log_aspect_median", median(rel.map((b) => b.logAspect)));
  set("box_rel_depth_median", median(rel.map((b) => b.depth)));
  const mx = rel.reduce((a, b) => a + b.cx, 0) / rel.length;
  const my = rel.reduce((a, b) => a + b.cy, 0) / rel.length;
  set("box_center_x_mean", mx);
  set("box_center_y_mean", my);
  const spread = rel.reduce((a, b) => a + (b.cx - mx) ** 2 + (b.cy - my) ** 2, 0) / rel.length;
  set("box_center_spread", Math.sqrt(spread));
  let n = 0;
  let s = 0;
  let ss = 0;
  for (const values of inside) {
    for (const v of values) {
      n++;
      s += v;
      ss += v * v;
    }
  }
  if (n > 0) {
    const m = s / n;
    set("box_inside_minus_mean", (m - imageMean) / 255);
    set("box_inside_std", Math.sqrt(Math.max(ss / n - m * m, 0)) / 255);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
