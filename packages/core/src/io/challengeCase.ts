/**
 * A challenge case (.npz with 'imgs', 'boxes' and, for 3D, 'spacing') turned into a validated image + boxes.
 *
 * 2D: imgs (H,W), (H,W,1), (H,W,3) or (H,W,4) (alpha dropped); boxes (N,4) [x0,y0,x1,y1]; optional spacing (2,).
 * 3D: imgs (D,H,W); boxes (N,6) [x0,y0,z0,x1,y1,z1]; spacing (3,) in mm in array-axis order (z,y,x).
 * The box width (4 or 6) decides between 2D and 3D. Max coordinates are inclusive; a max equal to the image size
 * (an exclusive-style bound) is clamped to size - 1. Every problem is a DaftInputError naming `source`.
 */
import { DaftInputError } from "../errors.js";
import { rgbaToRgb } from "../image/channels.js";
import type { Box2D, Box3D, Image2D, NdArray, Volume } from "../image/types.js";
import { writeNpz } from "./npz.js";

export type ChallengeCase =
  | { kind: "2d"; image: Image2D; boxes: Box2D[]; spacing?: [number, number] }
  | { kind: "3d"; volume: Volume; boxes: Box3D[] };

export interface CaseLimits {
  /** Most boxes one case may hold (default 1000). */
  maxBoxes?: number;
  /** Most pixels (H*W) or voxels (D*H*W) an image may have (default 2^31 - 1). */
  maxVoxels?: number;
}

type Fail = (problem: string) => never;

const DEFAULT_MAX_BOXES = 1000;
const DEFAULT_MAX_VOXELS = 2 ** 31 - 1;

export function decodeChallengeCase(
  arrays: Map<string, NdArray>,
  source: string,
  limits: CaseLimits = {},
): ChallengeCase {
  const fail: Fail = (problem) => {
    throw new DaftInputError(problem, source);
  };
  const imgs = arrays.get("imgs");
  const boxesArray = arrays.get("boxes");
  if (!imgs || !boxesArray) {
    const present = [...arrays.keys()].map((k) => `'${k}'`).join(", ") || "none";
    fail(`missing ${!imgs ? "'imgs'" : "'boxes'"} (keys present: ${present})`);
  }
  const { shape } = imgs;

  if (!numeric(imgs) && imgs.dtype !== "bool") fail(`imgs must be numeric, got dtype ${imgs.dtype}`);
  if (shape.length < 2 || shape.length > 3) {
    fail(`imgs must have shape (H,W), (H,W,3) or (D,H,W), got ${formatShape(shape)}`);
  }
  if (shape.some((d) => d === 0)) fail(`imgs has an empty dimension: shape ${formatShape(shape)}`);

  const boxWidth = boxesArray.shape.length === 0 ? 0 : boxesArray.shape[boxesArray.shape.length - 1]!;
  const boxesShapeOk =
    (boxesArray.shape.length === 1 || boxesArray.shape.length === 2) && [4, 6].includes(boxWidth);
  if (!boxesShapeOk) {
    fail(`boxes must have shape (N,4) for 2D or (N,6) for 3D, got ${formatShape(boxesArray.shape)}`);
  }
  if (!numeric(boxesArray)) fail(`boxes must be numeric, got dtype ${boxesArray.dtype}`);
  const is3d = boxWidth === 6;
  const colorLike = shape.length === 3 && [1, 3, 4].includes(shape[2]!);
  if (is3d && shape.length !== 3) {
    fail(
      `boxes have 6 coordinates (3D) but imgs has shape ${formatShape(shape)}; a 3D case needs imgs (D,H,W)`,
    );
  }
  if (!is3d && shape.length === 3 && !colorLike) {
    fail(
      `boxes have 4 coordinates (2D) but imgs has shape ${formatShape(shape)}; ` +
        "a 2D case needs imgs (H,W), (H,W,1), (H,W,3) or (H,W,4), a 3D case boxes (N,6)",
    );
  }

  const spatial = is3d ? shape : shape.slice(0, 2);
  const voxels = spatial.reduce((a, b) => a * b, 1);
  const maxVoxels = limits.maxVoxels ?? DEFAULT_MAX_VOXELS;
  if (voxels > maxVoxels)
    fail(`imgs is too large: ${formatShape(shape)} has ${voxels} voxels, the limit is ${maxVoxels}`);

  const boxCount = boxesArray.shape.length === 1 ? 1 : boxesArray.shape[0]!;
  const maxBoxes = limits.maxBoxes ?? DEFAULT_MAX_BOXES;
  if (boxCount === 0) fail("no boxes");
  if (boxCount > maxBoxes) fail(`too many boxes: ${boxCount}, the limit is ${maxBoxes}`);

  const coordinates = Array.from(boxesArray.data as ArrayLike<number | bigint>, Number);
  if (is3d) {
    const [depth, height, width] = shape as [number, number, number];
    const spacing = decodeSpacing(arrays.get("spacing"), 3, fail) as [number, number, number] | undefined;
    if (!spacing) fail("missing 'spacing' (3,) in mm (z, y, x), required for a 3D case");
    const boxes = checkBoxes(coordinates, [width, height, depth], fail) as Box3D[];
    const data = imageData(imgs, fail);
    return { kind: "3d", volume: { data, depth, height, width, spacing }, boxes };
  }

  const [height, width] = shape as [number, number];
  const spacing = decodeSpacing(arrays.get("spacing"), 2, fail) as [number, number] | undefined;
  const boxes = checkBoxes(coordinates, [width, height], fail) as Box2D[];
  const channelsInFile = shape.length === 3 ? shape[2]! : 1;
  let data = imageData(imgs, fail);
  if (channelsInFile === 4) data = rgbaToRgb(data);
  const image: Image2D = { data, height, width, channels: channelsInFile === 1 ? 1 : 3 };
  return spacing ? { kind: "2d", image, boxes, spacing } : { kind: "2d", image, boxes };
}

/** A compressed .npz with key 'segs' (uint16, the given shape) plus any extra arrays, for challenge output. */
export function encodeSegmentationNpz(
  segs: Uint16Array,
  shape: number[],
  extra: Record<string, NdArray> = {},
): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== segs.length) {
    throw new Error(
      `encodeSegmentationNpz: shape ${formatShape(shape)} needs ${count} values, segs has ${segs.length}`,
    );
  }
  if ("segs" in extra) throw new Error("encodeSegmentationNpz: extra arrays must not be named 'segs'");
  return writeNpz({ segs: { data: segs, shape, dtype: "uint16" }, ...extra }, { compress: true, level: 1 });
}

function numeric(arr: NdArray): boolean {
  return /^(u?int(8|16|32|64)|float(16|32|64))$/.test(arr.dtype);
}

function formatShape(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/** imgs as Uint8Array (uint8 kept as is) or Float32Array (everything else, bool as 0/1), all values finite. */
function imageData(imgs: NdArray, fail: Fail): Uint8Array | Float32Array {
  if (imgs.dtype === "uint8") return imgs.data as Uint8Array;
  const source = imgs.data;
  const data =
    source instanceof Float32Array
      ? source
      : source instanceof BigInt64Array || source instanceof BigUint64Array
        ? Float32Array.from(source, Number)
        : new Float32Array(source);
  if (!imgs.dtype.startsWith("float")) return data; // integers are always finite
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    if (Number.isFinite(value)) continue;
    const original = Number(source[i]!);
    const where = formatIndex(i, imgs.shape);
    if (Number.isNaN(original)) fail(`imgs contains NaN at ${where}`);
    if (!Number.isFinite(original)) fail(`imgs contains ${original > 0 ? "+Inf" : "-Inf"} at ${where}`);
    fail(`imgs value ${original} at ${where} is too large for float32`);
  }
  return data;
}

/** A flat C-order index as "[i, j, k]" in the given shape. */
function formatIndex(flat: number, shape: number[]): string {
  const index: number[] = [];
  for (let k = shape.length - 1; k >= 0; k--) {
    index.unshift(flat % shape[k]!);
    flat = Math.floor(flat / shape[k]!);
  }
  return `[${index.join(", ")}]`;
}

function decodeSpacing(spacing: NdArray | undefined, length: 2 | 3, fail: Fail): number[] | undefined {
  if (!spacing) return undefined;
  const axes = length === 3 ? "z, y, x" : "y, x";
  if (!numeric(spacing) || spacing.shape.length !== 1 || spacing.shape[0] !== length) {
    fail(
      `spacing must be ${length} numbers (${axes}) in mm, shape (${length},), got ${spacing.dtype} ${formatShape(spacing.shape)}`,
    );
  }
  const values = Array.from(spacing.data as ArrayLike<number | bigint>, Number);
  if (!values.every((v) => Number.isFinite(v) && v > 0)) {
    fail(`spacing must be finite and > 0, got [${values.join(", ")}]`);
  }
  return values;
}

/**
 * Splits flat coordinates into boxes [mins..., maxes...] over axes of the given sizes (x, y[, z]) and checks each:
 * finite, not inverted, inside the image. Coordinates above size - 1 (up to size for a max) are clamped to size - 1.
 */
function checkBoxes(coordinates: number[], sizes: number[], fail: Fail): number[][] {
  const axes = sizes.length;
  const axisNames = ["x", "y", "z"];
  const extent = `${["W", "H", "D"].slice(0, axes).join("×")} = ${sizes.join("×")}`;
  const boxes: number[][] = [];
  for (let b = 0; b * 2 * axes < coordinates.length; b++) {
    const box = coordinates.slice(b * 2 * axes, (b + 1) * 2 * axes);
    const shown = `[${box.join(", ")}]`;
    if (!box.every(Number.isFinite)) fail(`box ${b} ${shown} has a non-finite coordinate`);
    for (let a = 0; a < axes; a++) {
      const name = axisNames[a]!;
      if (box[a]! > box[a + axes]!) fail(`box ${b} is inverted: ${shown} has ${name}0 > ${name}1`);
    }
    for (let a = 0; a < axes; a++) {
      const size = sizes[a]!;
      const min = box[a]!;
      const max = box[a + axes]!;
      if (min < 0 || min >= size || max > size) fail(`box ${b} ${shown} lies outside the image (${extent})`);
      box[a] = Math.min(min, size - 1);
      box[a + axes] = Math.min(max, size - 1);
    }
    boxes.push(box);
  }
  return boxes;
}
