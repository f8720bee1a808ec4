/**
 * Oracle experts: tiny ONNX models whose outputs are known exactly, following the engine's model
 * contract (packages/core/src/model/expert.ts, manifest v1):
 * - encoder: "image" float32 [1, 3, 256, 256] → "embedding" float32 [1, C, h, w]
 * - decoder: "embedding" [1, C, h, w] + "boxes" float32 [1, N, 4] (x0, y0, x1, y1 in the 256 frame,
 *   max corner inclusive; N dynamic) → "logits" float32 [1, N, 256, 256] and "iou" float32 [1, N].
 */
import { attr, OnnxGraphBuilder } from "./onnxBuilder.js";

export const MODEL_INPUT_SIZE = 256;

export interface OracleEncoder {
  /** Serialized ONNX model. */
  bytes: Uint8Array;
  /** Embedding dims without the batch axis, as the manifest declares them. */
  embeddingShape: number[];
  /** Multiply-accumulates per encode, in billions. */
  gmac: number;
}

export interface OracleDecoder {
  bytes: Uint8Array;
  /** The embedding dims (without batch) this decoder reads. */
  embeddingShape: number[];
  /** Multiply-accumulates per box, in billions. */
  gmacPerBox: number;
}

/** Declares the encoder's "image" input [1, 3, 256, 256]. */
export function encoderImageInput(g: OnnxGraphBuilder): string {
  return g.input("image", "float32", [1, 3, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE]);
}

/** Declares the decoder's inputs: "embedding" [1, ...embeddingShape] and "boxes" [1, N, 4]. */
export function decoderInputs(
  g: OnnxGraphBuilder,
  embeddingShape: readonly number[],
): { embedding: string; boxes: string } {
  const embedding = g.input("embedding", "float32", [1, ...embeddingShape]);
  const boxes = g.input("boxes", "float32", [1, "N", 4]);
  return { embedding, boxes };
}

/** Declares the decoder outputs; `logits` and `iou` must be the values named "logits" and "iou". */
export function decoderOutputs(g: OnnxGraphBuilder): void {
  g.output("logits", "float32", [1, "N", MODEL_INPUT_SIZE, MODEL_INPUT_SIZE]);
  g.output("iou", "float32", [1, "N"]);
}

/**
 * Signed distance-like margin to each box: min(x - x0 + 0.5, x1 + 0.5 - x, y - y0 + 0.5, y1 + 0.5 - y)
 * as [1, N, 256, 256], computed in exactly that order (Sub then Add) in float32. Positive exactly on
 * the pixels inside the inclusive box (for integer corners it is ≥ 0.5 inside and ≤ -0.5 outside).
 */
export function boxMargin(g: OnnxGraphBuilder, boxes: string, outputName?: string): string {
  const size = MODEL_INPUT_SIZE;
  const coords = Array.from({ length: size }, (_, i) => i);
  const xs = g.floatConst("grid_x", coords, [1, 1, 1, size]);
  const ys = g.floatConst("grid_y", coords, [1, 1, size, 1]);
  const half = g.floatConst("half", 0.5);
  const boxColumns = g.op("Unsqueeze", [boxes, g.int64Const("axis3", [3])]); // [1, N, 4, 1]
  const [x0, y0, x1, y1] = g.opN("Split", [boxColumns], 4, { axis: attr.int(2) }) as [
    string,
    string,
    string,
    string,
  ]; // each [1, N, 1, 1]
  const left = g.op("Add", [g.op("Sub", [xs, x0]), half]);
  const right = g.op("Sub", [g.op("Add", [x1, half]), xs]);
  const top = g.op("Add", [g.op("Sub", [ys, y0]), half]);
  const bottom = g.op("Sub", [g.op("Add", [y1, half]), ys]);
  return g.op("Min", [left, right, top, bottom], undefined, outputName);
}

/** iou = 1 for every box, [1, N]. */
function constantIou(g: OnnxGraphBuilder, boxes: string, value: number): string {
  const batchAndCount = g.op("Shape", [boxes], { start: attr.int(0), end: attr.int(2) });
  return g.op(
    "ConstantOfShape",
    [batchAndCount],
    { value: attr.tensor({ type: "float32", dims: [1], data: Float32Array.of(value) }) },
    "iou",
  );
}

/** (a) embedding = the image itself, [1, 3, 256, 256]. */
export function identityEncoder(): OracleEncoder {
  const g = new OnnxGraphBuilder("identity_encoder");
  const image = encoderImageInput(g);
  g.op("Identity", [image], undefined, "embedding");
  const embeddingShape = [3, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE];
  g.output("embedding", "float32", [1, ...embeddingShape]);
  return { bytes: g.toModel(), embeddingShape, gmac: 0 };
}

/**
 * (b) logits = box margin (positive exactly inside each inclusive box), iou = 1. Ignores the
 * embedding, so it pairs with any encoder whose embedding has `embeddingShape`.
 */
export function boxDecoder(options: { embeddingShape?: readonly number[] } = {}): OracleDecoder {
  const embeddingShape = [...(options.embeddingShape ?? [3, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE])];
  const g = new OnnxGraphBuilder("box_decoder");
  const { boxes } = decoderInputs(g, embeddingShape);
  boxMargin(g, boxes, "logits");
  constantIou(g, boxes, 1);
  decoderOutputs(g);
  return { bytes: g.toModel(), embeddingShape, gmacPerBox: 0 };
}

/**
 * (c) logits = min(box margin, embedding[0, 0] - threshold): "bright pixels inside the box".
 * Pairs with identityEncoder (channel 0 of the embedding is the normalized image, 256×256).
 */
export function intensityInBoxDecoder(
  options: { threshold?: number; channels?: number } = {},
): OracleDecoder {
  const threshold = options.threshold ?? 0.5;
  const embeddingShape = [options.channels ?? 3, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE];
  const g = new OnnxGraphBuilder("intensity_in_box_decoder");
  const { embedding, boxes } = decoderInputs(g, embeddingShape);
  const firstChannel = g.op("Slice", [
    embedding,
    g.int64Const("starts", [0]),
    g.int64Const("ends", [1]),
    g.int64Const("axes", [1]),
  ]); // [1, 1, 256, 256]
  const brightness = g.op("Sub", [firstChannel, g.floatConst("threshold", threshold)]);
  g.op("Min", [boxMargin(g, boxes), brightness], undefined, "logits");
  constantIou(g, boxes, 1);
  decoderOutputs(g);
  return { bytes: g.toModel(), embeddingShape, gmacPerBox: 0 };
}
