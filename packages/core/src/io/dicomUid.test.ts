import { describe, expect, it } from "vitest";
import { newDicomUid } from "./dicomUid.js";

describe("newDicomUid", () => {
  it('is "2.25." + a decimal integer with no leading zero, at most 64 characters', () => {
    for (let i = 0; i < 20; i++) {
      const uid = newDicomUid();
      expect(uid).toMatch(/^2\.25\.(0|[1-9][0-9]*)$/);
      expect(uid.length).toBeLessThanOrEqual(44);
    }
    expect(newDicomUid()).not.toBe(newDicomUid());
  });

  it("reads the 16 random bytes as one big-endian integer with the UUID version 4 and variant bits set", () => {
    const uid = newDicomUid((bytes) => bytes.fill(0));
    expect(uid).toBe(`2.25.${(0x40n << 72n) | (0x80n << 56n)}`);
    const all = newDicomUid((bytes) => bytes.fill(0xff));
    expect(all).toBe(`2.25.${(1n << 128n) - 1n - (0xb0n << 72n) - (0x40n << 56n)}`);
  });
});
