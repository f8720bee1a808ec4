import { describe, expect, it } from "vitest";
import type { Image2D, Volume } from "../image/types.js";
import {
  META_FEATURE_NAMES,
  metaFeatureRecord,
  metaFeaturesOfImage,
  metaFeaturesOfVolume,
} from "./metaFeatures.js";

function gray(height: number, width: number, pixel: (y: number, x: number) => number): Image2D {
  const data = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = pixel(y, x);
  return { data, height, width, channels: 1 };
}

describe("meta-features", () => {
  it("has one value per name, no duplicates, all finite", () => {
    expect(new Set(META_FEATURE_NAMES).size).toBe(META_FEATURE_NAMES.length);
    const f = metaFeaturesOfImage(
      gray(40, 60, (y, x) => (x * 7 + y * 3) % 256),
      [[5, 5, 20, 30]],
    );
    expect(f.values.length).toBe(META_FEATURE_NAMES.length);
    expect([...f.values].every(Number.isFinite)).toBe(true);
  });

  it("measures a half-black, half-white image exactly", () => {
    const r = metaFeatureRecord(
      metaFeaturesOfImage(
        gray(64, 128, (_, x) => (x < 64 ? 0 : 255)),
        [[0, 0, 127, 63]],
      ),
    );
    expect(r.hist_00).toBe(0.5);
    expect(r.hist_15).toBe(0.5);
    expect(r.entropy_bits).toBeCloseTo(1, 12);
    expect(r.mean).toBeCloseTo(0.5, 12);
    expect(r.std).toBeCloseTo(0.5, 12);
    expect(r.black_share).toBe(0.5);
    expect(r.white_share).toBe(0.5);
    expect(r.p05).toBe(0);
    expect(r.p95).toBe(1);
    expect(r.log_aspect_w_over_h).toBeCloseTo(Math.log(2), 12);
    expect(r.channels).toBe(1);
    expect(r.mean_saturation).toBe(0);
    // One vertical edge: only the samples next to it see a gradient.
    expect(r.edge_share).toBeCloseTo(1 / 128, 12);
    // A box covering the whole image.
    expect(r.log_box_count).toBeCloseTo(Math.log(2), 12);
    expect(r.box_log_rel_area_median).toBeCloseTo(0, 12);
    expect(r.box_center_x_mean).toBe(0.5);
    expect(r.box_center_spread).toBe(0);
  });

  it("describes colour: a pure red image", () => {
    const data = new Uint8Array(32 * 32 * 3);
    for (let i = 0; i < 32 * 32; i++) data[i * 3] = 255;
    const r = metaFeatureRecord(
      metaFeaturesOfImage({ data, height: 32, width: 32, channels: 3 }, [[0, 0, 3, 3]]),
    );
    expect(r.channels).toBe(3);
    expect(r.mean_r).toBe(1);
    expect(r.mean_g).toBe(0);
    expect(r.mean_saturation).toBe(1);
    expect(r.mean_r_minus_g).toBe(1);
    expect(r.mean_r_minus_b).toBe(1);
    expect(r.mean).toBeCloseTo(1 / 3, 12);
    expect(r.box_log_rel_area_median).toBeCloseTo(Math.log10(16 / 1024), 12);
  });

  it("maps float images outside [0, 255] by their sampled range", () => {
    const data = new Float32Array(16 * 16);
    data.forEach((_, i) => (data[i] = i % 2 ? 3000 : -1000));
    const r = metaFeatureRecord(
      metaFeaturesOfImage({ data, height: 16, width: 16, channels: 1 }, [[0, 0, 1, 1]]),
    );
    expect(r.black_share).toBe(0.5);
    expect(r.white_share).toBe(0.5);
  });

  it("describes a volume: spacing, anisotropy, through-plane gradient, box depth", () => {
    const depth = 10;
    const data = new Uint8Array(depth * 8 * 8);
    for (let z = 0; z < depth; z++) data.fill(z * 20, z * 64, (z + 1) * 64);
    const volume: Volume = { data, depth, height: 8, width: 8, spacing: [3, 0.5, 0.5] };
    const r = metaFeatureRecord(metaFeaturesOfVolume(volume, [[0, 0, 2, 7, 7, 6]]));
    expect(r.dimension).toBe(3);
    expect(r.spacing_z).toBe(3);
    expect(r.log_anisotropy_z).toBeCloseTo(Math.log(6), 12);
    expect(r.log_depth).toBeCloseTo(Math.log(10), 12);
    // Each sampled slice differs from the next by 20 levels (the last slice looks back).
    expect(r.gradient_z).toBeCloseTo(20 / 255, 12);
    expect(r.gradient_fine).toBe(0);
    expect(r.box_rel_depth_median).toBeCloseTo(0.5, 12);
  });

  it("is deterministic on a 287×512×512 volume", () => {
    const depth = 287;
    const data = new Uint8Array(depth * 512 * 512);
    let s = 12345;
    for (let i = 0; i < data.length; i += 97) {
      s = (s * 1103515245 + 12345) >>> 0;
      data[i] = s >>> 24;
    }
    const volume: Volume = { data, depth, height: 512, width: 512, spacing: [1, 0.7, 0.7] };
    const boxes: [number, number, number, number, number, number][] = [
      [100, 100, 50, 200, 220, 120],
      [300, 310, 10, 330, 350, 20],
    ];
    const a = metaFeaturesOfVolume(volume, boxes);
    for (let run = 0; run < 3; run++) {
      expect([...metaFeaturesOfVolume(volume, boxes).values]).toEqual([...a.values]);
    }
    // Its cost is measured by bench/routing.mjs, not asserted here (timed tests are flaky on shared machines).
  });
});
