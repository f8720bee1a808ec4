import type { Box2D, Image2D } from "../image/types.js";
import type { Expert } from "../model/expert.js";
import { EdgeGuide, type EdgeRefinement } from "./edgeRefinement.js";
import { boxClip, LogitUpsampler } from "./postprocess.js";
import { boxToFrame, modelFrame, preprocessImage, type ModelFrame } from "./preprocess.js";
import { planRegions, type ImageRegion, type SmallObjectZoom } from "./smallObjectZoom.js";
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
  /** Told after each part is painted (a 2D image's tiles and decoder chunks, a volume's slice steps). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * One 2D image, all its boxes: each region (the whole image, or a zoomed tile for small objects) is
 * preprocessed and encoded once; the boxes of a region are decoded together (in chunks) and painted with
 * label = index + 1 into `labels` (H × W), overlaps resolved by `paintOrder` (paintOrder.ts).
 *
 * Pipelined one chunk ahead: the next chunk's preprocessing, encoding and decoding are asked for before this
 * chunk's masks are painted, so an expert with models side by side (ParallelExpert) runs them while the calling
 * thread paints. Chunks are painted in order, so the label map does not depend on which finished first; at most
 * two chunks' logits are held at once.
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

  const chunks = plans.flatMap((plan) => {
    const context = regionContext(image, plan.region, expert, opts.mirroring ?? "off", opts.paintOrder);
    const list: { context: RegionContext; chunk: { box: Box2D; label: number }[] }[] = [];
    for (let start = 0; start < plan.boxes.length; start += opts.maxBoxesPerDecode) {
      const chunk = plan.boxes.slice(start, start + opts.maxBoxesPerDecode).map((i) => boxes[i]!);
      list.push({ context, chunk });
    }
    return list;
  });
  /** Starts one chunk's model work: the region's embedding (once, cached) and the chunk's decoder call. */
  const launch = ({ context, chunk }: (typeof chunks)[number]) => {
    const { region, frame, model } = context;
    const result = (async () => {
      const embedding = await cache.get(region.key, async () => {
        let t0 = now();
        const { tensor } = preprocessImage(context.image(), expert.inputSize);
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
      const t = now();
      const decoded = await model.decode(embedding, prompts);
      timings.decodeMs += now() - t;
      return decoded;
    })();
    result.catch(() => undefined); // a chunk started ahead whose case fails first must not go unhandled
    return { context, chunk, result };
  };

  let next = chunks.length > 0 ? launch(chunks[0]!) : undefined;
  for (let c = 0; c < chunks.length; c++) {
    const current = next!;
    next = c + 1 < chunks.length ? launch(chunks[c + 1]!) : undefined;
    const result = await current.result;
    const t = now();
    const { frame, upsampler } = current.context;
    current.chunk.forEach((b, k) => {
      const clip = opts.clipToBox ? boxClip(b.box, image.width, image.height) : undefined;
      upsampler.paint(result.logits, k, labels, b.label, opts.confidence?.classesOf(b.label, 0), guide, clip);
      opts.confidence?.add(b.label, result.logits, k, frame, result.iou[k]!);
    });
    timings.postprocessMs += now() - t;
    opts.onProgress?.(c + 1, chunks.length);
  }
  return { regions: plans.length };
}

/** What the chunks of one region share: its model frame, mirrored expert, upsampler, and its pixels on demand. */
interface RegionContext {
  region: ImageRegion;
  frame: ModelFrame;
  model: Expert;
  upsampler: LogitUpsampler;
  /** The region's pixels (the image itself, or a crop made when the region is first encoded). */
  image(): Image2D;
}

function regionContext(
  image: Image2D,
  region: ImageRegion,
  expert: Expert,
  mirroring: Mirroring,
  paintOrder: PaintOrder | undefined,
): RegionContext {
  const frame = modelFrame(region.height, region.width, expert.inputSize);
  return {
    region,
    frame,
    model: mirroredExpert(expert, frame, mirroring),
    upsampler: new LogitUpsampler(frame, { x0: region.x0, y0: region.y0, stride: image.width }, paintOrder),
    image: () => (region.key === 0 ? image : cropImage(image, region)),
  };
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
