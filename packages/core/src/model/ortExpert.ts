import type { InferenceSession, Tensor } from "onnxruntime-common";
import type { ExpertSpec } from "../manifest/schema.js";
import type { DecodeResult, Embedding, Expert } from "./expert.js";
import { openSessionPair } from "./sessionPair.js";

/**
 * The parts of an onnxruntime package (onnxruntime-node or onnxruntime-web; both re-export onnxruntime-common)
 * an expert needs. Injected, so the core stays free of any one runtime, as onnxruntime's own js/common is.
 */
export interface OrtRuntime {
  Tensor: typeof Tensor;
  InferenceSession: typeof InferenceSession;
}

/**
 * An expert backed by two onnxruntime sessions (encoder, decoder), following the manifest v1 contract.
 *
 * Callers may ask for several results at once (test-time mirroring's passes do): each session runs one request at
 * a time, in the order asked, since onnxruntime-web's sessions do not promise concurrent runs. Parallel runs come
 * from several experts side by side (the Node adapter's ParallelExpert), not from one.
 */
export class OrtExpert implements Expert {
  readonly name: string;
  readonly inputSize: number;
  /** The end of each session's queue of runs. */
  private encoderQueue: Promise<unknown> = Promise.resolve();
  private decoderQueue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly ort: OrtRuntime,
    readonly spec: ExpertSpec,
    private readonly encoder: InferenceSession,
    private readonly decoder: InferenceSession,
  ) {
    this.name = spec.name;
    this.inputSize = spec.inputSize;
  }

  static async create(
    ort: OrtRuntime,
    spec: ExpertSpec,
    encoderBytes: Uint8Array,
    decoderBytes: Uint8Array,
    options: InferenceSession.SessionOptions = {},
  ): Promise<OrtExpert> {
    const [encoder, decoder] = await openSessionPair(
      ort.InferenceSession.create(encoderBytes, options),
      ort.InferenceSession.create(decoderBytes, options),
      (session) => session.release(),
    );
    return OrtExpert.fromSessions(ort, spec, encoder, decoder);
  }

  /** An expert on sessions made elsewhere (e.g. from a cache of optimized graphs), checked against the contract. */
  static fromSessions(
    ort: OrtRuntime,
    spec: ExpertSpec,
    encoder: InferenceSession,
    decoder: InferenceSession,
  ): OrtExpert {
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
    return new OrtExpert(ort, spec, encoder, decoder);
  }

  async encode(image: Float32Array): Promise<Embedding> {
    const s = this.inputSize;
    const run = () => this.encoder.run({ image: new this.ort.Tensor("float32", image, [1, 3, s, s]) });
    const out = await (this.encoderQueue = this.encoderQueue.then(run, run));
    const e = out["embedding"]!;
    return { data: e.data as Float32Array, dims: e.dims.slice(1) };
  }

  async decode(embedding: Embedding, boxes: Float32Array): Promise<DecodeResult> {
    const n = boxes.length / 4;
    const run = () =>
      this.decoder.run({
        embedding: new this.ort.Tensor("float32", embedding.data, [1, ...embedding.dims]),
        boxes: new this.ort.Tensor("float32", boxes, [1, n, 4]),
      });
    const out = await (this.decoderQueue = this.decoderQueue.then(run, run));
    return { logits: out["logits"]!.data as Float32Array, iou: out["iou"]!.data as Float32Array, count: n };
  }

  async dispose(): Promise<void> {
    await Promise.all([this.encoder.release(), this.decoder.release()]);
  }
}
