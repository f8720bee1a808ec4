import type { Expert } from "@daft/core";
import { describe, expect, it } from "vitest";
import { countingExpert, slicesToEncode } from "./progressCount.js";

describe("segmentation progress from encode calls", () => {
  it("counts the slices a volume's boxes cover (each is encoded once) and one for 2D", () => {
    expect(slicesToEncode([[0, 0, 2, 5, 5, 6]], 10)).toBe(5);
    expect(
      slicesToEncode(
        [
          [0, 0, 2, 5, 5, 6],
          [1, 1, 5, 3, 3, 9],
        ],
        10,
      ),
    ).toBe(8);
    expect(slicesToEncode([[0, 0, 8, 5, 5, 12]], 10)).toBe(2);
    expect(slicesToEncode([[0, 0, 5, 5]], 1)).toBe(1);
  });

  it("reports each finished encode and passes results through unchanged", async () => {
    const embedding = { data: new Float32Array(2), dims: [2] };
    const decoded = { logits: new Float32Array(1), iou: new Float32Array(1), count: 1 };
    const expert: Expert = {
      name: "US",
      inputSize: 256,
      encode: async () => embedding,
      decode: async () => decoded,
    };
    let encodes = 0;
    const counted = countingExpert(expert, () => encodes++);
    expect(counted).toMatchObject({ name: "US", inputSize: 256 });
    expect(await counted.encode(new Float32Array(1))).toBe(embedding);
    expect(await counted.encode(new Float32Array(1))).toBe(embedding);
    expect(await counted.decode(embedding, new Float32Array(4))).toBe(decoded);
    expect(encodes).toBe(2);
  });
});
