/**
 * The in-browser engine decodes an input twice — once to show it, once inside segmentInput — which for a compressed
 * DICOM series (JPEG 2000 ~100 ms, JPEG-LS ~40 ms per 512² slice) doubles the slowest step. The worker keeps the
 * decoded values of the last series' compressed slices and hands them to the core (DicomFileBytes.decodedValues)
 * when the same files are segmented. Uncompressed slices are not kept: reading them is cheap, keeping them is not.
 */
import { decodeDicomPixels, readDicom, type InputBytes } from "@daft/core";

export class SeriesPixelCache {
  private key: string | undefined;
  private values = new Map<string, Float32Array>();

  /** The input with each compressed slice's values decoded (and kept for a later `attach` of the same files). */
  decodeAndKeep(input: InputBytes): InputBytes {
    if (input.kind !== "dicom-series") return input;
    this.key = keyOf(input);
    this.values = new Map();
    for (const { name, bytes } of input.files) {
      try {
        const file = readDicom(bytes, name);
        if (file.pixelData?.encapsulated) this.values.set(name, decodeDicomPixels(file, name).values);
      } catch {
        // Left to the core, which reports it naming the file.
      }
    }
    return this.attach(input);
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
