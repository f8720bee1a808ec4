import type { Image2D } from "../image/types.js";
import { resizeArea } from "./resizeArea.js";

/** Where an H×W image lands in the square model frame. */
export interface ModelFrame {
  /** Side of the square model input (256). */
  size: number;
  /** Original image size. */
  height: number;
  width: number;
  /** Extent of the resized, unpadded image inside the frame. */
  resizedHeight: number;
  resizedWidth: number;
  /** size / max(height, width): original pixel coordinates → frame coordinates. */
  scale: number;
}

export function modelFrame(height: number, width: number, size: number): ModelFrame {
  const longest = Math.max(height, width);
  const scale = size / longest;
  return {
    size,
    height,
    width,
    // int(s * 256 / max(H, W) + 0.5), as the reference pipeline.
    resizedHeight: Math.floor((height * size) / longest + 0.5),
    resizedWidth: Math.floor((width * size) / longest + 0.5),
    scale,
  };
}

/**
 * Image → model input [3, size, size] float32 (CHW):
 * longest side → size with area resampling; min-max over the resized, unpadded image (all channels) to [0, 1]
 * (denominator ≥ 1e-8); zero-pad bottom/right; grey → 3 identical channels.
 */
export function preprocessImage(image: Image2D, size: number): { tensor: Float32Array; frame: ModelFrame } {
  const frame = modelFrame(image.height, image.width, size);
  const { resizedHeight: rh, resizedWidth: rw } = frame;
  const c = image.channels;
  const resized = resizeArea(image.data, image.height, image.width, c, rh, rw);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < resized.length; i++) {
    const v = resized[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const denom = Math.max(max - min, 1e-8);
  const plane = size * size;
  const tensor = new Float32Array(3 * plane);
  for (let y = 0; y < rh; y++) {
    for (let x = 0; x < rw; x++) {
      const src = (y * rw + x) * c;
      const dst = y * size + x;
      if (c === 1) {
        const v = (resized[src]! - min) / denom;
        tensor[dst] = v;
        tensor[plane + dst] = v;
        tensor[2 * plane + dst] = v;
      } else {
        tensor[dst] = (resized[src]! - min) / denom;
        tensor[plane + dst] = (resized[src + 1]! - min) / denom;
        tensor[2 * plane + dst] = (resized[src + 2]! - min) / denom;
      }
    }
  }
  return { tensor, frame };
}

/** A box [x0, y0, x1, y1] in original pixels → the model frame (scaled by size / max(H, W)). */
export function boxToFrame(
  box: readonly [number, number, number, number],
  frame: ModelFrame,
): [number, number, number, number] {
  const s = frame.scale;
  return [box[0] * s, box[1] * s, box[2] * s, box[3] * s];
}

/**
 * Bounding box (inclusive, original pixels) of a mask → the bounding box of that mask after area-resizing it into
 * the frame and thresholding > 0, i.e. every frame pixel whose footprint overlaps a foreground pixel.
 */
export function maskBoxToFrame(
  box: readonly [number, number, number, number],
  frame: ModelFrame,
): [number, number, number, number] {
  const sx = frame.width / frame.resizedWidth;
  const sy = frame.height / frame.resizedHeight;
  const eps = 1e-9;
  const x0 = Math.floor(box[0] / sx + eps);
  const y0 = Math.floor(box[1] / sy + eps);
  const x1 = Math.ceil((box[2] + 1) / sx - eps) - 1;
  const y1 = Math.ceil((box[3] + 1) / sy - eps) - 1;
  return [
    clamp(x0, 0, frame.resizedWidth - 1),
    clamp(y0, 0, frame.resizedHeight - 1),
    clamp(x1, 0, frame.resizedWidth - 1),
    clamp(y1, 0, frame.resizedHeight - 1),
  ];
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
