/**
 * The user's boxes and one undo stack for everything that changes them or the label map: adding, deleting or
 * re-ranging a box, a segmentation result, a paint or erase stroke. Label changes are stored as diffs of the
 * page's label map; the caller applies them (model/labelLayer.ts applyDiff).
 */
import { checkObjectName, DaftInputError } from "@daft/core";
import { MAX_LABEL, type LabelDiff } from "./labelLayer.js";

/** A box in input voxels, max corner inclusive. 2D images have z0 = z1 = 0. Label = position in the list + 1. */
export interface VoxelBox {
  x0: number;
  y0: number;
  z0: number;
  x1: number;
  y1: number;
  z1: number;
  /** The object's name (prompts/objectNames.ts in the core); absent: "box <n>". */
  name?: string;
}

export interface EditStep {
  /** What the step did, for the undo button's tooltip ("add box 2", "paint", …). */
  what: string;
  boxesBefore: readonly VoxelBox[];
  boxesAfter: readonly VoxelBox[];
  labels?: LabelDiff;
}

/** How many steps undo keeps. */
export const UNDO_DEPTH = 100;

export class EditHistory {
  private list: readonly VoxelBox[] = [];
  private readonly steps: EditStep[] = [];

  get boxes(): readonly VoxelBox[] {
    return this.list;
  }

  get lastStep(): EditStep | undefined {
    return this.steps[this.steps.length - 1];
  }

  get depth(): number {
    return this.steps.length;
  }

  /** Forgets every box and step (a new image). */
  reset(boxes: readonly VoxelBox[] = []): void {
    checkCount(boxes.length);
    this.list = [...boxes];
    this.steps.length = 0;
  }

  addBox(box: VoxelBox): EditStep {
    checkCount(this.list.length + 1);
    return this.record(`add box ${this.list.length + 1}`, [...this.list, box]);
  }

  /** Deletes box `index` (0-based); `labels` is the label-map change that goes with it (its voxels cleared). */
  deleteBox(index: number, labels?: LabelDiff): EditStep {
    if (!this.list[index]) throw new Error(`no box ${index + 1}`);
    return this.record(
      `delete box ${index + 1}`,
      this.list.filter((_, i) => i !== index),
      labels,
    );
  }

  replaceBox(index: number, box: VoxelBox, what: string): EditStep {
    if (!this.list[index]) throw new Error(`no box ${index + 1}`);
    return this.record(
      what,
      this.list.map((b, i) => (i === index ? box : b)),
    );
  }

  /** A label-map change that leaves the boxes as they are (segmentation result, paint, erase). */
  recordLabels(what: string, labels: LabelDiff): EditStep {
    return this.record(what, this.list, labels);
  }

  /** Any other change of the boxes, with the label-map change that goes with it. */
  change(what: string, boxesAfter: readonly VoxelBox[], labels?: LabelDiff): EditStep {
    checkCount(boxesAfter.length);
    return this.record(what, boxesAfter, labels);
  }

  /** Takes the last step back: the boxes return to what they were; the caller reverts `labels`. */
  undo(): EditStep | undefined {
    const step = this.steps.pop();
    if (step) this.list = step.boxesBefore;
    return step;
  }

  private record(what: string, boxesAfter: readonly VoxelBox[], labels?: LabelDiff): EditStep {
    const step: EditStep = { what, boxesBefore: this.list, boxesAfter, ...(labels ? { labels } : {}) };
    this.steps.push(step);
    if (this.steps.length > UNDO_DEPTH) this.steps.shift();
    this.list = boxesAfter;
    return step;
  }
}

function checkCount(count: number): void {
  if (count > MAX_LABEL) throw new Error(`at most ${MAX_LABEL} boxes per image`);
}

/** The box spanned by two voxel corners (any order) on a slice, with the given slice range. */
export function boxFromCorners(
  a: readonly [number, number],
  b: readonly [number, number],
  zRange: readonly [number, number],
): VoxelBox {
  return {
    x0: Math.min(a[0], b[0]),
    y0: Math.min(a[1], b[1]),
    z0: Math.min(zRange[0], zRange[1]),
    x1: Math.max(a[0], b[0]),
    y1: Math.max(a[1], b[1]),
    z1: Math.max(zRange[0], zRange[1]),
  };
}

/** Slices `slice - halfRange … slice + halfRange`, clipped to the volume. */
export function zRangeAround(slice: number, halfRange: number, depth: number): [number, number] {
  const half = Math.max(0, Math.floor(halfRange));
  return [Math.max(0, slice - half), Math.min(depth - 1, slice + half)];
}

/** The box as `daft segment --box` numbers: x0,y0,x1,y1 (2D) or x0,y0,z0,x1,y1,z1 (3D). */
export function boxPrompt(box: VoxelBox, dimension: 2 | 3): number[] {
  return dimension === 2
    ? [box.x0, box.y0, box.x1, box.y1]
    : [box.x0, box.y0, box.z0, box.x1, box.y1, box.z1];
}

/** A box from `--box`-style numbers (4 or 6), e.g. a challenge file's own boxes; rounded to voxels. */
export function boxFromPrompt(numbers: readonly number[]): VoxelBox {
  const n = numbers.map((v) => Math.round(v));
  if (n.length === 4) return { x0: n[0]!, y0: n[1]!, z0: 0, x1: n[2]!, y1: n[3]!, z1: 0 };
  if (n.length === 6) return { x0: n[0]!, y0: n[1]!, z0: n[2]!, x1: n[3]!, y1: n[4]!, z1: n[5]! };
  throw new Error(`a box has 4 or 6 numbers, not ${numbers.length}`);
}

/**
 * The boxes a challenge file brings into the editor, and what the status line says of them. The editor holds at
 * most MAX_LABEL boxes (its label map stores a uint16 box number per voxel), so a file with more loads none of
 * them and says so, rather than segmenting some of its objects.
 */
export function fileBoxesForEditor(fileBoxes: readonly (readonly number[])[]): {
  boxes: VoxelBox[];
  note: string;
} {
  const n = fileBoxes.length;
  if (n > MAX_LABEL) {
    return {
      boxes: [],
      note:
        `The file's ${n} boxes were not loaded: this page edits at most ${MAX_LABEL} boxes per image ` +
        "(daft segment and the local server's API take any number). ",
    };
  }
  return { boxes: fileBoxes.map(boxFromPrompt), note: n ? `${n} box(es) from the file. ` : "" };
}

/** The box with a new slice range, clipped to the volume and ordered. */
/** The boxes' names for the exports (unnamed boxes "box <n>"); undefined when no box is named. */
export function boxNames(boxes: readonly VoxelBox[]): string[] | undefined {
  return boxes.some((b) => b.name !== undefined) ? boxes.map((b, i) => b.name ?? `box ${i + 1}`) : undefined;
}

/** The boxes' coordinates as a key (names left out: renaming a box does not change what was segmented). */
export function boxesKey(boxes: readonly VoxelBox[]): string {
  return JSON.stringify(boxes.map(({ x0, y0, z0, x1, y1, z1 }) => [x0, y0, z0, x1, y1, z1]));
}

/**
 * The box renamed: `text` trimmed, "" removing its name. The name must be a valid object name (the core's
 * checkObjectName) and differ from every other box's name ("box <n>" for an unnamed box), as the exports need.
 */
export function withName(boxes: readonly VoxelBox[], index: number, text: string): VoxelBox {
  const { name: _previous, ...box } = boxes[index]!;
  const trimmed = text.trim();
  if (trimmed === "") return box;
  const name = checkObjectName(trimmed, `box ${index + 1}'s name`);
  const other = boxes.findIndex((b, i) => i !== index && (b.name ?? `box ${i + 1}`) === name);
  if (other >= 0) throw new DaftInputError(`"${name}" already names box ${other + 1}`);
  return { ...box, name };
}

export function withZRange(box: VoxelBox, z0: number, z1: number, depth: number): VoxelBox {
  const clip = (z: number) => Math.min(depth - 1, Math.max(0, Math.round(z)));
  return { ...box, z0: Math.min(clip(z0), clip(z1)), z1: Math.max(clip(z0), clip(z1)) };
}
