import type { Box2D, Image2D } from "../image/types.js";
import type { Expert } from "../model/expert.js";
import { EdgeGuide, type EdgeRefinement } from "./edgeRefinement.js";
import { boxClip, LogitUpsampler } from "./postprocess.js";
import { boxToFrame, modelFrame, preprocessImage } from "./preprocess.js";
import { planRegions, type SmallObjectZoom } from "./smallObjectZoom.js";
import type { MaskConfidenceTally } from "./maskConfidence.js";
import type { PaintOrder } from "./paintOrder.js";
import type { SliceEmbeddingCache } from "./sliceEmbeddingCache.js";
import { mirroredExpert, type Mirroring } from "./testTimeMirroring.js";
import type { Clock, StageTimings } from "./timings.js";

export interface SegmentOptions {
  cache: SliceEmbeddingCache;
  timings: StageTimings;
  now: Clock;
  /** Most boxes sent to the decoder in one call (bounds memory: N × size² logits). */
  maxBoxesPerDecode: number;
  /** Test-time mirroring (default off). */
  mirroring?: Mirroring;
  /** Counts each label's sure and unsure logits (maskConfidence.ts), when given. */
  confidence?: MaskConfidenceTally;
  /** Which mask goes on top where masks overlap (default: later boxes). */
  paintOrder?: PaintOrder;
  /** Refine the upsampled logits onto the image's edges (edgeRefinement.ts); default off. */
  edgeRefinement?: EdgeRefinement;
  /** Paint each mask only inside its own box (in 3D: the box's x–y extent on every slice); default off. */
  clipToBox?: boolean;
}

/**
 * One 2D image, all its boxes: each region (the whole image, or a zoomed tile for small objects) is
 * preprocessed and encoded once; the boxes of a region are decoded together (in chunks) and painted with
 * label = index + 1 into `labels` (H × W), overlaps resolved by `paintOrder` (paintOrder.ts).
 */
export async function segmentImage(
  image: Image2D,
  boxes: readonly { box: Box2D; label: number }[],
  expert: Expert,
  labels: Uint16Array,
  opts: SegmentOptions & { zoom?: SmallObjectZoom },
): Promise<{ regions: number }> {
  const { timings, now, cache } = opts;
  const plans = planRegions(
    boxes.map((b) => b.box),
    image.height,
    image.width,
    expert.inputSize,
    opts.zoom,
  );
  const guide = opts.edgeRefinement && new EdgeGuide(image, opts.edgeRefinement);
  for (const p of plans) cache.plan(p.region.key, Math.ceil(p.boxes.length / opts.maxBoxesPerDecode));

  for (const { region, boxes: members } of plans) {
    const regionImage = region.key === 0 ? image : cropImage(image, region);
    const frame = modelFrame(region.height, region.width, expert.inputSize);
    const model = mirroredExpert(expert, frame, opts.mirroring ?? "off");
    const upsampler = new LogitUpsampler(
      frame,
      { x0: region.x0, y0: region.y0, stride: image.width },
      opts.paintOrder,
    );
    for (let start = 0; start < members.length; start += opts.maxBoxesPerDecode) {
      const chunk = members.slice(start, start + opts.maxBoxesPerDecode).map((i) => boxes[i]!);
      const embedding = await cache.get(region.key, async () => {
        let t0 = now();
        const { tensor } = preprocessImage(regionImage, expert.inputSize);
        timings.preprocessMs += now() - t0;
        t0 = now();
        const e = await model.encode(tensor);
        timings.encodeMs += now() - t0;
        return e;
      });
      const prompts = new Float32Array(chunk.length * 4);
      chunk.forEach(({ box: [x0, y0, x1, y1] }, k) =>
        prompts.set(
          boxToFrame([x0 - region.x0, y0 - region.y0, x1 - region.x0, y1 - region.y0], frame),
          k * 4,
        ),
      );
      let t = now();
      const result = await model.decode(embedding, prompts);
      timings.decodeMs += now() - t;
      t = now();
      chunk.forEach((b, k) => {
        const clip = opts.clipToBox ? boxClip(b.box, image.width, image.height) : undefined;
        upsampler.paint(
          result.logits,
          k,
          labels,
          b.label,
          opts.confidence?.classesOf(b.label, 0),
          guide,
          clip,
        );
        opts.confidence?.add(b.label, result.logits, k, frame, result.iou[k]!);
      });
      timings.postprocessMs += now() - t;
    }
  }
  return { regions: plans.length };
}

/** Copy of a rectangular region of an interleaved image. */
export function cropImage(
  image: Image2D,
  r: { x0: number; y0: number; width: number; height: number },
): Image2D {
  const c = image.channels;
  const data =
    image.data instanceof Uint8Array
      ? new Uint8Array(r.width * r.height * c)
      : new Float32Array(r.width * r.height * c);
  for (let y = 0; y < r.height; y++) {
    const from = ((r.y0 + y) * image.width + r.x0) * c;
    data.set(image.data.subarray(from, from + r.width * c), y * r.width * c);
  }
  return { data, height: r.height, width: r.width, channels: c };
}
