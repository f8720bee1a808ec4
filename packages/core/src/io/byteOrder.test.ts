import { describe, expect, it } from "vitest";
import { headerNumber, littleEndianBytes, swapWordsInPlace, toPlatformOrder } from "./byteOrder.js";

describe("byte order helpers", () => {
  it("swaps words in place and reads big-endian words into the platform's order", () => {
    const bytes = Uint8Array.of(1, 2, 3, 4, 5, 6);
    swapWordsInPlace(bytes, 2);
    expect(Array.from(bytes)).toEqual([2, 1, 4, 3, 6, 5]);
    const big = Uint8Array.of(0x01, 0x02);
    toPlatformOrder(big, 2, false);
    expect(new Uint16Array(big.buffer)[0]).toBe(0x0102);
  });

  it("gives a typed array's bytes little-endian and prints numbers exactly", () => {
    expect(Array.from(littleEndianBytes(Uint16Array.of(0x0102)))).toEqual([0x02, 0x01]);
    expect(headerNumber(0.1 + 0.2, "w")).toBe("0.30000000000000004");
    expect(headerNumber(-0, "w")).toBe("0");
    expect(() => headerNumber(NaN, "writeNrrd")).toThrow("writeNrrd: NaN is not a finite number");
  });
});
