import { OrtExpert, type ExpertSpec } from "@daft/core";
import * as ort from "onnxruntime-node";

export interface SessionOptions {
  /** Intra-op threads; default: all cores. */
  threads?: number;
}

/** An expert on onnxruntime-node: the core's OrtExpert with the Node runtime and CPU session options. */
export function createNodeExpert(
  spec: ExpertSpec,
  encoderBytes: Uint8Array,
  decoderBytes: Uint8Array,
  opts: SessionOptions = {},
): Promise<OrtExpert> {
  return OrtExpert.create(ort, spec, encoderBytes, decoderBytes, {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
  });
}
