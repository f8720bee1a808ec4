import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DaftInputError } from "../errors.js";
import { readDicom } from "./dicom.js";
import { decodeDicomPixels } from "./dicomPixels.js";
import { encapsulatedFrames } from "./dicomFragments.js";
import { decodeJpegExtended } from "./jpegExtended.js";

// The pixel-exact checks of dcmtk's 8- and 12-bit JPEG Extended files are in dicom.test.ts
// (fixtures/formats/compressed); here the codestream itself: baseline frames, restart intervals, sampling factors,
// 16-bit quantisation tables, signed data, and what is refused.
const folder = new URL("../../../../fixtures/formats/compressed/", import.meta.url);
const fileOf = (name: string) =>
  readDicom(new Uint8Array(readFileSync(new URL(`${name}.dcm`, folder))), name);
const frameOf = (name: string) => {
  const file = fileOf(name);
  return encapsulatedFrames(file.bytes, file.pixelData!.offset, file.pixelData!.length, 1)[0]!;
};

/**
 * A hand-made 12-bit sequential DCT stream (SOF1) of one component whose blocks hold only a DC coefficient:
 * `dc` per block in raster order, a 16-bit quantisation table, `restart` MCUs per restart interval (0: none).
 */
function dcOnlyStream(
  width: number,
  height: number,
  dc: number[],
  quant: number,
  restart: number,
  sampling = 0x22,
): Uint8Array {
  const out: number[] = [0xff, 0xd8];
  const segment = (marker: number, body: number[]) =>
    out.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  const table = Array.from({ length: 64 }, (_, k) => (k === 0 ? quant : 1));
  segment(0xdb, [0x10, ...table.flatMap((q) => [q >> 8, q & 0xff])]);
  segment(0xc1, [12, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, sampling, 0]);
  // DC: categories 0–14 as the 4-bit codes 0000–1110; AC: only end-of-block, as the 1-bit code 0.
  segment(0xc4, [
    0x00,
    0,
    0,
    0,
    15,
    ...new Array<number>(12).fill(0),
    ...Array.from({ length: 15 }, (_, i) => i),
  ]);
  segment(0xc4, [0x10, 1, ...new Array<number>(15).fill(0), 0x00]);
  if (restart > 0) segment(0xdd, [restart >> 8, restart & 0xff]);
  segment(0xda, [1, 1, 0x00, 0, 63, 0]);
  let acc = 0;
  let count = 0;
  const put = (value: number, bits: number) => {
    for (let b = bits - 1; b >= 0; b--) {
      acc = (acc << 1) | ((value >> b) & 1);
      if (++count === 8) {
        out.push(acc);
        if (acc === 0xff) out.push(0x00);
        acc = 0;
        count = 0;
      }
    }
  };
  const flush = () => {
    while (count !== 0) put(1, 1);
  };
  let predicted = 0;
  dc.forEach((value, block) => {
    if (restart > 0 && block > 0 && block % restart === 0) {
      flush();
      out.push(0xff, 0xd0 + ((block / restart - 1) % 8));
      predicted = 0;
    }
    const diff = value - predicted;
    predicted = value;
    const size = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
    put(size, 4);
    put(diff >= 0 ? diff : diff + (1 << size) - 1, size);
    put(0, 1); // end of block
  });
  flush();
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}

describe("decodeJpegExtended", () => {
  it("decodes dcmtk's 8-bit baseline (SOF0) frame bit for bit as dcmtk does", () => {
    const image = decodeJpegExtended(frameOf("us_grey_jpeg_baseline"), "x");
    expect(image).toMatchObject({ width: 64, height: 48, components: 1, precision: 8 });
    const want = decodeDicomPixels(fileOf("us_grey_jpeg_baseline_dcmtk_decoded"));
    expect(Float32Array.from(image.data)).toEqual(want.values);
  });

  it("reads restart intervals, 16-bit quantisation tables and 2×2 sampling of one component, and clamps", () => {
    // 20×12 samples: 3×2 blocks; the last block's DC (60 × 300 / 8 + 2048) is past 4095.
    const dc = [-50, 0, 13, 27, -6, 60];
    const quant = 300;
    const want = new Uint16Array(20 * 12);
    for (let y = 0; y < 12; y++) {
      for (let x = 0; x < 20; x++) {
        const value = Math.floor((dc[Math.floor(y / 8) * 3 + Math.floor(x / 8)]! * quant + 4) / 8) + 2048;
        want[y * 20 + x] = Math.min(4095, Math.max(0, value));
      }
    }
    for (const restart of [0, 1, 2, 4]) {
      const image = decodeJpegExtended(dcOnlyStream(20, 12, dc, quant, restart), "x");
      expect(image, `restart ${restart}`).toEqual({
        width: 20,
        height: 12,
        components: 1,
        precision: 12,
        data: want,
      });
    }
    const noRestarts = dcOnlyStream(20, 12, dc, quant, 2);
    const rst = noRestarts.findIndex((b, i) => b === 0xff && noRestarts[i + 1] === 0xd0);
    const withoutRst = new Uint8Array([...noRestarts.subarray(0, rst), ...noRestarts.subarray(rst + 2)]);
    expect(() => decodeJpegExtended(withoutRst, "r.dcm")).toThrow(
      /^JPEG: expected a restart marker at byte \d+$/,
    );
  });

  it("gives the stored bits; Pixel Representation 1 sign-extends them (PS3.5 8.2.1)", () => {
    const file = fileOf("ct_jpeg_extended");
    const unsigned = decodeDicomPixels(file).values;
    const signed = decodeDicomPixels({ ...file, tags: { ...file.tags, pixelRepresentation: 1 } }).values;
    const intercept = file.tags.rescaleIntercept!;
    expect(intercept).toBe(-1024);
    expect(unsigned.some((v) => v - intercept >= 2048)).toBe(true);
    expect(signed).toEqual(unsigned.map((v) => (v - intercept >= 2048 ? v - 4096 : v)));
  });

  it("refuses other JPEG processes, bad headers and broken scans in one line naming the source", () => {
    const good = dcOnlyStream(16, 8, [1, 2], 8, 0);
    const sof = good.findIndex((b, i) => b === 0xff && good[i + 1] === 0xc1);
    const sos = good.findIndex((b, i) => b === 0xff && good[i + 1] === 0xda);
    const withByte = (at: number, value: number) => {
      const copy = good.slice();
      copy[at] = value;
      return copy;
    };
    const attempts: [Uint8Array, string][] = [
      [
        withByte(sof + 1, 0xc2),
        "JPEG: progressive DCT (SOF2) frame: only sequential Huffman DCT JPEG (SOF0, SOF1) is read here",
      ],
      [
        withByte(sof + 1, 0xc9),
        "JPEG: arithmetic-coded sequential DCT (SOF9) frame: only sequential Huffman DCT JPEG (SOF0, SOF1) is read here",
      ],
      [withByte(sof + 4, 16), "JPEG: sample precision 16 (8 or 12 bits)"],
      [withByte(sof + 12, 2), "JPEG: no quantisation table 2"],
      [withByte(sos + 6, 0x11), "JPEG: no DC Huffman table 1"],
      [withByte(sos + 8, 1), "JPEG: scan of spectral selection 0–1, approximation 0/0: not sequential"],
      [good.subarray(0, sos), "JPEG: no frame header and scan"],
      [good.subarray(0, sos + 11), "JPEG: corrupt Huffman code in the scan"],
    ];
    for (const [bytes, message] of attempts) {
      const attempt = () => decodeJpegExtended(bytes, "e.dcm");
      expect(attempt).toThrow(DaftInputError);
      expect(attempt).toThrow(message);
    }
  });
});
