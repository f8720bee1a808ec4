import type { DecodeResult, Embedding, Expert, ExpertSpec } from "@daft/core";
import * as ort from "onnxruntime-node";

export interface SessionOptions {
  /** Intra-op threads; default: all cores. */
  threads?: number;
}

/** An expert backed by two onnxruntime-node sessions (encoder, decoder), following the manifest v1 contract. */
export class OnnxExpert implements Expert {
  readonly name: string;
  readonly inputSize: number;

  private constructor(
    readonly spec: ExpertSpec,
    private readonly encoder: ort.InferenceSession,
    private readonly decoder: ort.InferenceSession,
  ) {
    this.name = spec.name;
    this.inputSize = spec.inputSize;
  }

  static async create(
    spec: ExpertSpec,
    encoderBytes: Uint8Array,
    decoderBytes: Uint8Array,
    opts: SessionOptions = {},
  ): Promise<OnnxExpert> {
    const options: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
    };
    const [encoder, decoder] = await Promise.all([
      ort.InferenceSession.create(encoderBytes, options),
      ort.InferenceSession.create(decoderBytes, options),
    ]);
    for (const [session, inputs, outputs, what] of [
      [encoder, ["image"], ["embedding"], "encoder"],
      [decoder, ["embedding", "boxes"], ["logits", "iou"], "decoder"],
    ] as const) {
      const missing = [
        ...inputs.filter((n) => !session.inputNames.includes(n)),
        ...outputs.filter((n) => !session.outputNames.includes(n)),
      ];
      if (missing.length > 0) {
        throw new Error(
          `${spec.name} ${what} does not follow the model contract: missing ${missing.join(", ")} ` +
            `(has inputs ${session.inputNames.join(", ")}; outputs ${session.outputNames.join(", ")})`,
        );
      }
    }
    return new OnnxExpert(spec, encoder, decoder);
  }

  async encode(image: Float32Array): Promise<Embedding> {
    const s = this.inputSize;
    const out = await this.encoder.run({ image: new ort.Tensor("float32", image, [1, 3, s, s]) });
    const e = out["embedding"]!;
    return { data: e.data as Float32Array, dims: e.dims.slice(1) };
  }

  async decode(embedding: Embedding, boxes: Float32Array): Promise<DecodeResult> {
    const n = boxes.length / 4;
    const out = await this.decoder.run({
      embedding: new ort.Tensor("float32", embedding.data, [1, ...embedding.dims]),
      boxes: new ort.Tensor("float32", boxes, [1, n, 4]),
    });
    return { logits: out["logits"]!.data as Float32Array, iou: out["iou"]!.data as Float32Array, count: n };
  }

  async dispose(): Promise<void> {
    await Promise.all([this.encoder.release(), this.decoder.release()]);
  }
}
