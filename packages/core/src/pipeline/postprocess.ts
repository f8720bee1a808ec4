import { guidedFilter, logitOf, radiusInPixels, type EdgeGuide } from "./edgeRefinement.js";
import type { PaintOrder } from "./paintOrder.js";
import type { PixelIndexList } from "./pixelIndexList.js";
import type { ModelFrame } from "./preprocess.js";

/** |logit| below this is doubtful: ln 3, i.e. a probability between 0.25 and 0.75 (maskConfidence.ts). */
export const UNSURE_LOGIT = Math.log(3);

/** Where a box's upsampled logits are sure (≥ ln 3) or doubtful (|logit| < ln 3), as label-plane pixel indices. */
export interface LogitClasses {
  sure: PixelIndexList;
  unsure: PixelIndexList;
}

/** Inclusive pixel bounding box [x0, y0, x1, y1]. */
export type PixelBox = [number, number, number, number];

/** Source taps of bilinear interpolation with align_corners=False (PyTorch's F.interpolate), for one axis. */
interface LinearTaps {
  i0: Int32Array;
  i1: Int32Array;
  w1: Float32Array;
}

function linearTaps(srcSize: number, dstSize: number): LinearTaps {
  const scale = srcSize / dstSize;
  const i0 = new Int32Array(dstSize);
  const i1 = new Int32Array(dstSize);
  const w1 = new Float32Array(dstSize);
  for (let d = 0; d < dstSize; d++) {
    let src = scale * (d + 0.5) - 0.5;
    if (src < 0) src = 0;
    const a = Math.min(Math.floor(src), srcSize - 1);
    i0[d] = a;
    i1[d] = a < srcSize - 1 ? a + 1 : a;
    w1[d] = src - a;
  }
  return { i0, i1, w1 };
}

/**
 * Turns one box's low-resolution logits (size×size, the model frame) into its mask at the original resolution:
 * crop to the resized extent, bilinear upsample to (H, W) (align_corners=False), threshold > 0.
 *
 * Only the output pixels whose four source taps include a positive logit can be positive (bilinear weights are a
 * convex combination), so the upsampling runs over that window only: the cost follows the object, not the image.
 * The mask is painted into `labels` with `label` where it goes over what is already there: by the case's paint
 * order (paintOrder.ts), else later boxes (higher labels) on top, so the result does not depend on the order the
 * boxes are decoded in (zoom tiles, 3D sweeps). Given `classes`, the upsampled logits
 * are also sorted into sure and doubtful pixels (the window then spans every logit above −ln 3, so none is missed):
 * what the mask confidence needs to tell which part of a mask stays visible under the masks above it. Given an
 * edge guide, the upsampled window (widened by three filter radii) is refined onto the image's edges before the
 * threshold and the sorting (edgeRefinement.ts). Given a clip rectangle (the box itself), nothing outside it is
 * painted or sorted: the box is the tight bound of its object, so a mask pixel outside it is a leak (boxClip).
 */
export class LogitUpsampler {
  private readonly ty: LinearTaps;
  private readonly tx: LinearTaps;

  /**
   * @param frame the model frame of the image (or tile) the logits belong to
   * @param target where that image sits in the label plane: its top-left corner and the plane's row length
   *   (default: the image is the whole plane)
   * @param order which label goes on top where masks overlap (default: the higher label)
   */
  constructor(
    private readonly frame: ModelFrame,
    private readonly target: { x0: number; y0: number; stride: number } = {
      x0: 0,
      y0: 0,
      stride: frame.width,
    },
    private readonly order?: PaintOrder,
  ) {
    this.ty = linearTaps(frame.resizedHeight, frame.height);
    this.tx = linearTaps(frame.resizedWidth, frame.width);
  }

  /**
   * @param logits all boxes' logits, N × size × size
   * @param index which box
   * @param labels output label plane, painted in place
   * @param classes when given, receives the label-plane indices of the sure and doubtful upsampled logits
   * @param guide when given, the upsampled logits are refined onto the image's edges (edgeRefinement.ts); the
   *   guide is the label plane's image
   * @param clip when given, label-plane pixels outside this inclusive rectangle are neither painted nor sorted
   * @returns the bounding box of this box's mask in label-plane pixels, or null when empty
   */
  paint(
    logits: Float32Array,
    index: number,
    labels: Uint16Array,
    label: number,
    classes?: LogitClasses,
    guide?: EdgeGuide,
    clip?: PixelBox,
  ): PixelBox | null {
    const { size, resizedHeight: rh, resizedWidth: rw, height: H, width: W } = this.frame;
    const base = index * size * size;
    // Bounding box of the logits that can make an output pixel positive (or, with classes, doubtful).
    const floor = classes ? -UNSURE_LOGIT : 0;
    let ly0 = rh;
    let ly1 = -1;
    let lx0 = rw;
    let lx1 = -1;
    for (let y = 0; y < rh; y++) {
      const row = base + y * size;
      for (let x = 0; x < rw; x++) {
        if (logits[row + x]! > floor) {
          if (y < ly0) ly0 = y;
          if (y > ly1) ly1 = y;
          if (x < lx0) lx0 = x;
          if (x > lx1) lx1 = x;
        }
      }
    }
    if (ly1 < 0) return null;
    let [oy0, oy1] = outputRange(this.ty, ly0, ly1, H);
    let [ox0, ox1] = outputRange(this.tx, lx0, lx1, W);
    // The guided filter can move the edge by up to two radii; a third keeps the window's border out of reach.
    const r = guide ? radiusInPixels(guide.settings, Math.max(H / rh, W / rw)) : 0;
    if (guide) {
      oy0 = Math.max(0, oy0 - 3 * r);
      ox0 = Math.max(0, ox0 - 3 * r);
      oy1 = Math.min(H - 1, oy1 + 3 * r);
      ox1 = Math.min(W - 1, ox1 + 3 * r);
    }
    const ww = ox1 - ox0 + 1;
    const wh = oy1 - oy0 + 1;
    // Bilinear upsampling of the window, in float64 as the arithmetic: without a guide, the sign and the doubtful
    // band are exactly those of the bilinear value. With a guide the window goes straight to probabilities, in
    // the guide's reused buffer (a large picture's window is tens of MB, costly to take fresh), and is refined
    // into logits there.
    const probabilities = guide?.workspace.buffer(1, ww * wh);
    const field = probabilities ?? new Float64Array(ww * wh);
    const { i0: yi0, i1: yi1, w1: yw } = this.ty;
    const { i0: xi0, i1: xi1, w1: xw } = this.tx;
    const sigmoid = probabilities !== undefined;
    for (let y = oy0; y <= oy1; y++) {
      const r0 = base + yi0[y]! * size;
      const r1 = base + yi1[y]! * size;
      const wy = yw[y]!;
      const row = (y - oy0) * ww - ox0;
      for (let x = ox0; x <= ox1; x++) {
        const a = xi0[x]!;
        const b = xi1[x]!;
        const wx = xw[x]!;
        const top = logits[r0 + a]! + (logits[r0 + b]! - logits[r0 + a]!) * wx;
        const bottom = logits[r1 + a]! + (logits[r1 + b]! - logits[r1 + a]!) * wx;
        const v = top + (bottom - top) * wy;
        field[row + x] = sigmoid ? 1 / (1 + Math.exp(-v)) : v;
      }
    }
    const refined =
      guide && probabilities
        ? refineProbabilities(probabilities, guide, this.target.x0 + ox0, this.target.y0 + oy0, ww, wh, r)
        : field;

    // The part of the window painted and sorted: all of it, or its intersection with the clip rectangle.
    const { x0: tx, y0: ty } = this.target;
    const py0 = clip ? Math.max(oy0, clip[1] - ty) : oy0;
    const py1 = clip ? Math.min(oy1, clip[3] - ty) : oy1;
    const px0 = clip ? Math.max(ox0, clip[0] - tx) : ox0;
    const px1 = clip ? Math.min(ox1, clip[2] - tx) : ox1;

    const rank = this.order?.rank;
    const layer = rank ? rank[label]! : label;
    let by0 = H;
    let by1 = -1;
    let bx0 = W;
    let bx1 = -1;
    for (let y = py0; y <= py1; y++) {
      const row = (y - oy0) * ww - ox0;
      const outRow = (y + ty) * this.target.stride + tx;
      for (let x = px0; x <= px1; x++) {
        const v = refined[row + x]!;
        if (classes) {
          if (v >= UNSURE_LOGIT) classes.sure.push(outRow + x);
          else if (v > -UNSURE_LOGIT) classes.unsure.push(outRow + x);
        }
        if (v > 0) {
          const current = labels[outRow + x]!;
          if ((rank ? rank[current]! : current) < layer) labels[outRow + x] = label;
          if (y < by0) by0 = y;
          if (y > by1) by1 = y;
          if (x < bx0) bx0 = x;
          if (x > bx1) bx1 = x;
        }
      }
    }
    return by1 < 0 ? null : [bx0 + tx, by0 + ty, bx1 + tx, by1 + ty];
  }
}

/**
 * The label-plane pixels a box may paint when masks are clipped to their boxes: every pixel the box touches
 * (fractional bounds widened to whole pixels; max corner inclusive, as the challenge's boxes are), within the
 * width × height plane.
 */
export function boxClip(box: readonly number[], width: number, height: number): PixelBox {
  return [
    Math.max(0, Math.floor(box[0]!)),
    Math.max(0, Math.floor(box[1]!)),
    Math.min(width - 1, Math.ceil(box[2]!)),
    Math.min(height - 1, Math.ceil(box[3]!)),
  ];
}

/** Upsampled probabilities (the guide's workspace buffer 1) → guided filter with the image window → logits. */
function refineProbabilities(
  p: Float32Array,
  guide: EdgeGuide,
  x0: number,
  y0: number,
  w: number,
  h: number,
  r: number,
): Float32Array {
  const { workspace } = guide;
  const I = guide.window(x0, y0, w, h, workspace.buffer(0, p.length));
  const q = guidedFilter(I, p, w, h, r, guide.settings.eps, workspace);
  for (let i = 0; i < q.length; i++) q[i] = logitOf(q[i]!);
  return q;
}

/** Output indices d whose taps (i0[d], i1[d]) touch [lo, hi]; taps are monotonic in d. */
function outputRange(t: LinearTaps, lo: number, hi: number, n: number): [number, number] {
  let first = 0;
  while (first < n && t.i1[first]! < lo) first++;
  let last = n - 1;
  while (last >= 0 && t.i0[last]! > hi) last--;
  return [first, last];
}
