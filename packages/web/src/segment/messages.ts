/** What the page and the segmentation worker say to each other (structured-cloned). */
import type { CaseRecord, InputBytes, Mirroring } from "@daft/core";
import type { DecodedInput } from "../input/decodeInput.js";

/** Where onnxruntime-web runs the experts. */
export type Backend = "wasm" | "webgpu";

/** Routing, intensity, mirroring and edge overrides, the CLI's --modality, --expert, --window, --mirror and
 *  --edges off (the page offers the manifest's edge refinement or none). */
export interface RoutingOverrides {
  modality?: string;
  expert?: string;
  window?: string;
  mirroring?: Mirroring;
  edges?: "off";
}

export type WorkerRequest =
  | { type: "decode"; id: number; input: InputBytes }
  | {
      type: "segment";
      id: number;
      input: InputBytes;
      boxes: number[][];
      backend: Backend;
      overrides: RoutingOverrides;
    };

/** A label map made by segmentInput, in the browser or by `daft serve`. */
export interface SegmentOutcome {
  format: "npz" | "study";
  /** The label map file, exactly as `daft segment` writes it. */
  output: Uint8Array;
  extension: string;
  record: CaseRecord;
  /** Where it ran, for the result line ("this browser · WASM, 4 threads", "local server"). */
  runtime: string;
}

export type WorkerReply =
  /** `decodeWorkers`: how many workers decoded a DICOM series' compressed slices (0: the worker itself did). */
  | { type: "decoded"; id: number; decoded: DecodedInput; decodeWorkers: number }
  | { type: "progress"; id: number; stage: string; done: number; total: number }
  | { type: "segmented"; id: number; outcome: SegmentOutcome; labels: Uint16Array }
  | { type: "error"; id: number; message: string };
