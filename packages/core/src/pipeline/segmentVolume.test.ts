import { describe, expect, it } from "vitest";
import type { Box3D, Volume } from "../image/types.js";
import { OracleExpert } from "../testing/oracleExperts.js";
import { maskBoxToFrame, modelFrame } from "./preprocess.js";
import { SliceEmbeddingCache } from "./sliceEmbeddingCache.js";
import { segmentVolume, type PromptTrace } from "./segmentVolume.js";
import { emptyTimings } from "./timings.js";

/** A bright ball (255) of radius r at (cz, cy, cx) in a dark volume. */
function ball(D: number, H: number, W: number, c: [number, number, number], r: number): Volume {
  const data = new Uint8Array(D * H * W);
  for (let z = 0; z < D; z++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        if ((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 <= r * r) data[(z * H + y) * W + x] = 255;
  return { data, depth: D, height: H, width: W, spacing: [1, 1, 1] };
}

const run = async (vol: Volume, boxes: Box3D[], enabled = true, trace?: PromptTrace[]) => {
  const s = 256 / Math.max(vol.height, vol.width);
  const expert = new OracleExpert("intensity", 256, 0.5, s - 0.5);
  const labels = new Uint16Array(vol.depth * vol.height * vol.width);
  const cache = new SliceEmbeddingCache({ maxBytes: 1 << 30, enabled });
  const opts = { cache, timings: emptyTimings(), now: () => 0, maxBoxesPerDecode: 64, trace };
  const labelled = boxes.map((box, i) => ({ box, label: i + 1 }));
  if (enabled) await segmentVolume(vol, labelled, expert, labels, opts);
  else
    for (const b of labelled)
      await segmentVolume(vol, [b], expert, labels, {
        ...opts,
        cache: new SliceEmbeddingCache({ maxBytes: 1, enabled: false }),
      });
  return { labels, expert, cache };
};

describe("segmentVolume (3D propagation)", () => {
  const D = 15;
  const H = 64;
  const W = 64;
  const vol = ball(D, H, W, [7, 30, 34], 6);

  it("follows the ball from the middle slice up and down: the mask is the ball within the box's z range", async () => {
    // xy box only around the middle cross-section; z range 3..12 (inclusive) cuts the ball (z 1..13).
    const box: Box3D = [28, 24, 3, 40, 36, 12];
    const { labels } = await run(vol, [box]);
    for (let z = 0; z < D; z++)
      for (let i = 0; i < H * W; i++) {
        const inBall = vol.data[z * H * W + i]! > 0;
        const expected = inBall && z >= 3 && z <= 12 ? 1 : 0;
        if (labels[z * H * W + i] !== expected)
          throw new Error(`voxel z=${z} i=${i}: ${labels[z * H * W + i]} ≠ ${expected}`);
      }
  });

  it("walks middle → z1, then middle−1 → z0, prompting each slice with the previous mask bbox + 3 px", async () => {
    const trace: PromptTrace[] = [];
    // A box loose enough in xy that the widened mask boxes stay inside it.
    const box: Box3D = [20, 16, 3, 48, 44, 12];
    await run(vol, [box], true, trace);
    const zMid = Math.floor((12 - 3) / 2 + 3); // 7
    expect(zMid).toBe(7);
    // The middle slice first; then the two walks, which run side by side, each in its own order.
    expect(trace[0]!.z).toBe(7);
    const up = trace.filter((t) => t.z > 7);
    const down = trace.filter((t) => t.z < 7);
    expect(up.map((t) => t.z)).toEqual([8, 9, 10, 11, 12]);
    expect(down.map((t) => t.z)).toEqual([6, 5, 4, 3]);
    const frame = modelFrame(H, W, 256);
    expect(trace[0]!.prompt).toEqual([20 * 4, 16 * 4, 48 * 4, 44 * 4]);
    // Slice 8 is prompted by slice 7's mask: the ball's cross-section at z=7 (radius 6) → bbox, into the frame, ±3.
    const b = maskBoxToFrame([34 - 6, 30 - 6, 34 + 6, 30 + 6], frame);
    expect(up[0]!.prompt).toEqual([b[0] - 3, b[1] - 3, b[2] + 3, b[3] + 3]);
    // The downward walk starts again from the middle slice's mask.
    expect(down[0]!.prompt).toEqual(up[0]!.prompt);
  });

  it("keeps the propagated prompt inside the user's box (no runaway growth of +3 px per slice)", async () => {
    const trace: PromptTrace[] = [];
    // Tight around the middle cross-section: the widened mask box would leave it by 3 px on every side.
    const box: Box3D = [28, 24, 3, 40, 36, 12];
    await run(vol, [box], true, trace);
    const outer = [28 * 4, 24 * 4, 40 * 4, 36 * 4];
    for (const t of trace) {
      expect(t.prompt[0]).toBeGreaterThanOrEqual(outer[0]!);
      expect(t.prompt[1]).toBeGreaterThanOrEqual(outer[1]!);
      expect(t.prompt[2]).toBeLessThanOrEqual(outer[2]!);
      expect(t.prompt[3]).toBeLessThanOrEqual(outer[3]!);
    }
    // Slice 8 (prompted from slice 7's full cross-section, widened) gets exactly the user's box.
    expect(trace[1]!.prompt).toEqual(outer);
  });

  it("falls back to the original box when the previous mask is empty", async () => {
    const trace: PromptTrace[] = [];
    // Box beside the ball: every mask is empty, so every slice is prompted with the original box.
    const box: Box3D = [0, 0, 2, 10, 10, 6];
    const { labels } = await run(vol, [box], true, trace);
    expect(labels.every((v) => v === 0)).toBe(true);
    expect(new Set(trace.map((t) => t.prompt.join(",")))).toEqual(new Set(["0,0,40,40"]));
  });

  it("encodes every slice once however many boxes share it, and batches boxes on a slice", async () => {
    const boxes: Box3D[] = [
      [28, 24, 2, 40, 36, 12],
      [20, 20, 4, 50, 50, 10],
      [10, 10, 0, 30, 30, 14],
    ];
    const { expert, cache } = await run(vol, boxes);
    expect(expert.encodeCalls).toBe(15); // slices 0..14, each once
    expect(cache.size).toBe(0); // nothing kept after its last use
    // Without sharing (reference behaviour) every box re-encodes its own slices.
    const { expert: baseline } = await run(vol, boxes, false);
    expect(baseline.encodeCalls).toBe(11 + 7 + 15);
  });

  it("asks for each walk's next embedding while this slice is decoded, after its decoder runs", async () => {
    const calls: string[] = [];
    const s = 256 / Math.max(H, W);
    const oracle = new OracleExpert("intensity", 256, 0.5, s - 0.5);
    const logged = {
      name: oracle.name,
      inputSize: oracle.inputSize,
      encode: (image: Float32Array) => {
        calls.push("encode");
        return oracle.encode(image);
      },
      decode: (embedding: Parameters<OracleExpert["decode"]>[0], boxes: Float32Array) => {
        calls.push("decode");
        return oracle.decode(embedding, boxes);
      },
    };
    const labels = new Uint16Array(D * H * W);
    const cache = new SliceEmbeddingCache();
    const progress: string[] = [];
    const opts = {
      cache,
      timings: emptyTimings(),
      now: () => 0,
      maxBoxesPerDecode: 64,
      onProgress: (done: number, total: number) => progress.push(`${done}/${total}`),
    };
    await segmentVolume(vol, [{ box: [28, 24, 5, 40, 36, 9], label: 1 }], logged, labels, opts);
    expect(progress).toEqual(["1/5", "2/5", "3/5", "4/5", "5/5"]); // each slice step once painted
    // Slice 7, then 8, 9 up and 6, 5 down side by side: the middle slice's decode asks for 8 behind it; once the
    // middle is painted the downward walk starts at 6; from then on each walk's next encode follows its decode.
    expect(calls.join(" ")).toBe("encode decode encode encode decode encode decode encode decode decode");
    expect([cache.stats.encodes, cache.stats.hits, cache.size]).toEqual([5, 0, 0]);
    const { labels: unpipelined } = await run(vol, [[28, 24, 5, 40, 36, 9]], false); // cache off: no prefetch
    expect(labels).toEqual(unpipelined);
  });

  it("fails with the model's error, whichever walk it came from, and leaves no walk running", async () => {
    for (const failAt of [9, 5]) {
      const s = 256 / Math.max(H, W);
      const oracle = new OracleExpert("intensity", 256, 0.5, s - 0.5);
      let decodes = 0;
      let afterFailure = 0;
      let failed = false;
      const failing = {
        name: oracle.name,
        inputSize: oracle.inputSize,
        encode: (image: Float32Array) => oracle.encode(image),
        decode: async (embedding: Parameters<OracleExpert["decode"]>[0], boxes: Float32Array) => {
          decodes++;
          if (failed) afterFailure++;
          if (decodes === failAt) {
            failed = true;
            throw new Error(`decoder failed at call ${failAt}`);
          }
          return oracle.decode(embedding, boxes);
        },
      };
      const labels = new Uint16Array(D * H * W);
      const opts = {
        cache: new SliceEmbeddingCache(),
        timings: emptyTimings(),
        now: () => 0,
        maxBoxesPerDecode: 64,
      };
      await expect(
        segmentVolume(vol, [{ box: [28, 24, 1, 40, 36, 13], label: 1 }], failing, labels, opts),
      ).rejects.toThrow(`decoder failed at call ${failAt}`);
      const settled = decodes;
      await new Promise((r) => setTimeout(r, 20));
      expect(decodes).toBe(settled); // nothing ran on after the case failed
      expect(afterFailure).toBeLessThanOrEqual(1); // at most the other walk's slice already under way
    }
  });

  it("later boxes overwrite earlier ones", async () => {
    const { labels } = await run(vol, [
      [20, 20, 5, 50, 50, 9],
      [20, 20, 6, 50, 50, 8],
    ]);
    const at = (z: number) => labels[(z * H + 30) * W + 34];
    expect([at(5), at(6), at(7), at(8), at(9), at(10)]).toEqual([1, 2, 2, 2, 1, 0]);
  });
});

describe("segmentVolume with edge refinement", () => {
  it("refines every slice of the walk onto that slice's edges", async () => {
    // A bright square prism 1 px wider than the box on slices 2..6; the box oracle's mask is the box exactly (a
    // 64² volume in a 64 frame), so only the refinement can reach the prism's rim.
    const [D, H, W] = [9, 64, 64];
    const data = new Uint8Array(D * H * W).fill(50);
    const prism = (z: number, y: number, x: number) =>
      z >= 2 && z <= 6 && y >= 20 && y <= 41 && x >= 20 && x <= 41;
    for (let z = 0; z < D; z++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) if (prism(z, y, x)) data[(z * H + y) * W + x] = 200;
    const vol: Volume = { data, depth: D, height: H, width: W, spacing: [1, 1, 1] };
    const box: Box3D = [21, 21, 2, 40, 40, 6];
    const segment = async (edgeRefinement?: { radius: number; eps: number }) => {
      const labels = new Uint16Array(D * H * W);
      const cache = new SliceEmbeddingCache({ maxBytes: 1 << 30, enabled: true });
      const opts = { cache, timings: emptyTimings(), now: () => 0, maxBoxesPerDecode: 64, edgeRefinement };
      await segmentVolume(vol, [{ box, label: 1 }], new OracleExpert("box", 64), labels, opts);
      return labels;
    };
    const inBox = (z: number, y: number, x: number) =>
      z >= 2 && z <= 6 && y >= 21 && y <= 40 && x >= 21 && x <= 40;
    const expected = (f: (z: number, y: number, x: number) => boolean) =>
      Uint16Array.from({ length: D * H * W }, (_, i) =>
        f(Math.floor(i / (H * W)), Math.floor(i / W) % H, i % W) ? 1 : 0,
      );
    expect(await segment()).toEqual(expected(inBox));
    expect(await segment({ radius: 3, eps: 0.001 })).toEqual(expected(prism));
  });
});
