import { describe, expect, it } from "vitest";
import { PixelIndexList } from "./pixelIndexList.js";

describe("PixelIndexList", () => {
  it("keeps consecutive indices as runs, in the order pushed, whatever the gaps", () => {
    const list = new PixelIndexList();
    for (const p of [3, 4, 5, 9, 10, 2, 40]) list.push(p);
    const runs: [number, number][] = [];
    list.forEachRun((start, end) => runs.push([start, end]));
    expect(runs).toEqual([
      [3, 6],
      [9, 11],
      [2, 3],
      [40, 41],
    ]);
    expect(list.length).toBe(7);
    expect(list.indices()).toEqual([3, 4, 5, 9, 10, 2, 40]);
    expect(list.extent()).toBe(41);
  });

  it("grows past its first allocation and stays empty-safe", () => {
    const empty = new PixelIndexList();
    expect(empty.length).toBe(0);
    expect(empty.extent()).toBe(0);
    expect(empty.indices()).toEqual([]);
    const list = new PixelIndexList();
    const pushed = Array.from({ length: 1000 }, (_, i) => i * 2); // 1000 runs of one
    for (const p of pushed) list.push(p);
    expect(list.indices()).toEqual(pushed);
    expect(list.extent()).toBe(1999);
  });
});
