import { describe, expect, it } from "vitest";
import { DaftInputError } from "../errors.js";
import { decodeRleFrame } from "./rleLossless.js";

/** An RLE frame: the 64-byte header with the segment offsets, then the segments. */
function rleFrame(segments: number[][]): Uint8Array {
  const header = new Uint8Array(64);
  const view = new DataView(header.buffer);
  view.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((s, i) => {
    view.setUint32(4 + 4 * i, offset, true);
    offset += s.length;
  });
  return Uint8Array.from([...header, ...segments.flat()]);
}

describe("decodeRleFrame", () => {
  it("unpacks literal runs, repeats and no-ops; 16-bit samples from their high and low byte segments", () => {
    // Pixels 0x0102, 0x0102, 0x0103, 0x7f04: high bytes = repeat 0x01 ×3, literal 0x7f; low = literal 02 02 03 04.
    const high = [-2 & 0xff, 0x01, 0x80, 0x00, 0x7f]; // -2: the next byte 3 times; -128: nothing
    const low = [0x03, 0x02, 0x02, 0x03, 0x04];
    const out = decodeRleFrame(rleFrame([high, low]), 4, 1, 2, "f");
    expect(Array.from(new Uint16Array(out.buffer))).toEqual([0x0102, 0x0102, 0x0103, 0x7f04]);
  });

  it("interleaves RGB planes into pixels", () => {
    const out = decodeRleFrame(
      rleFrame([
        [0x01, 10, 11],
        [-1 & 0xff, 20],
        [0x01, 30, 31],
      ]),
      2,
      3,
      1,
      "f",
    );
    expect(Array.from(out)).toEqual([10, 20, 30, 11, 20, 31]);
  });

  it("refuses a wrong segment count and a short segment, naming the file", () => {
    const attempts: [Uint8Array, RegExp][] = [
      [rleFrame([[0x00, 1]]), /RLE frame has 1 segments; 1 sample\(s\) of 2 byte\(s\) need 2/],
      [
        rleFrame([
          [0x00, 1],
          [0x00, 2],
        ]),
        /RLE segment 1 decodes to 1 bytes, 2 expected/,
      ],
      [new Uint8Array(10), /no 64-byte header/],
    ];
    for (const [frame, message] of attempts) {
      const attempt = () => decodeRleFrame(frame, 2, 1, 2, "ct.dcm");
      expect(attempt).toThrow(DaftInputError);
      expect(attempt).toThrow(message);
    }
  });
});
