import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { readDicom, type DicomFile } from "../io/dicom.js";
import { decodeDicomPixels, type DicomPixels } from "../io/dicomPixels.js";
import { encapsulatedFrames } from "../io/dicomFragments.js";

/**
 * A lossy fixture decoded as the reference decoder (OpenJPEG's, OpenJPH's, …) decoded it: the same size and
 * fields, every value within `tolerance`, and RGB exactly when the fixture's name ends in `_ict`.
 */
export function expectDecodedLike(
  name: string,
  decoded: DicomPixels,
  reference: DicomPixels,
  tolerance: number,
): void {
  const { photometricInterpretation, ...got } = decoded;
  expect(photometricInterpretation).toBe(name.endsWith("_ict") ? "RGB" : undefined);
  expect({ ...got, values: undefined }).toEqual({ ...reference, values: undefined });
  let max = 0;
  got.values.forEach((v, i) => (max = Math.max(max, Math.abs(v - reference.values[i]!))));
  expect(max).toBeLessThanOrEqual(tolerance);
}

/**
 * For tests: the DICOM files of one folder of fixtures/formats (<name>.dcm), read, decoded, or split into their
 * compressed frames.
 */
export function dicomFixtures(folderName: string): {
  fileOf(name: string): DicomFile;
  pixels(name: string): DicomPixels;
  framesOf(name: string): Uint8Array[];
} {
  const folder = new URL(`../../../../fixtures/formats/${folderName}/`, import.meta.url);
  const fileOf = (name: string) =>
    readDicom(new Uint8Array(readFileSync(new URL(`${name}.dcm`, folder))), name);
  return {
    fileOf,
    pixels: (name) => decodeDicomPixels(fileOf(name), name),
    framesOf(name) {
      const file = fileOf(name);
      return encapsulatedFrames(
        file.bytes,
        file.pixelData!.offset,
        file.pixelData!.length,
        file.tags.numberOfFrames ?? 1,
      );
    },
  };
}
