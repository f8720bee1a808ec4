/**
 * The page's label map and niivue's view of it.
 *
 * The label map is the page's own: a Uint16Array in the input's voxel order (slice, row, column — the order the
 * engine writes), label = box number (1…MAX_LABEL), 0 background. Segmentation results go into it as they come
 * and exports are written from it, so neither needs a conversion.
 *
 * niivue's drawing layer (nv.drawBitmap) holds one byte per voxel in display order (rows flipped, see
 * viewerNifti.ts) and is only a view of the map: byte = viewByte(label). Bytes 1…254 show labels, so colours
 * repeat every VIEW_COLOURS boxes (boxes 1, 255, 509, … look alike). Byte 255 is never shown: it is the brush's
 * (PEN_BYTE), so after a paint stroke exactly the voxels holding 255 were painted — even over a box that shares
 * the active box's colour, which a brush painting the active box's own byte could not tell from untouched voxels.
 * The eraser writes 0. Edits are kept as sparse diffs of the map for undo.
 */

export interface LabelGrid {
  width: number;
  height: number;
  depth: number;
}

/** At most this many boxes: what a uint16 label map (the engine's, and every exported format's) holds. */
export const MAX_LABEL = 65535;

/** The byte niivue's brush paints with; no label is shown with it. */
export const PEN_BYTE = 255;

/** Distinct label colours in the view: bytes 1…254. */
export const VIEW_COLOURS = PEN_BYTE - 1;

/** The drawing-layer byte (and colour index) that shows `label`. */
export function viewByte(label: number): number {
  return label === 0 ? 0 : ((label - 1) % VIEW_COLOURS) + 1;
}

/** viewByte of every label: the per-voxel loops below look bytes up rather than divide (75 M voxels a volume). */
const VIEW_BYTES = Uint8Array.from({ length: MAX_LABEL + 1 }, (_, label) => viewByte(label));

/**
 * Writes the view of the whole label map (input order) into `layer` (display order, a new array when omitted).
 */
export function labelsToLayer(
  labels: Uint16Array,
  grid: LabelGrid,
  layer: Uint8Array = new Uint8Array(labels.length),
): Uint8Array {
  checkLength(labels.length, grid);
  checkLength(layer.length, grid);
  forEachRow(grid, (from, to) => {
    for (let x = 0; x < grid.width; x++) layer[to + x] = VIEW_BYTES[labels[from + x]!]!;
  });
  return layer;
}

/** Rewrites the view of the voxels `index` (input order) only — after an undo or a deletion. */
export function showLabelsAt(
  layer: Uint8Array,
  labels: Uint16Array,
  index: Uint32Array,
  grid: LabelGrid,
): void {
  checkLength(labels.length, grid);
  checkLength(layer.length, grid);
  const { width, height } = grid;
  const slice = width * height;
  for (let n = 0; n < index.length; n++) {
    const i = index[n]!;
    const z = Math.floor(i / slice);
    const y = Math.floor((i - z * slice) / width);
    const x = i - z * slice - y * width;
    layer[z * slice + (height - 1 - y) * width + x] = VIEW_BYTES[labels[i]!]!;
  }
}

/**
 * A brush stroke niivue drew into `layer`, applied to `labels`: a voxel whose byte no longer shows its label was
 * erased (0) or painted (anything else) with `penLabel`. Afterwards the layer shows the map again (PEN_BYTE
 * becomes the painted box's byte). Returns what changed, for undo, or null when the stroke changed no label
 * (painting a box over itself).
 */
export function applyStroke(
  labels: Uint16Array,
  layer: Uint8Array,
  grid: LabelGrid,
  penLabel: number,
): LabelDiff | null {
  checkLength(labels.length, grid);
  checkLength(layer.length, grid);
  checkLabel(penLabel);
  const index: number[] = [];
  const before: number[] = [];
  const after: number[] = [];
  forEachRow(grid, (from, to) => {
    for (let x = 0; x < grid.width; x++) {
      const old = labels[from + x]!;
      const byte = layer[to + x]!;
      if (byte === VIEW_BYTES[old]) continue;
      const label = byte === 0 ? 0 : penLabel;
      layer[to + x] = VIEW_BYTES[label]!;
      if (label === old) continue;
      labels[from + x] = label;
      index.push(from + x);
      before.push(old);
      after.push(label);
    }
  });
  if (index.length === 0) return null;
  return { index: Uint32Array.from(index), before: Uint16Array.from(before), after: Uint16Array.from(after) };
}

/** Calls `row(from, to)` for every image row: its start in input order and in display order (flipped). */
function forEachRow(grid: LabelGrid, row: (from: number, to: number) => void): void {
  const { width, height, depth } = grid;
  for (let z = 0; z < depth; z++) {
    for (let y = 0; y < height; y++) row((z * height + y) * width, (z * height + (height - 1 - y)) * width);
  }
}

function checkLength(length: number, grid: LabelGrid): void {
  const voxels = grid.width * grid.height * grid.depth;
  if (length !== voxels)
    throw new Error(`${length} labels for a ${grid.width}×${grid.height}×${grid.depth} grid`);
}

function checkLabel(label: number): void {
  if (!Number.isInteger(label) || label < 1 || label > MAX_LABEL)
    throw new Error(`label ${label} is not a box number (1…${MAX_LABEL})`);
}

/** The voxels an edit changed (input order): their indices and the labels before and after. */
export interface LabelDiff {
  index: Uint32Array;
  before: Uint16Array;
  after: Uint16Array;
}

/** What changed from `before` to `after` (same length), or null when nothing did. */
export function diffLabels(before: Uint16Array, after: Uint16Array): LabelDiff | null {
  if (before.length !== after.length) throw new Error("diffLabels: label maps of different sizes");
  return sparseDiff(before, (i) => after[i]!);
}

/**
 * The voxels where `labelAfter(i)` differs from `labels[i]`, with both values; null when none does. Two passes
 * (count, then fill) so that the diff is three exact-size typed arrays, not a growing list of 75 M candidates.
 */
function sparseDiff(labels: Uint16Array, labelAfter: (i: number) => number): LabelDiff | null {
  let count = 0;
  for (let i = 0; i < labels.length; i++) if (labelAfter(i) !== labels[i]) count++;
  if (count === 0) return null;
  const diff = {
    index: new Uint32Array(count),
    before: new Uint16Array(count),
    after: new Uint16Array(count),
  };
  for (let i = 0, n = 0; i < labels.length; i++) {
    const label = labels[i]!;
    const to = labelAfter(i);
    if (to === label) continue;
    diff.index[n] = i;
    diff.before[n] = label;
    diff.after[n++] = to;
  }
  return diff;
}

/** Writes a diff's "before" labels (undo) or "after" labels (redo) into `labels`. */
export function applyDiff(labels: Uint16Array, diff: LabelDiff, direction: "undo" | "redo"): void {
  const values = direction === "undo" ? diff.before : diff.after;
  for (let n = 0; n < diff.index.length; n++) labels[diff.index[n]!] = values[n]!;
}

/**
 * The change that deletes box `label`: its voxels become background and every later box's label moves down by
 * one, so labels stay "box number" for the remaining boxes. Null when no voxel changes. Computed as a diff, not
 * as a second label map, because a volume's map can be 150 MB.
 */
export function withoutLabel(labels: Uint16Array, label: number): LabelDiff | null {
  checkLabel(label);
  const table = new Uint16Array(MAX_LABEL + 1);
  for (let l = 1; l <= MAX_LABEL; l++) table[l] = l === label ? 0 : l > label ? l - 1 : l;
  return relabel(labels, table);
}

/** The change that clears every box's voxels, or null when there are none. */
export function withoutAnyLabel(labels: Uint16Array): LabelDiff | null {
  return relabel(labels, new Uint16Array(MAX_LABEL + 1));
}

/** The diff that replaces each label l by table[l]. */
function relabel(labels: Uint16Array, table: Uint16Array): LabelDiff | null {
  return sparseDiff(labels, (i) => table[labels[i]!]!);
}

/** Voxels per label (index = label, up to the largest present), for the result summary. */
export function labelVoxelCounts(labels: Uint16Array): number[] {
  const counts = new Uint32Array(MAX_LABEL + 1);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  let last = MAX_LABEL;
  while (last > 0 && counts[last] === 0) last--;
  return Array.from(counts.subarray(0, last + 1));
}
