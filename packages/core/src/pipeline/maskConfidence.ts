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
 *
 * Only the visible part of a mask counts. Masks are painted over one another (paintOrder.ts: inner boxes above the
 * boxes holding them, else later boxes on top), so an outer object with an inner one on top (optic disc and cup; a
 * whole tumour and its core) is, in the label map, the ring between them: its quality hangs on the inner object's
 * boundary as much as on its own. Each box's upsampled logits are also sorted, in label-plane pixels, into sure
 * and doubtful (LogitUpsampler.paint); once the case is done, each plane's labels are visited from the top of the
 * paint order down, and for each label
 *   - its sure pixels that a higher label surely covers are hidden: they leave its sure count;
 *   - its sure pixels that a higher label only may cover (doubtful there) become doubtful;
 *   - its doubtful pixels that a higher label surely covers are hidden: they leave its doubtful count.
 * The model-frame counts are scaled by those shares (so a label nothing covers keeps exactly its frame counts, and
 * a zoomed tile's box and a whole-image box compare at the original resolution they are painted at).
 */
import { UNSURE_LOGIT, type LogitClasses } from "./postprocess.js";
import { PixelIndexList } from "./pixelIndexList.js";
import type { ModelFrame } from "./preprocess.js";
import type { PaintOrder } from "./paintOrder.js";

export { UNSURE_LOGIT };

/** A label's counts: model-frame sure/unsure, and the label-plane pixels its upsampled logits were sorted into. */
interface LabelCounts {
  sure: number;
  unsure: number;
  iouSum: number;
  decodes: number;
}

/** Shares of a label's label-plane pixels hidden or made doubtful by higher labels (summed over its planes). */
interface Occlusion {
  surePixels: number;
  unsurePixels: number;
  sureHidden: number;
  sureDoubted: number;
  unsureHidden: number;
}

/** Pixel marks while a plane is visited top-down: what the labels above have said of the pixel. */
const UNCOVERED = 0;
const MAYBE_COVERED = 1;
const COVERED = 2;

export class MaskConfidenceTally {
  private readonly counts = new Map<number, LabelCounts>();
  /** plane (2D: 0; 3D: slice z) → label → its sorted pixels on that plane. */
  private readonly planes = new Map<number, Map<number, LogitClasses>>();
  private occlusion?: Map<number, Occlusion>;

  /** @param order the paint order the labels were painted by (default: later boxes, i.e. higher labels, on top) */
  constructor(private readonly order?: PaintOrder) {}

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

  /**
   * Where LogitUpsampler.paint should sort `label`'s upsampled logits on `plane` (indices into that plane's label
   * array), so that the parts of its mask under higher labels can be told apart.
   */
  classesOf(label: number, plane: number): LogitClasses {
    this.occlusion = undefined;
    let labels = this.planes.get(plane);
    if (!labels) this.planes.set(plane, (labels = new Map()));
    let classes = labels.get(label);
    if (!classes) labels.set(label, (classes = { sure: new PixelIndexList(), unsure: new PixelIndexList() }));
    return classes;
  }

  /** The label's confidence in [0, 1], of the part of its mask that stays visible; undefined if never decoded. */
  confidenceOf(label: number): number | undefined {
    const c = this.counts.get(label);
    if (!c) return undefined;
    const o = (this.occlusion ??= this.resolveOcclusion()).get(label);
    let { sure, unsure } = c;
    if (o) {
      const sureShare = (n: number) => (o.surePixels > 0 ? n / o.surePixels : 0);
      const unsureShare = (n: number) => (o.unsurePixels > 0 ? n / o.unsurePixels : 0);
      sure = c.sure * (1 - sureShare(o.sureHidden + o.sureDoubted));
      unsure = c.unsure * (1 - unsureShare(o.unsureHidden)) + c.sure * sureShare(o.sureDoubted);
    }
    return sure <= 0 ? 0 : sure / (sure + unsure);
  }

  /** The decoder's predicted IoU for the label, averaged over its decoder calls; undefined if never decoded. */
  predictedIouOf(label: number): number | undefined {
    const c = this.counts.get(label);
    return c ? c.iouSum / c.decodes : undefined;
  }

  /** Visits each plane's labels from the top down, counting what the labels above hide or put in doubt. */
  private resolveOcclusion(): Map<number, Occlusion> {
    const result = new Map<number, Occlusion>();
    let marks = new Uint8Array(0);
    for (const labels of this.planes.values()) {
      let extent = 0;
      for (const { sure, unsure } of labels.values())
        extent = Math.max(extent, sure.extent(), unsure.extent());
      if (marks.length < extent) marks = new Uint8Array(extent);
      const topDown = this.order
        ? this.order.topDown(labels.keys())
        : [...labels.keys()].sort((a, b) => b - a);
      for (const label of topDown) {
        const { sure, unsure } = labels.get(label)!;
        let o = result.get(label);
        if (!o) {
          o = { surePixels: 0, unsurePixels: 0, sureHidden: 0, sureDoubted: 0, unsureHidden: 0 };
          result.set(label, o);
        }
        const counts = o;
        counts.surePixels += sure.length;
        counts.unsurePixels += unsure.length;
        sure.forEachRun((start, end) => {
          for (let p = start; p < end; p++) {
            if (marks[p] === COVERED) counts.sureHidden++;
            else if (marks[p] === MAYBE_COVERED) counts.sureDoubted++;
          }
        });
        // A pixel is in one of a label's lists only, so its doubtful pixels are counted and marked in one pass.
        unsure.forEachRun((start, end) => {
          for (let p = start; p < end; p++) {
            if (marks[p] === COVERED) counts.unsureHidden++;
            else if (marks[p] === UNCOVERED) marks[p] = MAYBE_COVERED;
          }
        });
        sure.forEachRun((start, end) => marks.fill(COVERED, start, end));
      }
      for (const { sure, unsure } of labels.values()) {
        sure.forEachRun((start, end) => marks.fill(UNCOVERED, start, end));
        unsure.forEachRun((start, end) => marks.fill(UNCOVERED, start, end));
      }
    }
    return result;
  }
}
