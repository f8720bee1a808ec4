import { describe, expect, it } from "vitest";
import type { Box2D } from "../image/types.js";
import { OracleExpert } from "../testing/oracleExperts.js";
import { segmentImage } from "./segmentImage.js";
import { SliceEmbeddingCache } from "./sliceEmbeddingCache.js";
import { planRegions, type SmallObjectZoom } from "./smallObjectZoom.js";
import { emptyTimings } from "./timings.js";

const zoom: SmallObjectZoom = { belowFramePx: 32, contextFactor: 5, minTilePx: 32 };

describe("planRegions", () => {
  it("keeps large boxes on the whole image and every box entirely inside its tile", () => {
    const boxes: Box2D[] = [
      [0, 0, 400, 300], // large → whole image
      [100, 100, 109, 109], // 10 px → tile of 64
      [103, 104, 112, 113], // neighbour: same tile
      [500, 1000, 519, 1019], // 20 px → tile of 128, at the bottom edge
      [1010, 0, 1023, 7],
    ];
    const plans = planRegions(boxes, 1024, 1024, 256, zoom);
    expect(plans[0]!.region).toEqual({ key: 0, x0: 0, y0: 0, width: 1024, height: 1024 });
    expect(plans[0]!.boxes).toEqual([0]);
    const tileOf = (i: number) => plans.find((p) => p.boxes.includes(i))!.region;
    expect(tileOf(1)).toBe(tileOf(2));
    expect(tileOf(1).width).toBe(64);
    expect(tileOf(3).width).toBe(128);
    for (let i = 1; i < boxes.length; i++) {
      const r = tileOf(i);
      const b = boxes[i]!;
      expect(r.x0 <= b[0] && r.y0 <= b[1] && r.x0 + r.width > b[2] && r.y0 + r.height > b[3]).toBe(true);
      expect(r.x0 % (r.width / 2) === 0 || r.x0 === 1024 - r.width).toBe(true);
    }
  });
  it("without zoom, or for small images, everything is the whole image", () => {
    const boxes: Box2D[] = [[10, 10, 15, 15]];
    expect(planRegions(boxes, 1024, 1024, 256, undefined)).toHaveLength(1);
    expect(planRegions(boxes, 40, 30, 256, zoom)[0]!.region.key).toBe(0);
  });
});

describe("segmentImage with small-object zoom", () => {
  it("segments small boxes on shared tiles and still gives back exactly the boxes", async () => {
    const H = 512;
    const W = 512;
    // 10-px boxes → 64-px tiles (scale 4 in the tile frame): the oracle's max-corner margin is 4 − ½.
    const expert = new OracleExpert("box", 256, 0.5, 3.5);
    const boxes: Box2D[] = [];
    for (let i = 0; i < 12; i++)
      boxes.push([20 + i * 37, 30 + ((i * 53) % 400), 29 + i * 37, 39 + ((i * 53) % 400)]);
    const labels = new Uint16Array(H * W);
    const image = { data: new Uint8Array(H * W).fill(9), height: H, width: W, channels: 1 as const };
    const cache = new SliceEmbeddingCache();
    const r = await segmentImage(
      image,
      boxes.map((box, i) => ({ box, label: i + 1 })),
      expert,
      labels,
      { cache, timings: emptyTimings(), now: () => 0, maxBoxesPerDecode: 64, zoom },
    );
    const expected = new Uint16Array(H * W);
    boxes.forEach(([x0, y0, x1, y1], i) => {
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) expected[y * W + x] = i + 1;
    });
    let wrong = 0;
    for (let i = 0; i < labels.length; i++) if (labels[i] !== expected[i]) wrong++;
    expect(wrong).toBe(0);
    expect(expert.encodeCalls).toBe(r.regions);
    expect(r.regions).toBeLessThanOrEqual(boxes.length);
  });
});
