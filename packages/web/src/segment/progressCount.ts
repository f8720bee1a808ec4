/**
 * Progress of a segmentation without a hook in the core: the engine encodes each slice once (embedding cache), so
 * counting the expert's encode calls against the slices the boxes cover gives "slices done / total" for 3D.
 * (2D images are one slice, plus one tile per small box when the expert zooms on small objects.)
 */
import type { Expert } from "@daft/core";

/** The expert with `onEncode` called after every finished encode. */
export function countingExpert(expert: Expert, onEncode: () => void): Expert {
  return {
    name: expert.name,
    inputSize: expert.inputSize,
    encode: async (image) => {
      const embedding = await expert.encode(image);
      onEncode();
      return embedding;
    },
    decode: (embedding, boxes) => expert.decode(embedding, boxes),
  };
}

/** Distinct slices a volume's boxes (x0,y0,z0,x1,y1,z1) cover, clipped to the volume; 1 for 2D boxes. */
export function slicesToEncode(boxes: readonly (readonly number[])[], depth: number): number {
  const slices = new Set<number>();
  for (const box of boxes) {
    if (box.length !== 6) return 1;
    for (let z = Math.max(0, Math.round(box[2]!)); z <= Math.min(depth - 1, Math.round(box[5]!)); z++)
      slices.add(z);
  }
  return Math.max(1, slices.size);
}
