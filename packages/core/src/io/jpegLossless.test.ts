import { describe, expect, it } from "vitest";
import { DaftInputError } from "../errors.js";
import { decodeJpegLossless } from "./jpegLossless.js";

/**
 * A minimal lossless JPEG encoder (T.81 Annex H), written here only to make streams dcmtk does not: restart
 * intervals and arbitrary precision. One Huffman table giving every difference category 0–16 a 5-bit code,
 * one component, predictor 1 within a line, a restart marker after every `linesPerRestart` lines.
 */
function encodeLossless(
  values: number[],
  width: number,
  height: number,
  precision: number,
  linesPerRestart: number,
): Uint8Array {
  const out: number[] = [0xff, 0xd8];
  const segment = (marker: number, body: number[]) =>
    out.push(0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body);
  segment(0xc3, [precision, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0]);
  const counts = new Array(16).fill(0);
  counts[4] = 17; // 17 codes of length 5: category k ↔ code k
  segment(0xc4, [0x00, ...counts, ...Array.from({ length: 17 }, (_, k) => k)]);
  segment(0xdd, [(linesPerRestart * width) >> 8, (linesPerRestart * width) & 255]);
  segment(0xda, [1, 1, 0x00, 1, 0, 0]);
  let acc = 0;
  let bits = 0;
  const put = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i--) {
      acc = (acc << 1) | ((value >> i) & 1);
      if (++bits === 8) {
        out.push(acc);
        if (acc === 0xff) out.push(0x00);
        acc = 0;
        bits = 0;
      }
    }
  };
  const flush = () => {
    if (bits > 0) put(0xff, 8 - bits);
  };
  const initial = 1 << (precision - 1);
  for (let y = 0; y < height; y++) {
    if (y > 0 && y % linesPerRestart === 0) {
      flush();
      out.push(0xff, 0xd0 + ((y / linesPerRestart - 1) % 8));
    }
    for (let x = 0; x < width; x++) {
      const restartLine = y % linesPerRestart === 0;
      const prediction = restartLine
        ? x === 0
          ? initial
          : values[y * width + x - 1]!
        : x === 0
          ? values[(y - 1) * width]!
          : values[y * width + x - 1]!;
      let diff = (values[y * width + x]! - prediction) & 0xffff;
      if (diff > 32768) diff -= 65536;
      if (diff === 32768) {
        put(16, 5);
        continue;
      }
      const category = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
      put(category, 5);
      if (category > 0) put(diff > 0 ? diff : diff - 1 + (1 << category), category);
    }
  }
  flush();
  out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}

describe("decodeJpegLossless", () => {
  it("decodes streams with restart markers every line or every two lines, at 12 and 16 bits", () => {
    for (const [precision, linesPerRestart] of [
      [12, 1],
      [16, 2],
      [16, 3],
    ] as const) {
      const width = 7;
      const height = 6;
      const values = Array.from(
        { length: width * height },
        (_, i) => (i * 977 + (i % 5) * 4001) % (1 << precision),
      );
      values[3] = (1 << precision) - 1; // a 0xFF byte or a category-16 jump somewhere
      const image = decodeJpegLossless(
        encodeLossless(values, width, height, precision, linesPerRestart),
        "x",
      );
      expect(image).toMatchObject({ width, height, components: 1, precision });
      expect(Array.from(image.data)).toEqual(values);
    }
  });

  it("refuses other JPEG processes and broken streams in one line naming the source", () => {
    const sof1 = Uint8Array.of(0xff, 0xd8, 0xff, 0xc1, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0, 0xff, 0xd9);
    const attempts: [Uint8Array, RegExp][] = [
      [sof1, /SOF1 frame: only lossless Huffman JPEG \(SOF3\) is read/],
      [Uint8Array.of(1, 2, 3), /no SOI marker/],
      [encodeLossless([1, 2, 3, 4], 2, 2, 8, 1).subarray(0, 30), /lossless JPEG: /],
    ];
    for (const [bytes, message] of attempts) {
      const attempt = () => decodeJpegLossless(bytes, "img.dcm");
      expect(attempt).toThrow(DaftInputError);
      expect(attempt).toThrow(message);
    }
  });
});
