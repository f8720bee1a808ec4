import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DaftInputError } from "../errors.js";
import { encapsulatedFrames } from "./dicomFragments.js";
import { readDicom } from "./dicom.js";
import { decodeJpegLs } from "./jpegLs.js";

// The pixel-exact checks against dcmtk's encoder are in dicom.test.ts (fixtures/formats/compressed); here the
// codestream itself and what is refused.
const folder = new URL("../../../../fixtures/formats/compressed/", import.meta.url);
const frameOf = (name: string) => {
  const file = readDicom(new Uint8Array(readFileSync(new URL(name, folder))), name);
  return encapsulatedFrames(file.bytes, file.pixelData!.offset, file.pixelData!.length, 1)[0]!;
};
const stream = frameOf("us_grey_jpeg_ls.dcm");

describe("decodeJpegLs", () => {
  it("reads the frame header of dcmtk's stream: 64×48, 8 bits", () => {
    expect(decodeJpegLs(stream, "x")).toMatchObject({ width: 64, height: 48, precision: 8 });
  });

  it("reads dcmtk's colour streams in each interleave mode as 64×48×3", () => {
    for (const ilv of [0, 1, 2]) {
      expect(decodeJpegLs(frameOf(`us_rgb_jpeg_ls_ilv${ilv}.dcm`), "x")).toMatchObject({
        width: 64,
        height: 48,
        components: 3,
        precision: 8,
      });
    }
  });

  it("refuses subsampling, mapping tables, HP colour transforms, other JPEG processes and a cut stream by name", () => {
    const colour = frameOf("us_rgb_jpeg_ls_ilv2.dcm");
    const sof = colour.findIndex((b, i) => b === 0xff && colour[i + 1] === 0xf7);
    const sos = colour.findIndex((b, i) => b === 0xff && colour[i + 1] === 0xda);
    const subsampled = colour.slice();
    subsampled[sof + 14] = 0x21; // the second component's sampling factors
    const mapped = colour.slice();
    mapped[sos + 8] = 1; // the second component's mapping table selector
    // An APP8 "mrfx" segment asking for HP colour transform 1, after SOI.
    const mrfx = Uint8Array.of(0xff, 0xe8, 0, 7, 0x6d, 0x72, 0x66, 0x78, 1);
    const transformed = new Uint8Array([...colour.subarray(0, 2), ...mrfx, ...colour.subarray(2)]);
    const noTransform = new Uint8Array([
      ...colour.subarray(0, 2),
      ...mrfx.subarray(0, 8),
      0,
      ...colour.subarray(2),
    ]);
    expect(decodeJpegLs(noTransform).data).toEqual(decodeJpegLs(colour).data);
    const lossless = Uint8Array.of(0xff, 0xd8, 0xff, 0xc3, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0, 0xff, 0xd9);
    const attempts: [Uint8Array, RegExp][] = [
      [subsampled, /^JPEG-LS: component 2 is subsampled \(2×1\)$/],
      [mapped, /^JPEG-LS: component 2 uses mapping table 1 \(not supported\)$/],
      [transformed, /^JPEG-LS: HP colour transform 1 \(APP8 "mrfx"\) is not supported$/],
      [lossless, /^JPEG-LS: SOF3 frame: not JPEG-LS \(SOF55\)$/],
      [stream.subarray(0, 200), /^JPEG-LS: truncated scan data$/],
      [colour.subarray(0, sos), /^JPEG-LS: no scan for component 1, 2, 3$/],
    ];
    for (const [bytes, message] of attempts) {
      const attempt = () => decodeJpegLs(bytes, "ls.dcm");
      expect(attempt).toThrow(DaftInputError);
      expect(attempt).toThrow(message);
    }
  });
});
