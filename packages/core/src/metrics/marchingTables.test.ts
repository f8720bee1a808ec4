import { describe, expect, it } from "vitest";
import { contourLengthTable, marchingCubesTriangles, surfelAreaTable } from "./marchingTables.js";

const bit3 = (k0: number, k1: number, k2: number) => 1 << (4 * k0 + 2 * k1 + k2);

describe("marching squares contour lengths", () => {
  it("are half-diagonals for corners and full spacings for straight edges", () => {
    const [s0, s1] = [0.5, 2];
    const t = contourLengthTable([s0, s1]);
    const halfDiagonal = 0.5 * Math.hypot(s0, s1);
    expect(t[0]).toBe(0);
    expect(t[15]).toBe(0);
    expect(t[0b0001]).toBeCloseTo(halfDiagonal, 15); // one corner
    expect(t[0b1110]).toBeCloseTo(halfDiagonal, 15); // all but one
    expect(t[0b0011]).toBeCloseTo(s1, 15); // two along axis 1 → contour runs along axis 1
    expect(t[0b0101]).toBeCloseTo(s0, 15); // two along axis 0
    expect(t[0b0110]).toBeCloseTo(2 * halfDiagonal, 15); // saddle: two corners cut off
  });
});

describe("marching cubes surfel areas", () => {
  const s = [3, 1, 2];
  const t = surfelAreaTable(s);

  it("has no surface for empty and full neighbourhoods", () => {
    expect(t[0]).toBe(0);
    expect(t[255]).toBe(0);
  });

  it("cuts a single corner with the triangle through the three edge midpoints", () => {
    // vertices (s0/2,0,0), (0,s1/2,0), (0,0,s2/2): area = ⅛·√(s1²s2² + s0²s2² + s0²s1²)
    const corner = 0.125 * Math.sqrt(1 * 4 + 9 * 4 + 9 * 1);
    expect(t[bit3(0, 0, 0)]).toBeCloseTo(corner, 14);
    expect(t[255 - bit3(1, 1, 1)]).toBeCloseTo(corner, 14);
  });

  it("gives a face-parallel square for one full half of the cube", () => {
    const lowHalfAxis0 = bit3(0, 0, 0) | bit3(0, 0, 1) | bit3(0, 1, 0) | bit3(0, 1, 1);
    expect(t[lowHalfAxis0]).toBeCloseTo(s[1]! * s[2]!, 14);
    const lowHalfAxis2 = bit3(0, 0, 0) | bit3(0, 1, 0) | bit3(1, 0, 0) | bit3(1, 1, 0);
    expect(t[lowHalfAxis2]).toBeCloseTo(s[0]! * s[1]!, 14);
  });

  it("gives an edge quad (edge length × half-diagonal) for two corners along an edge", () => {
    const alongAxis0 = bit3(0, 0, 0) | bit3(1, 0, 0);
    expect(t[alongAxis0]).toBeCloseTo(s[0]! * 0.5 * Math.hypot(s[1]!, s[2]!), 14);
  });

  it("is the same for a configuration and its complement", () => {
    for (let code = 0; code < 256; code++) expect(t[255 - code]).toBeCloseTo(t[code]!, 12);
  });

  it("triangulates every surface code with 1 to 4 triangles per loop", () => {
    const triangles = marchingCubesTriangles();
    for (let code = 1; code < 255; code++) {
      expect(triangles[code]!.length).toBeGreaterThan(0);
      expect(triangles[code]!.length).toBeLessThanOrEqual(12);
    }
  });
});
