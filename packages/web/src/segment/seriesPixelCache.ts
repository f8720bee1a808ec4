/**
 * The in-browser engine decodes an input twice — once to show it, once inside segmentInput — which for a compressed
 * DICOM series (JPEG 2000 ~100 ms, JPEG-LS ~40 ms per 512² slice) doubles the slowest step. The worker decodes the
 * series' compressed slices once, on a pool of decoding workers (dicomDecodePool.ts: up to one per core, at most 8,
 * from 8 compressed slices on), keeps their values and hands them to the core (DicomFileBytes.decodedValues) when
 * the same files are shown and segmented. Uncompressed slices are not kept: reading them is cheap, keeping them is
 * not.
 */
import type { DecodedSlices, DicomFileBytes, InputBytes } from "@daft/core";

/** Decodes a series' compressed slices (dicomDecodePool.ts's decodeSeriesOnWebWorkers). */
export type DecodeSeriesSlices = (files: readonly DicomFileBytes[]) => Promise<DecodedSlices>;

export class SeriesPixelCache {
  private key: string | undefined;
  private values = new Map<string, Float32Array>();

  constructor(private readonly decodeSlices: DecodeSeriesSlices) {}

  /**
   * The input with each compressed slice's values decoded (and kept for a later `attach` of the same files), and
   * how many workers decoded them (0: this thread did, or there was nothing to decode).
   */
  async decodeAndKeep(input: InputBytes): Promise<{ input: InputBytes; decodeWorkers: number }> {
    if (input.kind !== "dicom-series") return { input, decodeWorkers: 0 };
    const { values, workers } = await this.decodeSlices(input.files);
    const kept = new Map<string, Float32Array>();
    input.files.forEach(({ name }, i) => {
      const decoded = values[i];
      if (decoded) kept.set(name, decoded);
    });
    this.key = keyOf(input);
    this.values = kept;
    return { input: this.attach(input), decodeWorkers: workers };
  }

  /** The input with the kept values attached, when it is the series last decoded. */
  attach(input: InputBytes): InputBytes {
    if (input.kind !== "dicom-series" || keyOf(input) !== this.key) return input;
    return {
      ...input,
      files: input.files.map((file) => {
        const values = this.values.get(file.name);
        return values ? { ...file, decodedValues: values } : file;
      }),
    };
  }
}

/** The same files: names and sizes, in order. */
function keyOf(input: Extract<InputBytes, { kind: "dicom-series" }>): string {
  return input.files.map((f) => `${f.name}\u0000${f.bytes.length}`).join("\u0001");
}
