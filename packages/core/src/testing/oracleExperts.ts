import type { DecodeResult, Embedding, Expert } from "../model/expert.js";

/**
 * In-memory oracle experts whose right answer is known, for exact pipeline tests without a runtime.
 * They mirror the ONNX oracles built in packages/node/src/testing (same definitions).
 *
 * - encode: the embedding is the model input itself ([3, S, S]); every call is counted.
 * - decode ("box"): logit = min(x − x0 + ½, x1 + r − x, y − y0 + ½, y1 + r − y) with r = ½ by default:
 *   positive exactly inside the inclusive box in the model frame. Boxes are scaled into the frame by s = size/max(H,W)
 *   (inclusive max corner scaled as a point), so a test that wants the exact box back at the original resolution
 *   configures r = s − ½: then the pipeline's bilinear upsampling puts the mask exactly on pixels x0..x1.
 * - decode ("intensity"): min(box margin, channel 0 − threshold): bright pixels inside the box.
 */
export class OracleExpert implements Expert {
  readonly name: string;
  encodeCalls = 0;
  decodeCalls = 0;
  readonly decodedBoxes: number[] = [];

  constructor(
    readonly kind: "box" | "intensity",
    readonly inputSize = 256,
    readonly threshold = 0.5,
    /** r, the margin after the max corner (see above). */
    readonly maxMargin = 0.5,
  ) {
    this.name = `oracle-${kind}`;
  }

  async encode(image: Float32Array): Promise<Embedding> {
    this.encodeCalls++;
    return { data: image, dims: [3, this.inputSize, this.inputSize] };
  }

  async decode(embedding: Embedding, boxes: Float32Array): Promise<DecodeResult> {
    this.decodeCalls++;
    const s = this.inputSize;
    const n = boxes.length / 4;
    this.decodedBoxes.push(n);
    const logits = new Float32Array(n * s * s);
    for (let k = 0; k < n; k++) {
      const [x0, y0, x1, y1] = [boxes[4 * k]!, boxes[4 * k + 1]!, boxes[4 * k + 2]!, boxes[4 * k + 3]!];
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          let v = Math.min(x - x0 + 0.5, x1 + this.maxMargin - x, y - y0 + 0.5, y1 + this.maxMargin - y);
          if (this.kind === "intensity") v = Math.min(v, embedding.data[y * s + x]! - this.threshold);
          logits[k * s * s + y * s + x] = v;
        }
      }
    }
    return { logits, iou: new Float32Array(n).fill(1), count: n };
  }
}
