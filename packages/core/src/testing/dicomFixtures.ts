import { readFileSync } from "node:fs";
import { decodeDicomPixels, readDicom, type DicomFile, type DicomPixels } from "../io/dicom.js";
import { encapsulatedFrames } from "../io/dicomFragments.js";

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
