/**
 * One box per label value of a label map — the tight bounding box of its voxels, max corner inclusive — in
 * increasing value order (1, 2, 4 → boxes 1, 2, 3). Shared by --boxes-from (prompts/labelMapBoxes.ts), the web
 * app's label-map opening and the Slicer segmentation's segment extents.
 */
import { DaftInputError } from "../errors.js";

export interface LabelMapBoxes {
  /** The label values, increasing: box n (1-based) is values[n - 1]. */
  values: number[];
  /** Per value: [x0, y0, z0, x1, y1, z1], inclusive voxel bounds. */
  boxes: [number, number, number, number, number, number][];
  /** The map renumbered: voxel = its value's box number (0 elsewhere). */
  labels: Uint16Array;
}

/** Label values → box numbers in value order, with each box around its voxels. `data` is C order (z, y, x). */
export function labelMapBoxes(
  data: ArrayLike<number>,
  [depth, height, width]: readonly [number, number, number],
  source: string,
): LabelMapBoxes {
  const present = new Set<number>();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v === 0) continue;
    if (!(v > 0) || !Number.isInteger(v))
      throw new DaftInputError(`holds ${v} at voxel ${i}; labels are integers ≥ 0`, source);
    present.add(v);
  }
  if (present.size > 0xffff)
    throw new DaftInputError(`holds ${present.size} labels; at most 65535 boxes fit a label map`, source);
  const values = [...present].sort((a, b) => a - b);
  const boxOf = new Map(values.map((v, n) => [v, n + 1]));
  const labels = new Uint16Array(width * height * depth);
  const bounds = values.map(() => [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity]);
  let v = 0;
  for (let z = 0; z < depth; z++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++, v++) {
        const value = data[v]!;
        if (value === 0) continue;
        const box = boxOf.get(value)!;
        labels[v] = box;
        const b = bounds[box - 1]!;
        if (x < b[0]!) b[0] = x;
        if (y < b[1]!) b[1] = y;
        if (z < b[2]!) b[2] = z;
        if (x > b[3]!) b[3] = x;
        if (y > b[4]!) b[4] = y;
        if (z > b[5]!) b[5] = z;
      }
    }
  }
  return { values, boxes: bounds as LabelMapBoxes["boxes"], labels };
}
