import { describe, expect, it } from "vitest";
import { boxToFrame, maskBoxToFrame, modelFrame, preprocessImage } from "./preprocess.js";
import { resizeArea } from "./resizeArea.js";

describe("modelFrame", () => {
  it("rounds the resized size as int(s*256/max + 0.5)", () => {
    expect(modelFrame(300, 200, 256)).toMatchObject({ resizedHeight: 256, resizedWidth: 171 });
    expect(modelFrame(100, 37, 256)).toMatchObject({ resizedHeight: 256, resizedWidth: 95 });
    expect(modelFrame(40, 700, 256)).toMatchObject({ resizedHeight: 15, resizedWidth: 256 });
  });
});

describe("preprocessImage", () => {
  it("min-max normalises the resized image, pads with zeros, copies grey to 3 channels", () => {
    const H = 100;
    const W = 50;
    const data = new Uint8Array(H * W).map((_, i) => 50 + (i % 7) * 10);
    const { tensor, frame } = preprocessImage({ data, height: H, width: W, channels: 1 }, 256);
    expect(frame.resizedWidth).toBe(128);
    const plane = 256 * 256;
    let min = Infinity;
    let max = -Infinity;
    for (let y = 0; y < 256; y++)
      for (let x = 0; x < 128; x++) {
        const v = tensor[y * 256 + x]!;
        min = Math.min(min, v);
        max = Math.max(max, v);
        expect(tensor[plane + y * 256 + x]).toBe(v);
        expect(tensor[2 * plane + y * 256 + x]).toBe(v);
      }
    expect(min).toBe(0);
    expect(max).toBeCloseTo(1, 6);
    for (let y = 0; y < 256; y++) for (let x = 128; x < 256; x++) expect(tensor[y * 256 + x]).toBe(0);
  });
  it("normalises RGB over all channels together", () => {
    const data = new Uint8Array(4 * 4 * 3);
    for (let i = 0; i < 16; i++) data.set([10, 110, 210], i * 3);
    const { tensor } = preprocessImage({ data, height: 4, width: 4, channels: 3 }, 8);
    expect(tensor[0]).toBe(0);
    expect(tensor[64]).toBeCloseTo(0.5, 6);
    expect(tensor[128]).toBe(1);
  });
  it("a constant image becomes zeros (denominator clamped at 1e-8)", () => {
    const { tensor } = preprocessImage(
      { data: new Uint8Array(9).fill(7), height: 3, width: 3, channels: 1 },
      6,
    );
    expect(tensor.every((v) => v === 0)).toBe(true);
  });
});

describe("boxes into the frame", () => {
  it("scales boxes by size / max(H, W)", () => {
    expect(boxToFrame([100, 50, 200, 150], modelFrame(512, 1024, 256))).toEqual([25, 12.5, 50, 37.5]);
  });
  it("maps a mask bbox to the bbox of the area-resized mask > 0", () => {
    for (const [H, W, box] of [
      [512, 384, [101, 37, 140, 300]],
      [100, 37, [0, 0, 36, 99]],
      [50, 60, [13, 7, 13, 7]],
    ] as const) {
      const frame = modelFrame(H, W, 256);
      const mask = new Float32Array(H * W);
      for (let y = box[1]; y <= box[3]; y++) for (let x = box[0]; x <= box[2]; x++) mask[y * W + x] = 1;
      const small = resizeArea(mask, H, W, 1, frame.resizedHeight, frame.resizedWidth);
      let x0 = 1e9;
      let y0 = 1e9;
      let x1 = -1;
      let y1 = -1;
      for (let y = 0; y < frame.resizedHeight; y++)
        for (let x = 0; x < frame.resizedWidth; x++)
          if (small[y * frame.resizedWidth + x]! > 1e-6) {
            x0 = Math.min(x0, x);
            y0 = Math.min(y0, y);
            x1 = Math.max(x1, x);
            y1 = Math.max(y1, y);
          }
      expect(maskBoxToFrame(box, frame)).toEqual([x0, y0, x1, y1]);
    }
  });
});
