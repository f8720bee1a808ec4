import type { DecodeResult, Embedding, Expert } from "../model/expert.js";
import type { ModelFrame } from "./preprocess.js";

/**
 * Test-time mirroring (as nnU-Net does by default): segment the image as it is and mirrored, mirror the logits
 * back and average them. `x` mirrors left–right (2 passes), `xy` also top–bottom and both (4 passes); `off` is
 * one pass. The encoder and the decoder each run once per pass, so the work grows with the number of passes; the
 * passes are independent, so an expert with models side by side runs them at once.
 */
export const MIRRORINGS = ["off", "x", "xy"] as const;

export type Mirroring = (typeof MIRRORINGS)[number];

/** The mirroring a case runs with: the caller's choice, else the expert's manifest default, else off. */
export function mirroringFor(
  expert: { testTimeMirroring?: Mirroring | undefined } | undefined,
  override?: Mirroring,
): Mirroring {
  return override ?? expert?.testTimeMirroring ?? "off";
}

/** One pass's mirror image: [flip left–right, flip top–bottom]. */
export type MirrorFlip = readonly [x: boolean, y: boolean];

/** Where mirroring applies: `planes` S×S planes (C order), each mirrored within its top-left height × width. */
export interface MirrorRegion {
  readonly planes: number;
  readonly size: number;
  readonly height: number;
  readonly width: number;
}

/** The mirror images used by a mirroring mode, the unmirrored pass first. */
export function mirrorPasses(mode: Mirroring): readonly MirrorFlip[] {
  if (mode === "off") return [[false, false]];
  if (mode === "x")
    return [
      [false, false],
      [true, false],
    ];
  return [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ];
}

/**
 * The expert seen through test-time mirroring, for images that land in `frame`.
 *
 * The mirrors are taken the way the training package flips its samples (training_data.random_flips): inside the
 * resized, unpadded region (padding stays bottom/right, as the model saw it), with boxes mirrored in original
 * pixels (x' = (W − 1) − x) and then scaled into the frame. So a box-exact model gives the same mask mirrored or
 * not, and a model that learned the flips sees nothing new.
 *
 * The embedding of one slice holds all passes (`Embedding.passes`, cached once like any embedding); decode runs
 * every pass on the same boxes, mirrors each pass's logits back and averages logits and predicted IoU.
 */
export function mirroredExpert(expert: Expert, frame: ModelFrame, mode: Mirroring): Expert {
  if (mode === "off") return expert;
  const passes = mirrorPasses(mode);
  const region = (planes: number): MirrorRegion => ({
    planes,
    size: frame.size,
    height: frame.resizedHeight,
    width: frame.resizedWidth,
  });
  const edgeX = (frame.width - 1) * frame.scale;
  const edgeY = (frame.height - 1) * frame.scale;

  return {
    name: expert.name,
    inputSize: expert.inputSize,
    async encode(image: Float32Array): Promise<Embedding> {
      // Asked for all at once: an expert that runs models side by side (ParallelExpert) runs the passes so.
      const passesMade = await Promise.all(
        passes.map((flip) => expert.encode(mirrorPlanes(image, region(3), flip))),
      );
      return { ...passesMade[0]!, passes: passesMade };
    },
    async decode(embedding: Embedding, boxes: Float32Array): Promise<DecodeResult> {
      const count = embedding.passes?.length ?? 1;
      if (count !== passes.length) {
        throw new Error(`mirrored embedding holds ${count} passes; mode ${mode} needs ${passes.length}`);
      }
      const part = (p: number): Embedding => embedding.passes![p]!;
      // All passes asked for at once (see encode); summed in pass order, so the result does not depend on
      // which finished first. The first pass is the unmirrored one: its result holds the sum; the others are
      // mirrored back into it.
      const results = await Promise.all(
        passes.map((flip, p) =>
          expert.decode(part(p), mirrorBoxes(boxes, flip[0] ? edgeX : null, flip[1] ? edgeY : null)),
        ),
      );
      const sum = results[0]!;
      const iou = Float32Array.from(sum.iou);
      for (let p = 1; p < passes.length; p++) {
        const flip = passes[p]!;
        const result = results[p]!;
        addMirrored(sum.logits, result.logits, region(result.count), flip);
        for (let i = 0; i < iou.length; i++) iou[i]! += result.iou[i]!;
      }
      const inv = 1 / passes.length;
      for (let i = 0; i < sum.logits.length; i++) sum.logits[i]! *= inv;
      for (let i = 0; i < iou.length; i++) iou[i]! *= inv;
      return { logits: sum.logits, iou, count: sum.count };
    },
    dispose: expert.dispose?.bind(expert),
  };
}

/**
 * `data` with the region of each plane mirrored (left–right for flip x, top–bottom for flip y); the rest copied.
 * Returns the input itself when neither flag is set. Mirroring is its own inverse.
 */
export function mirrorPlanes(data: Float32Array, region: MirrorRegion, flip: MirrorFlip): Float32Array {
  if (!flip[0] && !flip[1]) return data;
  const out = new Float32Array(data.length);
  addMirrored(out, data, region, flip);
  return out;
}

/**
 * `into += mirrorPlanes(data, …)` without the intermediate copy (the decoder's N × S × S logits, once per pass):
 * the region is added mirrored, the rest in place.
 */
export function addMirrored(
  into: Float32Array,
  data: Float32Array,
  region: MirrorRegion,
  flip: MirrorFlip,
): void {
  const { planes, size: S, height: rh, width: rw } = region;
  const [fx, fy] = flip;
  // One loop per case, not a choice per pixel: this runs over every pass's logits of every box and slice.
  for (let p = 0; p < planes; p++) {
    const base = p * S * S;
    for (let y = 0; y < S; y++) {
      const to = base + y * S;
      let x = 0;
      if (y < rh) {
        const from = base + (fy ? rh - 1 - y : y) * S;
        if (fx) {
          const last = from + rw - 1;
          for (; x < rw; x++) into[to + x]! += data[last - x]!;
        } else {
          for (; x < rw; x++) into[to + x]! += data[from + x]!;
        }
      }
      for (; x < S; x++) into[to + x]! += data[to + x]!;
    }
  }
}

/** Frame boxes (N × 4) mirrored about an original-pixel edge already scaled into the frame ((W − 1) · scale). */
export function mirrorBoxes(boxes: Float32Array, edgeX: number | null, edgeY: number | null): Float32Array {
  if (edgeX === null && edgeY === null) return boxes;
  const out = Float32Array.from(boxes);
  for (let k = 0; k < boxes.length; k += 4) {
    if (edgeX !== null) {
      out[k] = edgeX - boxes[k + 2]!;
      out[k + 2] = edgeX - boxes[k]!;
    }
    if (edgeY !== null) {
      out[k + 1] = edgeY - boxes[k + 3]!;
      out[k + 3] = edgeY - boxes[k + 1]!;
    }
  }
  return out;
}
