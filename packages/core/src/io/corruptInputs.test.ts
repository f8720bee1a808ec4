import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../testing/seededRandom.js";
import { DaftInputError } from "../errors.js";
import { decodeStudyFile } from "./decodeStudy.js";
import { identityAffine } from "../image/geometry.js";
import { syntheticCtSeries } from "../testing/dicomSeries.js";
import { readDicom } from "./dicom.js";
import { encodeDicomSeg } from "./dicomSeg.js";
import { readDicomSegOnto } from "./dicomSegRead.js";
import { decodeDicomStudy } from "./dicomSeries.js";
import { boxSegments, encodeSlicerSegmentation } from "./slicerSegmentation.js";
import { writeMetaImage } from "./metaImage.js";
import { writeNrrd } from "./nrrd.js";

/**
 * Corrupt and truncated files must fail as one-line input errors naming the file — never as a TypeError or
 * RangeError from deep inside a decoder, and never by hanging. Seeded random byte changes and cuts of every
 * compressed DICOM fixture (JPEG Lossless, JPEG-LS, RLE, JPEG Baseline, JPEG Extended, JPEG 2000, HTJ2K), of
 * an NRRD, a MetaImage file, a 3D Slicer segmentation (read as a label map) and a DICOM-SEG (read onto its
 * series).
 */
const folders = ["compressed", "jpeg2000", "htj2k"].map(
  (name) => new URL(`../../../../fixtures/formats/${name}/`, import.meta.url),
);
const inputs: [string, Uint8Array][] = folders.flatMap((folder) =>
  readdirSync(folder)
    .filter((f) => f.endsWith(".dcm") && !f.includes("native") && !f.includes("decoded"))
    .map((f): [string, Uint8Array] => [f, new Uint8Array(readFileSync(new URL(f, folder)))]),
);
const volume = Int16Array.from({ length: 16 * 12 * 3 }, (_, i) => i * 7 - 500);
inputs.push([
  "volume.nrrd",
  writeNrrd({
    type: "int16",
    sizes: [16, 12, 3],
    data: volume,
    space: "left-posterior-superior",
    spaceDirections: [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 2],
    ],
    spaceOrigin: [0, 0, 0],
  }),
]);
inputs.push(["volume.mha", writeMetaImage({ sizes: [16, 12, 3], data: volume })]);
const labels = Uint16Array.from(volume, (v) => (v > 0 ? 1 + (v % 3) : 0));
inputs.push([
  "labels.seg.nrrd",
  encodeSlicerSegmentation(
    labels,
    { sizes: [16, 12, 3], affine: identityAffine(), space: "LPS" },
    boxSegments(3),
  ),
]);
const ctSeries = syntheticCtSeries();
const ctStudy = decodeDicomStudy(ctSeries, "ct");
const seg = encodeDicomSeg(
  ctStudy.dicom!,
  Uint16Array.of(1, 1, 0, 2, 0, 0, 0, 1, 2, 2, 0, 0),
  {
    expert: "CT",
    softwareVersion: "0.1.0",
  },
  "ct",
);
if (!seg.written) throw new Error(seg.reason);
inputs.push(["ct.seg.dcm", seg.bytes]);

describe("corrupt and truncated inputs", () => {
  it("fail as DaftInputErrors naming the file", async () => {
    const random = seededRandom(20261128);
    let failures = 0;
    for (const [name, bytes] of inputs) {
      for (let attempt = 0; attempt < 40; attempt++) {
        const cut = random() < 0.3 ? Math.floor(random() * bytes.length) : bytes.length;
        const corrupt = bytes.slice(0, cut);
        for (let k = 1 + Math.floor(random() * 8); k > 0; k--) {
          corrupt[Math.floor(random() * corrupt.length)] = Math.floor(random() * 256);
        }
        try {
          if (name.endsWith(".seg.dcm")) readDicomSegOnto(readDicom(corrupt, name), ctStudy.dicom!, name);
          else if (name.endsWith(".dcm")) decodeDicomStudy([{ name, bytes: corrupt }], name);
          else await decodeStudyFile(corrupt, name);
        } catch (error) {
          failures++;
          expect(error, `${name}, attempt ${attempt}: ${String(error)}`).toBeInstanceOf(DaftInputError);
          expect((error as DaftInputError).oneLine().startsWith(`${name}: `)).toBe(true);
        }
      }
    }
    // Most changes break something; the rest still decode (a changed pixel is still a picture).
    expect(failures).toBeGreaterThan(inputs.length * 10);
  });
});
