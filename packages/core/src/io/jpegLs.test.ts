import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DaftInputError } from "../errors.js";
import { encapsulatedFrames } from "./dicomFragments.js";
import { readDicom } from "./dicom.js";
import { decodeJpegLs } from "./jpegLs.js";

// The pixel-exact checks against dcmtk's encoder are in dicom.test.ts (fixtures/formats/compressed); here the
// codestream itself and what is refused.
const fixture = new URL("../../../../fixtures/formats/compressed/us_grey_jpeg_ls.dcm", import.meta.url);
const stream = (() => {
  const file = readDicom(new Uint8Array(readFileSync(fixture)), "us_grey_jpeg_ls.dcm");
  return encapsulatedFrames(file.bytes, file.pixelData!.offset, file.pixelData!.length, 1)[0]!;
})();

describe("decodeJpegLs", () => {
  it("reads the frame header of dcmtk's stream: 64×48, 8 bits", () => {
    expect(decodeJpegLs(stream, "x")).toMatchObject({ width: 64, height: 48, precision: 8 });
  });

  it("refuses colour, other JPEG processes and a cut stream in one line naming the source", () => {
    const colour = stream.slice();
    const sof = colour.findIndex((b, i) => b === 0xff && colour[i + 1] === 0xf7);
    colour[sof + 9] = 3; // Nf
    const lossless = Uint8Array.of(0xff, 0xd8, 0xff, 0xc3, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0, 0xff, 0xd9);
    const attempts: [Uint8Array, RegExp][] = [
      [colour, /JPEG-LS: 3 components: only greyscale JPEG-LS is read/],
      [lossless, /JPEG-LS: SOF3 frame: not JPEG-LS \(SOF55\)/],
      [stream.subarray(0, 200), /JPEG-LS: truncated scan data/],
    ];
    for (const [bytes, message] of attempts) {
      const attempt = () => decodeJpegLs(bytes, "ls.dcm");
      expect(attempt).toThrow(DaftInputError);
      expect(attempt).toThrow(message);
    }
  });
});
