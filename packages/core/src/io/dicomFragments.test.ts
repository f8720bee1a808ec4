import { describe, expect, it } from "vitest";
import { encapsulatedFrames } from "./dicomFragments.js";

/** Encapsulated pixel data: items (Basic Offset Table first) and the sequence delimiter, little endian. */
function encapsulated(items: number[][]): Uint8Array {
  const parts: number[] = [];
  for (const item of items) {
    const length = item.length;
    parts.push(0xfe, 0xff, 0x00, 0xe0, length & 255, (length >> 8) & 255, 0, 0, ...item);
  }
  parts.push(0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0);
  return Uint8Array.from(parts);
}

const frames = (bytes: Uint8Array, n: number) =>
  encapsulatedFrames(bytes, 0, bytes.length, n, "x").map((f) => Array.from(f));

describe("encapsulatedFrames", () => {
  it("joins every fragment of a single frame", () => {
    expect(frames(encapsulated([[], [1, 2], [3, 4]]), 1)).toEqual([[1, 2, 3, 4]]);
  });

  it("splits frames by the Basic Offset Table, or one fragment each when the counts agree", () => {
    // Fragments of 2, 2 and 2 bytes (10 bytes with their item headers): frame 2 starts at the third fragment.
    const table = [0, 0, 0, 0, 20, 0, 0, 0];
    expect(frames(encapsulated([table, [1, 2], [3, 4], [5, 6]]), 2)).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
    expect(frames(encapsulated([[], [1], [2]]), 2)).toEqual([[1], [2]]);
    expect(() => frames(encapsulated([[], [1], [2], [3]]), 2)).toThrow(/cannot tell the frames apart/);
    expect(() => frames(encapsulated([[]]), 1)).toThrow(/holds no fragment/);
  });
});
