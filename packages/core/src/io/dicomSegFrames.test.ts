import { describe, expect, it } from "vitest";
import { largestLabel, packBinaryFrames, segmentationFrames } from "./dicomSegFrames.js";

// Three slices of 3 × 3 = 9 pixels: a frame is 9 bits, so frames do not start on byte boundaries.
const labels = Uint16Array.from([
  // slice 0: label 1 at pixels 0, 2, 8
  1, 0, 1, 0, 0, 0, 0, 0, 1,
  // slice 1: nothing
  0, 0, 0, 0, 0, 0, 0, 0, 0,
  // slice 2: label 1 at pixels 0, 1; label 3 at pixel 4
  1, 1, 0, 0, 3, 0, 0, 0, 0,
]);
const slices = { labels, plane: 9, slices: 3 };

describe("segmentationFrames", () => {
  it("lists (segment, slice) pairs with a voxel, segment by segment, slices ascending", () => {
    expect(segmentationFrames(slices, 3)).toEqual([
      { segment: 1, slice: 0 },
      { segment: 1, slice: 2 },
      { segment: 3, slice: 2 },
    ]);
  });

  it("a label map without voxels has no frames", () => {
    expect(segmentationFrames({ ...slices, labels: new Uint16Array(27) }, 0)).toEqual([]);
  });

  it("largestLabel", () => {
    expect(largestLabel(labels)).toBe(3);
    expect(largestLabel(new Uint16Array(4))).toBe(0);
  });
});

describe("packBinaryFrames", () => {
  it("packs bits LSB first, frame after frame without padding, then pads the whole to an even length", () => {
    const packed = packBinaryFrames(slices, segmentationFrames(slices, 3));
    // Frame 0 (segment 1, slice 0): bits 0, 2, 8. Frame 1 (segment 1, slice 2): bits 9 + 0, 9 + 1.
    // Frame 2 (segment 3, slice 2): bit 18 + 4 = 22. 27 bits → 4 bytes (already even).
    expect(Array.from(packed)).toEqual([0b00000101, 0b00000111, 0b01000000, 0b00000000]);
  });

  it("a frame holds only its own segment's pixels", () => {
    const packed = packBinaryFrames(slices, [{ segment: 3, slice: 2 }]);
    expect(Array.from(packed)).toEqual([0b00010000, 0b00000000]);
  });

  it("pads an odd byte count with a zero byte", () => {
    const one = { labels: Uint16Array.from([1, 1, 1, 1, 1]), plane: 5, slices: 1 };
    expect(Array.from(packBinaryFrames(one, [{ segment: 1, slice: 0 }]))).toEqual([0b00011111, 0]);
  });

  it("matches a plain bit-by-bit reference on a larger odd-sized map", () => {
    const plane = 7 * 11;
    const depth = 5;
    const big = Uint16Array.from({ length: plane * depth }, (_, i) =>
      (i * 7919) % 13 === 0 ? (i % 3) + 1 : 0,
    );
    const map = { labels: big, plane, slices: depth };
    const frames = segmentationFrames(map, 3);
    const packed = packBinaryFrames(map, frames);
    const bits: number[] = frames.flatMap(({ segment, slice }) =>
      Array.from(big.subarray(slice * plane, (slice + 1) * plane), (v) => (v === segment ? 1 : 0)),
    );
    const unpacked = Array.from({ length: bits.length }, (_, i) => (packed[i >> 3]! >> (i & 7)) & 1);
    expect(unpacked).toEqual(bits);
    expect(packed.length % 2).toBe(0);
    expect(packed.length).toBe(Math.ceil(bits.length / 8) + (Math.ceil(bits.length / 8) % 2));
  });
});
