import { labelColour } from "@daft/core";
import { describe, expect, it } from "vitest";
import { PEN_BYTE } from "./labelLayer.js";
import { cssColour, displayColour, drawColormap } from "./palette.js";

describe("label colours", () => {
  it("colours a box by its view byte, so list, outline and mask agree beyond 254 boxes", () => {
    expect(displayColour(300)).toEqual(labelColour(46));
    expect(cssColour(255)).toBe(cssColour(1));
    expect(cssColour(2)).not.toBe(cssColour(1));
  });

  it("gives niivue 256 entries: 0 transparent, the brush's byte in the painted box's colour", () => {
    const map = drawColormap(300);
    expect(map.R).toHaveLength(256);
    expect(map.A[0]).toBe(0);
    const entry = (byte: number) => [map.R[byte], map.G[byte], map.B[byte], map.A[byte]];
    expect(entry(PEN_BYTE)).toEqual([...labelColour(46), 255]);
    expect(entry(7)).toEqual([...labelColour(7), 255]);
  });
});
