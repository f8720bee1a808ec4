/**
 * How sure the model is of each mask — so a clinician reviewing hundreds of objects can start with the ones most
 * likely wrong. Counted in the model frame on the logits the mask is thresholded from (after the expert's logit
 * offset and test-time mirroring, so mirror images that disagree lower it too): pixels whose logit is within
 * ±UNSURE_LOGIT of the threshold (probability 0.25–0.75) are unsure, pixels above it are surely inside;
 *
 *   confidence = sure / (sure + unsure)   (0 when nothing is surely inside: an empty or all-doubtful mask).
 *
 * A mask with a crisp boundary scores near 1, one whose extent the model hesitates over scores low. A 3D object
 * sums its counts over every slice of its walk. On the validation split this ranked objects by their true IoU
 * better than the decoder's own IoU prediction (README, "Mask confidence").
 */
import type { ModelFrame } from "./preprocess.js";

/** |logit| below this is unsure: ln 3, i.e. a probability between 0.25 and 0.75. */
export const UNSURE_LOGIT = Math.log(3);

export class MaskConfidenceTally {
  private readonly counts = new Map<
    number,
    { sure: number; unsure: number; iouSum: number; decodes: number }
  >();

  /**
   * Counts box `k`'s logits (N × size × size) within the frame's resized, unpadded extent, for `label`, and keeps
   * the decoder's own predicted IoU for it (averaged over the label's decoder calls), for comparison.
   */
  add(label: number, logits: Float32Array, k: number, frame: ModelFrame, predictedIou: number): void {
    const S = frame.size;
    const base = k * S * S;
    let sure = 0;
    let unsure = 0;
    for (let y = 0; y < frame.resizedHeight; y++) {
      const row = base + y * S;
      for (let x = 0; x < frame.resizedWidth; x++) {
        const v = logits[row + x]!;
        if (v >= UNSURE_LOGIT) sure++;
        else if (v > -UNSURE_LOGIT) unsure++;
      }
    }
    const c = this.counts.get(label);
    if (c) {
      c.sure += sure;
      c.unsure += unsure;
      c.iouSum += predictedIou;
      c.decodes++;
    } else this.counts.set(label, { sure, unsure, iouSum: predictedIou, decodes: 1 });
  }

  /** The label's confidence in [0, 1]; undefined for a label never decoded. */
  confidenceOf(label: number): number | undefined {
    const c = this.counts.get(label);
    if (!c) return undefined;
    return c.sure === 0 ? 0 : c.sure / (c.sure + c.unsure);
  }

  /** The decoder's predicted IoU for the label, averaged over its decoder calls; undefined if never decoded. */
  predictedIouOf(label: number): number | undefined {
    const c = this.counts.get(label);
    return c ? c.iouSum / c.decodes : undefined;
  }
}
