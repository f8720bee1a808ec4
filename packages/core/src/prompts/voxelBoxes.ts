/**
 * User boxes → voxel boxes of one input. Voxel boxes are taken as given (x = column i, y = row j, z = slice k).
 * World boxes (--world) are two corners in millimetres of the input's physical space — RAS for NIfTI (its
 * sform, else qform), LPS for DICOM — always 3 numbers per corner, also for 2D images. Both corners go through the
 * inverse affine; per axis the smaller and larger voxel coordinate make the box (so flipped and oblique affines
 * work), and each is rounded to the voxel whose centre is nearest. A box may reach half a voxel past the first or
 * last voxel centre (the image's physical edge); further out it is an error.
 */
import { DaftInputError } from "../errors.js";
import { applyAffine, invertAffine, type Affine, type WorldSpace } from "../image/geometry.js";

export interface BoxTarget {
  source: string;
  dimension: 2 | 3;
  width: number;
  height: number;
  depth: number;
  /** What the input is, for messages: "a PNG picture", "an .npz case", … */
  what: string;
  geometry?: { affine: Affine; space: WorldSpace; positioned: boolean };
}

export function voxelBoxes(prompts: number[][], target: BoxTarget, world: boolean): number[][] {
  const { source, dimension } = target;
  if (!world) {
    const want = dimension === 3 ? 6 : 4;
    prompts.forEach((box, i) => {
      if (box.length !== want) {
        throw new DaftInputError(
          `box ${i} has ${box.length} numbers but the input is ${dimension}D (${extent(target)}); ` +
            `give ${dimension === 3 ? "x0,y0,z0,x1,y1,z1" : "x0,y0,x1,y1"}`,
          source,
        );
      }
    });
    return prompts.map((box) => [...box]);
  }
  const geometry = target.geometry;
  if (!geometry || !geometry.positioned) {
    throw new DaftInputError(
      `--world needs an input placed in patient space (NIfTI or a DICOM series/image with ImagePositionPatient); ` +
        `this is ${target.what} without one`,
      source,
    );
  }
  const inverse = invertAffine(geometry.affine);
  const sizes = [target.width, target.height, target.depth];
  return prompts.map((box, b) => {
    if (box.length !== 6) {
      throw new DaftInputError(
        `--world box ${b} has ${box.length} numbers; world boxes are two 3D points in mm (${geometry.space}): ` +
          "x0,y0,z0,x1,y1,z1",
        source,
      );
    }
    const a = applyAffine(inverse, [box[0]!, box[1]!, box[2]!]);
    const c = applyAffine(inverse, [box[3]!, box[4]!, box[5]!]);
    const low: number[] = [];
    const high: number[] = [];
    const axes = dimension === 3 ? 3 : 2;
    for (let axis = 0; axis < axes; axis++) {
      const lo = Math.min(a[axis]!, c[axis]!);
      const hi = Math.max(a[axis]!, c[axis]!);
      const size = sizes[axis]!;
      const slack = 1e-6;
      if (lo < -0.5 - slack || hi > size - 0.5 + slack) {
        const voxel = (p: number[]) => `(${p.map((v) => Number(v.toFixed(2))).join(", ")})`;
        throw new DaftInputError(
          `--world box ${b} [${box.join(", ")}] mm (${geometry.space}) maps to voxels ${voxel(a)}–${voxel(c)}, ` +
            `outside the image (${extent(target)})`,
          source,
        );
      }
      low.push(clamp(Math.round(lo), 0, size - 1));
      high.push(clamp(Math.round(hi), 0, size - 1));
    }
    return [...low, ...high];
  });
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v === 0 ? 0 : v; // also turns -0 into 0
}

function extent(t: BoxTarget): string {
  return t.dimension === 3 ? `W×H×D = ${t.width}×${t.height}×${t.depth}` : `W×H = ${t.width}×${t.height}`;
}
