/**
 * Box prompts from an existing segmentation: one box per label value, the tight bounding box of its voxels (max
 * corner inclusive), in increasing value order — box n is the n-th smallest label (1, 2, 4 → boxes 1, 2, 3). How
 * the challenge's cases got their boxes, so `daft segment --boxes-from reference.nii.gz` followed by `daft eval`
 * measures the engine on a user's own labelled images, and a rough segmentation from another tool can be refined.
 * The label map must lie on the input's voxel grid (same shape; same placement when both are in patient space).
 * A 3D Slicer segmentation's segment names become the objects' names.
 */
import { DaftInputError } from "../errors.js";
import { flipXY } from "../image/geometry.js";
import { labelMapBoxes } from "../image/labelBoxes.js";
import { checkSameGrid, type LabelMapArray } from "../metrics/labelMapFile.js";
import { namesOfLabels } from "./objectNames.js";
import type { BoxTarget } from "./voxelBoxes.js";

/** A label map file read for its boxes (readLabelMapFile), and its name for messages. */
export interface LabelMapPrompt {
  map: LabelMapArray;
  file: string;
}

/**
 * The label map's values, checked to lie on `target`'s grid (same shape; same placement, to 0.01 mm, when both are
 * in patient space; `reference` names the target in messages). A label map of a 2D image saved as one slice (a Slicer segmentation of a picture) is that slice.
 */
export function labelMapOnGrid(
  prompt: LabelMapPrompt,
  target: BoxTarget,
  reference = "input",
): ArrayLike<number> {
  const { map, file } = prompt;
  const imageShape =
    target.dimension === 3 ? [target.depth, target.height, target.width] : [target.height, target.width];
  const shape =
    target.dimension === 2 && map.shape.length === 3 && map.shape[0] === 1 ? map.shape.slice(1) : map.shape;
  const geometry = target.geometry;
  checkSameGrid(
    { ...map, shape },
    {
      data: [],
      shape: imageShape,
      format: map.format,
      ...(geometry?.positioned
        ? { rasAffine: geometry.space === "LPS" ? flipXY(geometry.affine) : geometry.affine }
        : {}),
    },
    file,
    target.source,
    reference,
  );
  return map.data;
}

/**
 * The box prompts (voxels, `daft segment --box` numbers: 4 for 2D, 6 for 3D) of a label map on `target`'s grid,
 * and, when the file names its labels (a 3D Slicer segmentation), the names of the labels the boxes come from —
 * unless one of them is not a valid object name or two are alike (prompts/objectNames.ts): then none.
 */
export function boxesFromLabelMap(
  prompt: LabelMapPrompt,
  target: BoxTarget,
): { boxes: number[][]; names?: string[] } {
  const data = labelMapOnGrid(prompt, target);
  const { boxes, values } = labelMapBoxes(data, [target.depth, target.height, target.width], prompt.file);
  if (boxes.length === 0) throw new DaftInputError("has no labelled voxel: no box to segment", prompt.file);
  const names = namesOfLabels(prompt.map.names, values);
  return {
    boxes: boxes.map(([x0, y0, z0, x1, y1, z1]) =>
      target.dimension === 3 ? [x0, y0, z0, x1, y1, z1] : [x0, y0, x1, y1],
    ),
    ...(names ? { names } : {}),
  };
}
