/**
 * The seam with the Python training package: the same committed fixtures are checked by both languages.
 * - fixtures/preprocess/vectors.npz: inputs and the [3,256,256] tensors training/daft_train/data/preprocess.py made;
 *   the engine's preprocessing must give the same numbers.
 * - fixtures/manifest/*.json: the manifest both sides accept or reject.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { modelFrame, parseManifest, preprocessImage, readNpz, type Image2D } from "@daft/core";

const root = join(import.meta.dirname, "../../../..");

describe("shared preprocessing vectors (Python ↔ TypeScript)", () => {
  const arrays = readNpz(new Uint8Array(readFileSync(join(root, "fixtures/preprocess/vectors.npz"))));
  const names = [...arrays.keys()].filter((k) => k.endsWith("__input")).map((k) => k.replace(/__input$/, ""));
  it("has vectors", () => expect(names.length).toBeGreaterThanOrEqual(5));
  for (const name of names) {
    it(`${name}: same tensor as the Python preprocessing (max abs diff < 1e-5)`, () => {
      const input = arrays.get(`${name}__input`)!;
      const expected = arrays.get(`${name}__expected`)!.data as Float32Array;
      const [H, W, C] = [input.shape[0]!, input.shape[1]!, input.shape[2] ?? 1];
      const data =
        input.data instanceof Uint8Array ? input.data : Float32Array.from(input.data as Float32Array);
      const image: Image2D = { data, height: H, width: W, channels: C as 1 | 3 };
      const { tensor, frame } = preprocessImage(image, 256);
      const hw = arrays.get(`${name}__resized_hw`)!.data as Int32Array;
      expect([frame.resizedHeight, frame.resizedWidth]).toEqual([hw[0], hw[1]]);
      expect(frame.scale).toBeCloseTo((arrays.get(`${name}__box_scale`)!.data as Float64Array)[0]!, 12);
      let maxDiff = 0;
      for (let i = 0; i < tensor.length; i++)
        maxDiff = Math.max(maxDiff, Math.abs(tensor[i]! - expected[i]!));
      expect(maxDiff).toBeLessThan(1e-5);
      expect(modelFrame(H, W, 256)).toEqual(frame);
    });
  }
});

describe("shared manifest fixtures", () => {
  const dir = join(root, "fixtures/manifest");
  it("accepts valid.json", () => {
    const m = parseManifest(JSON.parse(readFileSync(join(dir, "valid.json"), "utf8")));
    expect(m.experts.some((e) => e.name === m.fallback)).toBe(true);
  });
  for (const f of readdirSync(dir).filter((f) => f.startsWith("invalid-"))) {
    it(`rejects ${f}`, () => {
      expect(() => parseManifest(JSON.parse(readFileSync(join(dir, f), "utf8")))).toThrow(/invalid manifest/);
    });
  }
});
