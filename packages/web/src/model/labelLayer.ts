/**
 * The label map as the viewer's drawing layer holds it: one byte per voxel in display order (rows flipped, see
 * viewerNifti.ts), label = box number (1…255), 0 background — and the conversions to and from the engine's label
 * map (uint16, the input's voxel order). Edits are kept as sparse diffs for undo.
 */

export interface LabelGrid {
  width: number;
  height: number;
  depth: number;
}

/** At most this many boxes: the drawing layer stores one byte per voxel. */
export const MAX_LABEL = 255;

/** Engine labels (input order) → drawing-layer bytes (display order). */
export function labelsToLayer(labels: Uint16Array | Uint8Array, grid: LabelGrid): Uint8Array {
  const { width, height, depth } = grid;
  checkLength(labels.length, grid);
  const layer = new Uint8Array(labels.length);
  for (let z = 0; z < depth; z++) {
    for (let y = 0; y < height; y++) {
      const from = (z * height + y) * width;
      const to = (z * height + (height - 1 - y)) * width;
      for (let x = 0; x < width; x++) {
        const label = labels[from + x]!;
        if (label > MAX_LABEL)
          throw new Error(`label ${label} does not fit the drawing layer (at most ${MAX_LABEL})`);
        layer[to + x] = label;
      }
    }
  }
  return layer;
}

/** Drawing-layer bytes (display order) → engine labels (uint16, input order). */
export function layerToLabels(layer: Uint8Array, grid: LabelGrid): Uint16Array {
  const { width, height, depth } = grid;
  checkLength(layer.length, grid);
  const labels = new Uint16Array(layer.length);
  for (let z = 0; z < depth; z++) {
    for (let y = 0; y < height; y++) {
      const from = (z * height + (height - 1 - y)) * width;
      labels.set(layer.subarray(from, from + width), (z * height + y) * width);
    }
  }
  return labels;
}

function checkLength(length: number, grid: LabelGrid): void {
  const voxels = grid.width * grid.height * grid.depth;
  if (length !== voxels)
    throw new Error(`${length} labels for a ${grid.width}×${grid.height}×${grid.depth} grid`);
}

/** The voxels an edit changed: their indices and the values before and after. */
export interface LabelDiff {
  index: Uint32Array;
  before: Uint8Array;
  after: Uint8Array;
}

/** What changed from `before` to `after` (same length), or null when nothing did. */
export function diffLayers(before: Uint8Array, after: Uint8Array): LabelDiff | null {
  if (before.length !== after.length) throw new Error("diffLayers: layers of different sizes");
  let count = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) count++;
  if (count === 0) return null;
  const diff = { index: new Uint32Array(count), before: new Uint8Array(count), after: new Uint8Array(count) };
  for (let i = 0, n = 0; i < before.length; i++) {
    if (before[i] === after[i]) continue;
    diff.index[n] = i;
    diff.before[n] = before[i]!;
    diff.after[n++] = after[i]!;
  }
  return diff;
}

/** Writes a diff's "before" values (undo) or "after" values (redo) into `layer`. */
export function applyDiff(layer: Uint8Array, diff: LabelDiff, direction: "undo" | "redo"): void {
  const values = direction === "undo" ? diff.before : diff.after;
  for (let n = 0; n < diff.index.length; n++) layer[diff.index[n]!] = values[n]!;
}

/**
 * The layer after box `label` is deleted: its voxels become background and every later box's label moves down
 * by one, so labels stay "box number" for the remaining boxes.
 */
export function withoutLabel(layer: Uint8Array, label: number): Uint8Array {
  const out = new Uint8Array(layer.length);
  for (let i = 0; i < layer.length; i++) {
    const value = layer[i]!;
    out[i] = value === label ? 0 : value > label ? value - 1 : value;
  }
  return out;
}

/** Voxels per label (index = label), for the result summary. */
export function labelVoxelCounts(layer: Uint8Array): number[] {
  const counts = new Array<number>(MAX_LABEL + 1).fill(0);
  for (let i = 0; i < layer.length; i++) counts[layer[i]!]!++;
  let last = counts.length - 1;
  while (last > 0 && counts[last] === 0) last--;
  return counts.slice(0, last + 1);
}
