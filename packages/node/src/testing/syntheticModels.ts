/**
 * Synthetic experts with realistic compute and deterministic pseudo-random weights, for benchmarks
 * before trained experts exist. They follow the same contract as the oracles (oracleModels.ts).
 *
 * Encoder: strided convs 256² → 128² → 64², then 3×3 convs (and 1×1 convs to top up) at 64×64 until
 * about the requested GMAC → [1, C, 64, 64].
 * Decoder: per call a 1×1 conv of the embedding to K channels; per box a small MLP on the box that
 * gates those channels, a 3×3 conv K→K and a 1×1 conv K→1 at 64×64, then a linear resize to 256².
 * The logits are the box margin plus a bounded (±0.25) learned-looking term, so each mask is exactly
 * its box: 3D propagation then runs over the whole z extent, as it would with a real expert.
 */
import { attr, OnnxGraphBuilder } from "./onnxBuilder.js";
import {
  boxMargin,
  decoderInputs,
  decoderOutputs,
  encoderImageInput,
  MODEL_INPUT_SIZE,
  type OracleDecoder,
  type OracleEncoder,
} from "./oracleModels.js";

/** mulberry32: a small, fast, seedable PRNG with values in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** He-uniform weights (bound √(6 / fanIn)), so activations keep their scale through ReLUs. */
function heUniform(random: () => number, count: number, fanIn: number): Float32Array {
  const bound = Math.sqrt(6 / fanIn);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (random() * 2 - 1) * bound;
  return out;
}

interface ConvSpec {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  pad: number;
}

/** Adds Conv (+ bias); returns the output name. */
function conv(g: OnnxGraphBuilder, random: () => number, input: string, spec: ConvSpec): string {
  const { inChannels, outChannels, kernel, stride, pad } = spec;
  const fanIn = inChannels * kernel * kernel;
  const weight = g.floatConst("conv_w", heUniform(random, outChannels * fanIn, fanIn), [
    outChannels,
    inChannels,
    kernel,
    kernel,
  ]);
  const bias = g.floatConst(
    "conv_b",
    heUniform(random, outChannels, fanIn).map((v) => v * 0.1),
  );
  return g.op("Conv", [input, weight, bias], {
    kernel_shape: attr.ints([kernel, kernel]),
    strides: attr.ints([stride, stride]),
    pads: attr.ints([pad, pad, pad, pad]),
  });
}

function convMacs(spec: ConvSpec, outSide: number): number {
  return spec.outChannels * spec.inChannels * spec.kernel * spec.kernel * outSide * outSide;
}

export interface SyntheticEncoderOptions {
  /** Target multiply-accumulates per encode, in billions (default 1.5). */
  gmac?: number;
  /** Embedding channels C (default 128). */
  channels?: number;
  seed?: number;
}

export function syntheticEncoder(options: SyntheticEncoderOptions = {}): OracleEncoder {
  const targetMacs = (options.gmac ?? 1.5) * 1e9;
  const channels = options.channels ?? 128;
  const random = seededRandom(options.seed ?? 1);
  const side = MODEL_INPUT_SIZE / 4;

  const stem: [ConvSpec, number][] = [
    [{ inChannels: 3, outChannels: 32, kernel: 4, stride: 2, pad: 1 }, side * 2],
    [{ inChannels: 32, outChannels: channels, kernel: 2, stride: 2, pad: 0 }, side],
  ];
  const body3x3: ConvSpec = { inChannels: channels, outChannels: channels, kernel: 3, stride: 1, pad: 1 };
  const body1x1: ConvSpec = { inChannels: channels, outChannels: channels, kernel: 1, stride: 1, pad: 0 };
  const stemMacs = stem.reduce((sum, [spec, out]) => sum + convMacs(spec, out), 0);
  const budget = Math.max(0, targetMacs - stemMacs);
  const count3x3 = Math.floor(budget / convMacs(body3x3, side));
  const count1x1 = Math.round((budget - count3x3 * convMacs(body3x3, side)) / convMacs(body1x1, side));
  const layers: [ConvSpec, number][] = [
    ...stem,
    ...Array.from({ length: count3x3 }, (): [ConvSpec, number] => [body3x3, side]),
    ...Array.from({ length: count1x1 }, (): [ConvSpec, number] => [body1x1, side]),
  ];

  const g = new OnnxGraphBuilder("synthetic_encoder");
  let x = encoderImageInput(g);
  let macs = 0;
  layers.forEach(([spec, outSide], i) => {
    x = conv(g, random, x, spec);
    macs += convMacs(spec, outSide);
    if (i < layers.length - 1) x = g.op("Relu", [x]);
  });
  g.op("Identity", [x], undefined, "embedding");
  const embeddingShape = [channels, side, side];
  g.output("embedding", "float32", [1, ...embeddingShape]);
  return { bytes: g.toModel(), embeddingShape, gmac: macs / 1e9 };
}

export interface SyntheticDecoderOptions {
  /** Embedding dims without batch (default [128, 64, 64], what syntheticEncoder() produces). */
  embeddingShape?: readonly number[];
  /** Per-box feature channels K (default 32: about 0.04 GMAC per box at 64×64). */
  hiddenChannels?: number;
  seed?: number;
}

export function syntheticDecoder(options: SyntheticDecoderOptions = {}): OracleDecoder {
  const embeddingShape = [...(options.embeddingShape ?? [128, 64, 64])];
  const [channels, height, width] = embeddingShape;
  if (embeddingShape.length !== 3 || channels === undefined || height === undefined || width === undefined) {
    throw new Error(
      `syntheticDecoder needs an embedding shape [C, h, w], got [${embeddingShape.join(", ")}]`,
    );
  }
  const hidden = options.hiddenChannels ?? 32;
  const boxHidden = 64;
  const random = seededRandom(options.seed ?? 2);
  const g = new OnnxGraphBuilder("synthetic_decoder");
  const { embedding, boxes } = decoderInputs(g, embeddingShape);

  // Per call: project the embedding to K channels.
  const features = g.op("Relu", [
    conv(g, random, embedding, { inChannels: channels, outChannels: hidden, kernel: 1, stride: 1, pad: 0 }),
  ]); // [1, K, h, w]

  // Per box: an MLP turns the normalized box into K channel gates in (0, 2).
  const unitBoxes = g.op("Mul", [boxes, g.floatConst("inv_size", 1 / MODEL_INPUT_SIZE)]);
  const w1 = g.floatConst("box_w1", heUniform(random, 4 * boxHidden, 4), [4, boxHidden]);
  const b1 = g.floatConst("box_b1", new Float32Array(boxHidden));
  const w2 = g.floatConst("box_w2", heUniform(random, boxHidden * hidden, boxHidden), [boxHidden, hidden]);
  const boxFeatures = g.op("Relu", [g.op("Add", [g.op("MatMul", [unitBoxes, w1]), b1])]); // [1, N, 64]
  const gates = g.op("Add", [g.op("Tanh", [g.op("MatMul", [boxFeatures, w2])]), g.floatConst("one", 1)]);
  const gatesPerBox = g.op("Reshape", [gates, g.int64Const("gate_shape", [-1, hidden, 1, 1])]); // [N, K, 1, 1]

  const gated = g.op("Mul", [features, gatesPerBox]); // [N, K, h, w]
  const refined = g.op("Relu", [
    conv(g, random, gated, { inChannels: hidden, outChannels: hidden, kernel: 3, stride: 1, pad: 1 }),
  ]);
  const lowRes = conv(g, random, refined, {
    inChannels: hidden,
    outChannels: 1,
    kernel: 1,
    stride: 1,
    pad: 0,
  });
  const scales = g.floatConst("resize_scales", [1, 1, MODEL_INPUT_SIZE / height, MODEL_INPUT_SIZE / width]);
  const fullRes = g.op("Resize", [lowRes, "", scales], { mode: attr.string("linear") }); // [N, 1, 256, 256]
  const perBox = g.op("Reshape", [
    fullRes,
    g.int64Const("logits_shape", [1, -1, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE]),
  ]);
  const bounded = g.op("Mul", [g.op("Tanh", [perBox]), g.floatConst("quarter", 0.25)]);
  g.op("Add", [boxMargin(g, boxes), bounded], undefined, "logits");
  g.op(
    "Sigmoid",
    [g.op("ReduceMean", [gates], { axes: attr.ints([2]), keepdims: attr.int(0) })],
    undefined,
    "iou",
  );
  decoderOutputs(g);

  const pixels = height * width;
  const macsPerBox =
    hidden * pixels + // gating
    hidden * hidden * 9 * pixels + // 3×3 conv
    hidden * pixels + // 1×1 conv to one channel
    4 * MODEL_INPUT_SIZE * MODEL_INPUT_SIZE; // bilinear resize
  return { bytes: g.toModel(), embeddingShape, gmacPerBox: macsPerBox / 1e9 };
}
