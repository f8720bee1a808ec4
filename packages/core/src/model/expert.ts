/**
 * The only way the core talks to a model (onnxruntime-node, onnxruntime-web, or an oracle in tests).
 *
 * Contract (manifest version 1):
 * - encode: image float32 [1, 3, S, S] (S = inputSize, 256) → embedding of the shape the manifest declares.
 * - decode: embedding + N boxes [1, N, 4] in the S×S frame (x0, y0, x1, y1) → logits [1, N, S, S] and IoU [1, N].
 */
export interface Embedding {
  data: Float32Array;
  dims: readonly number[];
  /**
   * Every embedding of the same image a wrapping expert made (test-time mirroring: one per pass, the unmirrored
   * pass first, which is also `data`/`dims`). Kept as separate arrays, not joined into one: a fresh 4 MB array
   * per slice, filled by copying, cost more than 5 ms a slice on a 2-core machine.
   */
  readonly passes?: readonly Embedding[];
}

/** Bytes an embedding holds (all its passes). */
export function embeddingBytes(embedding: Embedding): number {
  return embedding.passes
    ? embedding.passes.reduce((sum, p) => sum + p.data.byteLength, 0)
    : embedding.data.byteLength;
}

export interface DecodeResult {
  /** N × S × S logits, C order. */
  logits: Float32Array;
  /** N predicted IoU scores. */
  iou: Float32Array;
  count: number;
}

export interface Expert {
  readonly name: string;
  /** Side of the square model input (256). */
  readonly inputSize: number;
  encode(image: Float32Array): Promise<Embedding>;
  /** boxes: N × 4 float32 in the inputSize frame. */
  decode(embedding: Embedding, boxes: Float32Array): Promise<DecodeResult>;
  dispose?(): Promise<void>;
}
