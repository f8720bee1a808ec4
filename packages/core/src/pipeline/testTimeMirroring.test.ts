import { describe, expect, it } from "vitest";
import type { Box2D, Box3D, Volume } from "../image/types.js";
import { embeddingBytes, type DecodeResult, type Embedding, type Expert } from "../model/expert.js";
import { OracleExpert } from "../testing/oracleExperts.js";
import { ManifestSchema } from "../manifest/schema.js";
import { testExpertEntry } from "../testing/manifests.js";
import { modelFrame } from "./preprocess.js";
import { segmentDecodedCase } from "./segmentCase.js";
import { segmentImage } from "./segmentImage.js";
import { segmentVolume } from "./segmentVolume.js";
import { SliceEmbeddingCache } from "./sliceEmbeddingCache.js";
import {
  addMirrored,
  mirrorBoxes,
  mirroredExpert,
  mirrorPasses,
  mirrorPlanes,
  type Mirroring,
} from "./testTimeMirroring.js";
import { emptyTimings } from "./timings.js";

const opts = (mirroring: Mirroring) => ({
  cache: new SliceEmbeddingCache({ maxBytes: 1 << 30, enabled: true }),
  timings: emptyTimings(),
  now: () => 0,
  maxBoxesPerDecode: 16,
  mirroring,
});

/** Records what it was given; logits = the x coordinate in the frame (an expert that is not mirror-symmetric). */
class RampExpert implements Expert {
  readonly name = "ramp";
  readonly encoded: Float32Array[] = [];
  readonly boxes: Float32Array[] = [];
  constructor(readonly inputSize = 8) {}
  async encode(image: Float32Array): Promise<Embedding> {
    this.encoded.push(image);
    return { data: image.slice(0, 4), dims: [4] };
  }
  async decode(_e: Embedding, boxes: Float32Array): Promise<DecodeResult> {
    this.boxes.push(boxes);
    const S = this.inputSize;
    const n = boxes.length / 4;
    const logits = new Float32Array(n * S * S).map((_, i) => i % S);
    return { logits, iou: new Float32Array(n).fill(this.boxes.length), count: n };
  }
}

describe("mirrorPlanes", () => {
  it("mirrors only the unpadded region of each plane and is its own inverse", () => {
    // 2 planes of 4×4, region 2 rows × 3 columns.
    const region = { planes: 2, size: 4, height: 2, width: 3 };
    const data = Float32Array.from({ length: 32 }, (_, i) => i);
    const x = mirrorPlanes(data, region, [true, false]);
    expect([...x.subarray(0, 4)]).toEqual([2, 1, 0, 3]);
    expect([...x.subarray(4, 8)]).toEqual([6, 5, 4, 7]);
    expect([...x.subarray(8, 16)]).toEqual([...data.subarray(8, 16)]); // padding rows untouched
    expect([...x.subarray(16, 20)]).toEqual([18, 17, 16, 19]);
    const y = mirrorPlanes(data, region, [false, true]);
    expect([...y.subarray(0, 8)]).toEqual([4, 5, 6, 3, 0, 1, 2, 7]);
    for (const flip of mirrorPasses("xy")) {
      expect(mirrorPlanes(mirrorPlanes(data, region, flip), region, flip)).toEqual(data);
    }
    expect(mirrorPlanes(data, region, [false, false])).toBe(data);
  });
});

describe("addMirrored", () => {
  it("adds exactly what mirrorPlanes would give, without the copy", () => {
    const region = { planes: 2, size: 5, height: 3, width: 4 };
    const data = Float32Array.from({ length: 2 * 25 }, (_, i) => i * 0.5);
    for (const flip of mirrorPasses("xy")) {
      const into = Float32Array.from({ length: 50 }, (_, i) => 100 - i);
      const expected = mirrorPlanes(data, region, flip).map((v, i) => v + into[i]!);
      addMirrored(into, data, region, flip);
      expect(into).toEqual(expected);
    }
  });
});

describe("mirrorBoxes", () => {
  it("mirrors about the scaled edge and keeps min ≤ max", () => {
    const b = Float32Array.from([1, 2, 3, 5]);
    expect([...mirrorBoxes(b, 10, null)]).toEqual([7, 2, 9, 5]);
    expect([...mirrorBoxes(b, null, 10)]).toEqual([1, 5, 3, 8]);
    expect([...mirrorBoxes(b, 10, 10)]).toEqual([7, 5, 9, 8]);
  });
});

describe("mirroredExpert", () => {
  it("is the expert itself when off", () => {
    const e = new RampExpert();
    expect(mirroredExpert(e, modelFrame(8, 8, 8), "off")).toBe(e);
  });

  it("encodes each mirror image once, mirrors the boxes like the training flips, averages the mirrored-back logits", async () => {
    const inner = new RampExpert(8);
    // A 6 (high) × 3 (wide) image in an 8² frame: scale 8/6, region 8 rows × 4 columns.
    const frame = modelFrame(6, 3, 8);
    expect([frame.resizedHeight, frame.resizedWidth]).toEqual([8, 4]);
    const m = mirroredExpert(inner, frame, "x");
    const image = Float32Array.from({ length: 3 * 64 }, (_, i) => i);
    const e = await m.encode(image);
    // One embedding per pass, kept apart; the unmirrored pass is also the embedding's own data.
    expect(e.passes?.map((p) => [...p.data])).toEqual([
      [0, 1, 2, 3],
      [3, 2, 1, 0],
    ]);
    expect(e.data).toBe(e.passes![0]!.data);
    expect(e.dims).toEqual([4]);
    expect(embeddingBytes(e)).toBe(2 * 4 * 4);
    expect(inner.encoded[1]![0]).toBe(3); // first row mirrored inside the 4 columns
    expect(inner.encoded[1]![4]).toBe(4); // padding column kept
    const r = await m.decode(e, Float32Array.from([0, 0, 1, 2]));
    const edge = (3 - 1) * (8 / 6); // (W − 1) · scale, as training_data.random_flips
    expect([...inner.boxes[1]!]).toEqual([...Float32Array.from([edge - 1, 0, edge, 2])]);
    // Ramp logits x and their mirror (3 − x) average to 1.5 inside the region; padding keeps the plain pass.
    expect([...r.logits.subarray(0, 8)]).toEqual([1.5, 1.5, 1.5, 1.5, 4, 5, 6, 7]);
    expect([...r.iou]).toEqual([1.5]); // (1 + 2) / 2
  });

  it("asks for every pass at once and sums them in pass order, whichever finishes first", async () => {
    // Each request finishes only when all four passes have been asked for, the last asked first.
    const waiting: (() => void)[] = [];
    const release = () => {
      if (waiting.length === 4) for (const go of waiting.splice(0).reverse()) go();
    };
    const later = <T>(value: T) =>
      new Promise<T>((resolve) => {
        waiting.push(() => resolve(value));
        release();
      });
    const S = 4;
    let encodes = 0;
    let decodes = 0;
    const slow: Expert = {
      name: "slow",
      inputSize: S,
      encode: () => later({ data: Float32Array.of(encodes++), dims: [1] }),
      // Pass p's logits are 10^p, so the sum shows every pass once, mirrored or not (constant planes).
      decode: (e) => {
        decodes++;
        const pass = e.data[0]!;
        return later({
          logits: new Float32Array(S * S).fill(10 ** pass),
          iou: Float32Array.of(pass),
          count: 1,
        });
      },
    };
    const m = mirroredExpert(slow, modelFrame(S, S, S), "xy");
    const e = await m.encode(new Float32Array(3 * S * S));
    expect(e.passes!.map((p) => p.data[0])).toEqual([0, 1, 2, 3]);
    const r = await m.decode(e, Float32Array.of(0, 0, 3, 3));
    expect(decodes).toBe(4);
    expect(r.logits[0]).toBeCloseTo(1111 / 4, 10);
    expect([...r.iou]).toEqual([1.5]);
  });

  it("rejects an embedding made for another mode", async () => {
    const inner = new RampExpert(8);
    const frame = modelFrame(8, 8, 8);
    const e = await mirroredExpert(inner, frame, "x").encode(new Float32Array(3 * 64));
    await expect(mirroredExpert(inner, frame, "xy").decode(e, new Float32Array(4))).rejects.toThrow(
      /2 passes/,
    );
  });
});

describe("segmentImage / segmentVolume with mirroring", () => {
  const image = (H: number, W: number) => ({
    data: new Uint8Array(H * W).map((_, i) => (i * 37) % 251),
    height: H,
    width: W,
    channels: 1 as const,
  });

  for (const [H, W] of [
    [512, 384],
    [64, 128],
    [100, 70],
  ] as const) {
    it(`gives a mirror-symmetric oracle's masks unchanged (${H}×${W})`, async () => {
      const s = 256 / Math.max(H, W);
      const boxes: Box2D[] = [
        [3, 5, Math.floor(W / 2), Math.floor(H / 3)],
        [Math.floor(W / 3), Math.floor(H / 2), W - 2, H - 1],
      ];
      const run = async (expert: Expert, mode: Mirroring) => {
        const labels = new Uint16Array(H * W);
        await segmentImage(
          image(H, W),
          boxes.map((box, i) => ({ box, label: i + 1 })),
          expert,
          labels,
          opts(mode),
        );
        return labels;
      };
      for (const kind of ["box", "intensity"] as const) {
        const plain = await run(new OracleExpert(kind, 256, 0.5, s - 0.5), "off");
        for (const mode of ["x", "xy"] as const) {
          const oracle = new OracleExpert(kind, 256, 0.5, s - 0.5);
          const mirrored = await run(oracle, mode);
          expect(oracle.encodeCalls).toBe(mirrorPasses(mode).length);
          let differing = 0;
          for (let i = 0; i < plain.length; i++) if (plain[i] !== mirrored[i]) differing++;
          // The intensity oracle thresholds resampled intensities, which area resampling mirrors exactly
          // only up to float rounding at the threshold; the box oracle is exact.
          expect(differing).toBeLessThanOrEqual(kind === "box" ? 0 : Math.ceil(plain.length * 1e-3));
        }
      }
    });
  }

  it("propagates through a volume on the averaged masks, encoding each slice once per pass", async () => {
    const [D, H, W] = [5, 48, 64];
    const volume: Volume = {
      data: new Uint8Array(D * H * W).fill(100),
      depth: D,
      height: H,
      width: W,
      spacing: [1, 1, 1],
    };
    const s = 256 / 64;
    const box: Box3D = [8, 4, 1, 40, 30, 3];
    const run = async (mode: Mirroring) => {
      const oracle = new OracleExpert("box", 256, 0.5, s - 0.5);
      const labels = new Uint16Array(D * H * W);
      await segmentVolume(volume, [{ box, label: 1 }], oracle, labels, opts(mode));
      return { labels, encodes: oracle.encodeCalls };
    };
    const plain = await run("off");
    const mirrored = await run("xy");
    expect(mirrored.encodes).toBe(plain.encodes * 4);
    expect(mirrored.labels).toEqual(plain.labels);
  });
});

describe("segmentDecodedCase: which mirroring", () => {
  const manifest = (mirroring?: Mirroring) =>
    ManifestSchema.parse({
      format: "daft-manifest",
      version: 1,
      experts: [
        { ...testExpertEntry("general", ["*"]), ...(mirroring ? { testTimeMirroring: mirroring } : {}) },
      ],
      fallback: "general",
    });
  const kase = {
    kind: "2d" as const,
    image: { data: new Uint8Array(64 * 64).fill(9), height: 64, width: 64, channels: 1 as const },
    boxes: [[4, 4, 40, 40] as Box2D],
  };
  const encodes = async (m: ReturnType<typeof manifest>, mirroring?: Mirroring) => {
    const oracle = new OracleExpert("box");
    await segmentDecodedCase("a.npz", kase, {
      manifest: m,
      loadExpert: async () => oracle,
      now: () => 0,
      ...(mirroring ? { mirroring } : {}),
    });
    return oracle.encodeCalls;
  };

  it("takes the expert's manifest setting, off when absent, and a caller's choice over both", async () => {
    expect(await encodes(manifest())).toBe(1);
    expect(await encodes(manifest("xy"))).toBe(4);
    expect(await encodes(manifest("x"))).toBe(2);
    expect(await encodes(manifest("xy"), "off")).toBe(1);
    expect(await encodes(manifest(), "x")).toBe(2);
  });
});
