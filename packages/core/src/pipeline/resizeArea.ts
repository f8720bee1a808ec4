/**
 * Area resampling as an exact box filter, separable in y and x.
 *
 * Output pixel i covers the source interval [i·s, (i+1)·s) with s = srcSize / dstSize; each source pixel j
 * contributes with weight overlap([j, j+1), [i·s, (i+1)·s)) / s. When shrinking this is the mean over the
 * footprint; when enlarging it is a two-tap interpolation. Both equal OpenCV's INTER_AREA (the resampling of
 * the LiteMedSAM/DAFT reference), without its rounding back to uint8. The Python training package implements
 * the same definition (training/daft_train/data/preprocess.py); fixtures/preprocess/vectors.npz proves it.
 */
export interface AxisWeights {
  /** For output i: source indices starts[i] .. starts[i] + counts[i] - 1. */
  starts: Int32Array;
  counts: Int32Array;
  /** Flattened weights, offsets[i] into weights. */
  offsets: Int32Array;
  weights: Float32Array;
}

export function areaAxisWeights(srcSize: number, dstSize: number): AxisWeights {
  const s = srcSize / dstSize;
  const starts = new Int32Array(dstSize);
  const counts = new Int32Array(dstSize);
  const offsets = new Int32Array(dstSize);
  const w: number[] = [];
  for (let i = 0; i < dstSize; i++) {
    const lo = i * s;
    const hi = Math.min((i + 1) * s, srcSize);
    const j0 = Math.floor(lo);
    const j1 = Math.min(Math.ceil(hi) - 1, srcSize - 1);
    starts[i] = j0;
    offsets[i] = w.length;
    let n = 0;
    for (let j = j0; j <= j1; j++) {
      const overlap = Math.min(hi, j + 1) - Math.max(lo, j);
      if (overlap > 1e-9 || j === j0) {
        w.push(Math.max(overlap, 0) / s);
        n++;
      } else {
        break;
      }
    }
    counts[i] = n;
  }
  return { starts, counts, offsets, weights: Float32Array.from(w) };
}

/**
 * Resize an interleaved (H, W, C) image to (dstH, dstW, C) with area resampling.
 * Returns float32; input may be any typed array of numbers.
 */
export function resizeArea(
  src: ArrayLike<number>,
  height: number,
  width: number,
  channels: number,
  dstHeight: number,
  dstWidth: number,
): Float32Array {
  const wx = areaAxisWeights(width, dstWidth);
  const wy = areaAxisWeights(height, dstHeight);
  // Pass 1: x direction, (H, W, C) → (H, dstW, C).
  const tmp = new Float32Array(height * dstWidth * channels);
  for (let y = 0; y < height; y++) {
    const rowIn = y * width * channels;
    const rowOut = y * dstWidth * channels;
    for (let x = 0; x < dstWidth; x++) {
      const j0 = wx.starts[x]!;
      const n = wx.counts[x]!;
      const off = wx.offsets[x]!;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += src[rowIn + (j0 + k) * channels + c]! * wx.weights[off + k]!;
        tmp[rowOut + x * channels + c] = acc;
      }
    }
  }
  // Pass 2: y direction, (H, dstW, C) → (dstH, dstW, C).
  const rowLen = dstWidth * channels;
  const out = new Float32Array(dstHeight * rowLen);
  for (let y = 0; y < dstHeight; y++) {
    const j0 = wy.starts[y]!;
    const n = wy.counts[y]!;
    const off = wy.offsets[y]!;
    const o = y * rowLen;
    for (let k = 0; k < n; k++) {
      const wgt = wy.weights[off + k]!;
      const r = (j0 + k) * rowLen;
      for (let i = 0; i < rowLen; i++) out[o + i]! += tmp[r + i]! * wgt;
    }
  }
  return out;
}
