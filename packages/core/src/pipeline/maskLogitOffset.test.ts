import { describe, expect, it } from "vitest";
import type { Box2D } from "../image/types.js";
import { ManifestSchema } from "../manifest/schema.js";
import { testExpertEntry } from "../testing/manifests.js";
import { OracleExpert } from "../testing/oracleExperts.js";
import { offsetExpert } from "./maskLogitOffset.js";
import { segmentDecodedCase } from "./segmentCase.js";

const manifest = (offset?: number) =>
  ManifestSchema.parse({
    format: "daft-manifest",
    version: 1,
    experts: [
      { ...testExpertEntry("general", ["*"]), ...(offset === undefined ? {} : { maskLogitOffset: offset }) },
    ],
    fallback: "general",
  });

/** Columns and rows of label 1 in a 256 × 256 label map (the model frame is the image: scale 1). */
function extent(labels: Uint16Array): [number, number, number, number] {
  let [x0, y0, x1, y1] = [256, 256, -1, -1];
  for (let y = 0; y < 256; y++)
    for (let x = 0; x < 256; x++)
      if (labels[y * 256 + x] === 1)
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  return [x0, y0, x1, y1];
}

describe("maskLogitOffset", () => {
  const kase = {
    kind: "2d" as const,
    image: { data: new Uint8Array(256 * 256).fill(9), height: 256, width: 256, channels: 1 as const },
    boxes: [[50, 60, 100, 120] as Box2D],
  };
  const segment = async (offset?: number, clipToBox = false) => {
    const oracle = new OracleExpert("box");
    const { labels } = await segmentDecodedCase("a.npz", kase, {
      manifest: manifest(offset),
      loadExpert: async () => oracle,
      now: () => 0,
      mirroring: "off",
      ...(clipToBox ? {} : { clipToBox: false }), // the engine's default clips a grown mask at its box
    });
    return extent(labels);
  };

  it("moves the threshold: the box oracle's logit is its distance inside the box, so +2 grows the mask 2 px a side", async () => {
    expect(await segment()).toEqual([50, 60, 100, 120]);
    expect(await segment(0)).toEqual([50, 60, 100, 120]);
    expect(await segment(2)).toEqual([48, 58, 102, 122]);
    expect(await segment(-3)).toEqual([53, 63, 97, 117]);
  });

  it("by default the grown mask stops at its box; a shrunk one is unaffected", async () => {
    expect(await segment(2, true)).toEqual([50, 60, 100, 120]);
    expect(await segment(-3, true)).toEqual([53, 63, 97, 117]);
  });

  it("adds the constant to the logits only, leaves the IoU and the wrapped expert alone", async () => {
    const oracle = new OracleExpert("box");
    expect(offsetExpert(oracle, 0)).toBe(oracle);
    expect(offsetExpert(oracle, undefined)).toBe(oracle);
    const shifted = offsetExpert(oracle, 1.5);
    const embedding = await shifted.encode(new Float32Array(3 * 256 * 256));
    const boxes = new Float32Array([10, 10, 20, 20]);
    const plain = await oracle.decode(embedding, boxes);
    const out = await shifted.decode(embedding, boxes);
    expect(out.count).toBe(1);
    expect(out.iou).toEqual(plain.iou);
    for (const i of [0, 10 * 256 + 10, 15 * 256 + 15, 255 * 256 + 255])
      expect(out.logits[i]).toBeCloseTo(plain.logits[i]! + 1.5, 5);
  });

  it("is validated by the manifest schema", () => {
    expect(() => manifest(10.5)).toThrow();
    expect(() => manifest(Number.NaN)).toThrow();
    expect(manifest(-0.5).experts[0]!.maskLogitOffset).toBe(-0.5);
  });
});
