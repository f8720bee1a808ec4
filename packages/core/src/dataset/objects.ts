/**
 * Objects of one case from its label map: names, tight boxes and the painted `gts` map.
 * MUST match the Python training package (fixtures/dataset-mini/expected.json is the shared check):
 *   - order: regions (lists of ids) by number of ids descending (stable), then single labels in dataset.json
 *     order; instance datasets: one object per id present, ids increasing;
 *   - an object whose mask is empty or covered by the union of the objects after it is dropped;
 *   - box = tight bounding box, max inclusive: 2D [x0, y0, x1, y1], 3D [x0, y0, z0, x1, y1, z1];
 *   - gts (uint16): object i painted with i + 1 in order, later objects overwrite earlier ones.
 * Object masks depend only on the label value of a voxel, so coverage and boxes follow from per-id
 * statistics gathered in one pass.
 */
import { DaftInputError } from "../errors.js";
import type { ObjectDefinition, ObjectPlan } from "./datasetJson.js";

export type LabelData =
  Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export interface CaseObject {
  name: string;
  /** Label ids of the object that occur in this case. */
  labelIds: number[];
  /** 2D [x0, y0, x1, y1] or 3D [x0, y0, z0, x1, y1, z1], max inclusive. */
  box: number[];
}

export interface CaseObjects {
  objects: CaseObject[];
  /** Same shape as the label map; 0 background, i + 1 for objects[i]. */
  gts: Uint16Array;
}

/** Largest label id accepted (per-id statistics are arrays indexed by id). */
const MAX_LABEL_ID = 2 ** 24;

/** Voxel count and bounding box (per axis x, y, z min and max) of every label id in a label map. */
interface LabelStatistics {
  counts: Float64Array;
  /** [xMin, yMin, zMin, xMax, yMax, zMax] per id. */
  bounds: Int32Array;
}

/**
 * @param labels label map in C order over `shape` ((H, W) or (D, H, W)); values must be integers >= 0
 * @param source file name for error messages
 */
export function extractObjects(
  labels: LabelData,
  shape: number[],
  plan: ObjectPlan,
  source?: string,
): CaseObjects {
  if (shape.length !== 2 && shape.length !== 3)
    throw new DaftInputError(`label map must be 2D or 3D`, source);
  const statistics = labelStatistics(labels, shape, source);
  const present = (id: number) => id < statistics.counts.length && statistics.counts[id]! > 0;

  let definitions: ObjectDefinition[];
  if (plan.kind === "instance") {
    definitions = [];
    for (let id = 1; id < statistics.counts.length; id++) {
      if (present(id)) definitions.push({ name: `${plan.instanceClass}_${id}`, labelIds: [id] });
    }
  } else {
    definitions = plan.definitions;
    const known = new Set(definitions.flatMap((definition) => definition.labelIds));
    for (let id = 1; id < statistics.counts.length; id++) {
      if (present(id) && !known.has(id)) {
        throw new DaftInputError(
          `label id ${id} occurs in the label map but not in dataset.json labels`,
          source,
        );
      }
    }
  }

  // Walk from the last object to the first, keeping those with an id no later object covers.
  const covered = new Set<number>();
  const kept: CaseObject[] = [];
  for (let i = definitions.length - 1; i >= 0; i--) {
    const definition = definitions[i]!;
    const ids = definition.labelIds.filter(present);
    const isCovered = ids.every((id) => covered.has(id)); // also true for an empty object
    for (const id of ids) covered.add(id);
    if (isCovered) continue;
    kept.unshift({ name: definition.name, labelIds: ids, box: unionBox(statistics, ids, shape.length) });
  }
  if (kept.length > 65535)
    throw new DaftInputError(`too many objects (${kept.length}) for a uint16 gts map`, source);

  const paintValue = new Uint16Array(statistics.counts.length);
  kept.forEach((object, index) => {
    for (const id of object.labelIds) paintValue[id] = index + 1; // later objects overwrite earlier ones
  });
  const gts = new Uint16Array(labels.length);
  for (let i = 0; i < labels.length; i++) gts[i] = paintValue[labels[i]!]!;
  return { objects: kept, gts };
}

function labelStatistics(labels: LabelData, shape: number[], source?: string): LabelStatistics {
  const [depth, height, width] =
    shape.length === 3 ? (shape as [number, number, number]) : [1, shape[0]!, shape[1]!];
  if (depth * height * width !== labels.length) {
    throw new DaftInputError(`label map has ${labels.length} values, expected ${shape.join("x")}`, source);
  }
  let maxId = 0;
  for (let i = 0; i < labels.length; i++) {
    const value = labels[i]!;
    if (value > maxId) maxId = value;
    if (!(value >= 0) || !Number.isInteger(value)) {
      throw new DaftInputError(`label map value ${value} is not a non-negative integer`, source);
    }
  }
  if (maxId > MAX_LABEL_ID)
    throw new DaftInputError(`label id ${maxId} is too large (max ${MAX_LABEL_ID})`, source);
  const counts = new Float64Array(maxId + 1);
  const bounds = new Int32Array((maxId + 1) * 6);
  for (let id = 0; id <= maxId; id++) bounds.set([2 ** 30, 2 ** 30, 2 ** 30, -1, -1, -1], id * 6);
  let i = 0;
  for (let z = 0; z < depth; z++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++, i++) {
        const id = labels[i]!;
        if (id === 0) continue;
        counts[id]!++;
        const at = id * 6;
        if (x < bounds[at]!) bounds[at] = x;
        if (y < bounds[at + 1]!) bounds[at + 1] = y;
        if (z < bounds[at + 2]!) bounds[at + 2] = z;
        if (x > bounds[at + 3]!) bounds[at + 3] = x;
        if (y > bounds[at + 4]!) bounds[at + 4] = y;
        if (z > bounds[at + 5]!) bounds[at + 5] = z;
      }
    }
  }
  return { counts, bounds };
}

function unionBox(statistics: LabelStatistics, ids: number[], rank: number): number[] {
  const box = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
  for (const id of ids) {
    for (let axis = 0; axis < 3; axis++) {
      box[axis] = Math.min(box[axis]!, statistics.bounds[id * 6 + axis]!);
      box[axis + 3] = Math.max(box[axis + 3]!, statistics.bounds[id * 6 + axis + 3]!);
    }
  }
  return rank === 3 ? box : [box[0]!, box[1]!, box[3]!, box[4]!];
}
