import type { DecodeResult, Embedding, Expert } from "../model/expert.js";

/** Largest |offset| a manifest may declare (the training package's manifest check uses the same bound). */
export const MAX_MASK_LOGIT_OFFSET = 10;

/**
 * The expert with a constant added to its mask logits: a per-expert calibration of where "inside" begins,
 * chosen on validation data (scripts/calibrate_mask_offsets.mjs) and declared in the manifest
 * (`maskLogitOffset`). Upsampling and the threshold at 0 stay as they are, so an offset of +0.5 equals
 * thresholding the model's own logits at −0.5. The predicted IoU is left alone. Offset 0 (or absent) returns
 * the expert itself. The wrapper owns nothing: whoever loaded the expert disposes of it.
 */
export function offsetExpert(expert: Expert, offset: number | undefined): Expert {
  if (!offset) return expert;
  return {
    name: expert.name,
    inputSize: expert.inputSize,
    encode: (image: Float32Array): Promise<Embedding> => expert.encode(image),
    async decode(embedding: Embedding, boxes: Float32Array): Promise<DecodeResult> {
      // in place: the logits belong to this call (a fresh runtime output), and the hot path needs no copy
      const result = await expert.decode(embedding, boxes);
      const { logits } = result;
      for (let i = 0; i < logits.length; i++) logits[i]! += offset;
      return result;
    },
  };
}
