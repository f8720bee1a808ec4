import { describe, expect, it } from "vitest";
import type { Box2D } from "../image/types.js";
import { OracleExpert } from "../testing/oracleExperts.js";
import { segmentImage } from "./segmentImage.js";
import { SliceEmbeddingCache } from "./sliceEmbeddingCache.js";
import { emptyTimings } from "./timings.js";

const opts = (maxBoxesPerDecode = 64, enabled = true) => ({
  cache: new SliceEmbeddingCache({ maxBytes: 1 << 30, enabled }),
  timings: emptyTimings(),
  now: () => 0,
  maxBoxesPerDecode,
});

function boxMask(H: number, W: number, boxes: Box2D[]): Uint16Array {
  const m = new Uint16Array(H * W);
  boxes.forEach(([x0, y0, x1, y1], i) => {
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) m[y * W + x] = i + 1;
  });
  return m;
}

function firstMismatch(a: Uint16Array, b: Uint16Array, W: number): string | null {
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i]) return `x=${i % W} y=${Math.floor(i / W)}: got ${a[i]}, expected ${b[i]}`;
  return null;
}

describe("segmentImage with the box oracle", () => {
  for (const [H, W] of [
    [512, 512],
    [384, 512],
    [64, 128],
    [256, 256],
  ] as const) {
    it(`gives back exactly the boxes at the original resolution (${H}×${W})`, async () => {
      const s = 256 / Math.max(H, W);
      const expert = new OracleExpert("box", 256, 0.5, s - 0.5);
      // When shrinking (s < 1) a frame pixel covers 1/s original pixels, so box edges are put on that grid
      // (x0 multiple of 1/s, x1 + 1 multiple of 1/s); when enlarging, any box is exact.
      const g = s < 1 ? Math.round(1 / s) : 1;
      const lo = (v: number) => Math.floor(v / g) * g;
      const hi = (v: number) => Math.floor(v / g) * g + g - 1;
      const boxes: Box2D[] = [
        [0, 0, hi(W / 4), hi(H / 3)],
        [lo(W / 2), lo(H / 2), W - 1, H - 1],
        [lo(W / 8) + g, lo(H / 4) + g, hi(W / 2 + 8), hi(H / 2 + 8)], // overlaps both; drawn last wins
      ];
      const labels = new Uint16Array(H * W);
      const image = {
        data: new Uint8Array(H * W).map((_, i) => i % 251),
        height: H,
        width: W,
        channels: 1 as const,
      };
      await segmentImage(
        image,
        boxes.map((box, i) => ({ box, label: i + 1 })),
        expert,
        labels,
        opts(),
      );
      expect(firstMismatch(labels, boxMask(H, W, boxes), W)).toBe(null);
      expect(expert.encodeCalls).toBe(1);
      expect(expert.decodeCalls).toBe(1);
    });
  }

  it("encodes once and decodes hundreds of boxes in chunks", async () => {
    const expert = new OracleExpert("box", 256, 0.5, 0.5);
    const boxes = Array.from({ length: 300 }, (_, i) => ({
      box: [i % 200, (i * 7) % 200, (i % 200) + 20, ((i * 7) % 200) + 20] as Box2D,
      label: i + 1,
    }));
    const labels = new Uint16Array(256 * 256);
    const progress: string[] = [];
    await segmentImage(
      { data: new Uint8Array(256 * 256), height: 256, width: 256, channels: 1 },
      boxes,
      expert,
      labels,
      { ...opts(64), onProgress: (done, total) => progress.push(`${done}/${total}`) },
    );
    expect(expert.encodeCalls).toBe(1);
    expect(expert.decodedBoxes).toEqual([64, 64, 64, 64, 44]);
    expect(progress).toEqual(["1/5", "2/5", "3/5", "4/5", "5/5"]); // each chunk once painted
    expect(labels[((299 * 7) % 200) * 256 + (299 % 200) + 5]).toBe(300);
  });

  it("with clipToBox, a mask that leaks past its box is painted only inside it", async () => {
    const H = 64;
    const W = 64;
    // r = 8: the oracle's mask runs 8 frame pixels (2 image pixels at s = 4) past each box's max corner.
    const expert = new OracleExpert("box", 256, 0.5, 8);
    const boxes: Box2D[] = [
      [4, 4, 19, 19],
      [30, 8, 49, 27],
    ];
    const run = async (clipToBox: boolean) => {
      const labels = new Uint16Array(H * W);
      const image = { data: new Uint8Array(H * W), height: H, width: W, channels: 1 as const };
      await segmentImage(
        image,
        boxes.map((box, i) => ({ box, label: i + 1 })),
        expert,
        labels,
        {
          ...opts(),
          clipToBox,
        },
      );
      return labels;
    };
    const leaking = await run(false);
    expect(firstMismatch(leaking, boxMask(H, W, boxes), W)).not.toBe(null);
    expect(leaking[20 * W + 20]).toBe(1); // past box 1's max corner
    expect(firstMismatch(await run(true), boxMask(H, W, boxes), W)).toBe(null);
  });
});
