import { describe, expect, it } from "vitest";
import { MODEL_INPUT_SIZE } from "./oracleModels.js";
import { runOnnx } from "./runOnnx.js";
import { seededRandom, syntheticDecoder, syntheticEncoder } from "./syntheticModels.js";

const S = MODEL_INPUT_SIZE;

function randomImage(seed: number) {
  const random = seededRandom(seed);
  return { data: Float32Array.from({ length: 3 * S * S }, () => random()), dims: [1, 3, S, S] };
}

describe("seededRandom", () => {
  it("repeats for a seed, differs between seeds, stays in [0, 1)", () => {
    const a = seededRandom(5);
    const b = seededRandom(5);
    const c = seededRandom(6);
    const sa = Array.from({ length: 1000 }, a);
    expect(Array.from({ length: 1000 }, b)).toEqual(sa);
    expect(Array.from({ length: 1000 }, c)).not.toEqual(sa);
    expect(sa.every((v) => v >= 0 && v < 1)).toBe(true);
    const mean = sa.reduce((s, v) => s + v, 0) / sa.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe("syntheticEncoder", () => {
  it("reaches about the requested GMAC", () => {
    for (const gmac of [0.3, 1.5, 4]) {
      expect(Math.abs(syntheticEncoder({ gmac }).gmac - gmac)).toBeLessThan(0.04);
    }
  });

  it("is deterministic per seed", () => {
    expect(syntheticEncoder({ gmac: 0.3 }).bytes).toEqual(syntheticEncoder({ gmac: 0.3 }).bytes);
    expect(syntheticEncoder({ gmac: 0.3, seed: 9 }).bytes).not.toEqual(syntheticEncoder({ gmac: 0.3 }).bytes);
  });

  it("maps the image to a finite, non-constant [1, C, 64, 64] embedding", async () => {
    const encoder = syntheticEncoder({ gmac: 0.7, channels: 64 });
    expect(encoder.embeddingShape).toEqual([64, 64, 64]);
    const out = await runOnnx(encoder.bytes, { image: randomImage(1) });
    expect(out.embedding!.dims).toEqual([1, 64, 64, 64]);
    const values = out.embedding!.data;
    expect(values.every(Number.isFinite)).toBe(true);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
    expect(variance).toBeGreaterThan(1e-4);
  });
});

describe("syntheticDecoder", () => {
  const encoder = syntheticEncoder({ gmac: 0.3 });
  const decoder = syntheticDecoder({ embeddingShape: encoder.embeddingShape });

  it("reports its per-box cost", () => {
    // 3×3 conv 32→32 at 64×64 dominates: 9 · 32 · 32 · 4096 ≈ 0.038 GMAC.
    expect(decoder.gmacPerBox).toBeGreaterThan(0.037);
    expect(decoder.gmacPerBox).toBeLessThan(0.04);
  });

  for (const count of [1, 100]) {
    it(`gives each of ${count} boxes exactly its box as mask, with an IoU in (0, 1)`, async () => {
      const embedding = (await runOnnx(encoder.bytes, { image: randomImage(2) })).embedding!;
      const random = seededRandom(count);
      const boxes = Array.from({ length: count }, (_, n) => {
        if (n === 0) return [0, 0, 255, 255];
        const x0 = Math.floor(random() * 200);
        const y0 = Math.floor(random() * 200);
        return [x0, y0, x0 + Math.floor(random() * 55), y0 + Math.floor(random() * 55)];
      });
      const out = await runOnnx(decoder.bytes, {
        embedding,
        boxes: { data: Float32Array.from(boxes.flat()), dims: [1, count, 4] },
      });
      expect(out.logits!.dims).toEqual([1, count, S, S]);
      expect(out.iou!.dims).toEqual([1, count]);
      expect([...out.iou!.data].every((v) => v > 0 && v < 1)).toBe(true);
      let wrong = 0;
      boxes.forEach(([x0, y0, x1, y1], n) => {
        for (let y = 0; y < S; y++) {
          for (let x = 0; x < S; x++) {
            const inside = x >= x0! && x <= x1! && y >= y0! && y <= y1!;
            if ((out.logits!.data[(n * S + y) * S + x] as number) > 0 !== inside) wrong++;
          }
        }
      });
      expect(wrong).toBe(0);
    });
  }

  it("rejects an embedding shape that is not [C, h, w]", () => {
    expect(() => syntheticDecoder({ embeddingShape: [64, 64] })).toThrow(/\[C, h, w\]/);
  });
});
