import type { Box2D, Image2D } from "../image/types.js";
import type { Expert } from "../model/expert.js";
import { LogitUpsampler } from "./postprocess.js";
import { boxToFrame, preprocessImage } from "./preprocess.js";
import type { SliceEmbeddingCache } from "./sliceEmbeddingCache.js";
import type { Clock, StageTimings } from "./timings.js";

export interface SegmentOptions {
  cache: SliceEmbeddingCache;
  timings: StageTimings;
  now: Clock;
  /** Most boxes sent to the decoder in one call (bounds memory: N × size² logits). */
  maxBoxesPerDecode: number;
}

/**
 * One 2D image, all its boxes: encode once, decode the boxes together (in chunks), paint label = index + 1.
 * `labels` (H × W) is painted in place; later boxes win where masks overlap.
 */
export async function segmentImage(
  image: Image2D,
  boxes: readonly { box: Box2D; label: number }[],
  expert: Expert,
  labels: Uint16Array,
  opts: SegmentOptions,
): Promise<void> {
  const { timings, now, cache } = opts;
  let t = now();
  const { tensor, frame } = preprocessImage(image, expert.inputSize);
  timings.preprocessMs += now() - t;
  cache.plan(0, Math.ceil(boxes.length / opts.maxBoxesPerDecode));
  const upsampler = new LogitUpsampler(frame);

  for (let start = 0; start < boxes.length; start += opts.maxBoxesPerDecode) {
    const chunk = boxes.slice(start, start + opts.maxBoxesPerDecode);
    const embedding = await cache.get(0, async () => {
      const t0 = now();
      const e = await expert.encode(tensor);
      timings.encodeMs += now() - t0;
      return e;
    });
    const prompts = new Float32Array(chunk.length * 4);
    chunk.forEach((b, k) => prompts.set(boxToFrame(b.box, frame), k * 4));
    t = now();
    const result = await expert.decode(embedding, prompts);
    timings.decodeMs += now() - t;
    t = now();
    chunk.forEach((b, k) => upsampler.paint(result.logits, k, labels, b.label));
    timings.postprocessMs += now() - t;
  }
}
