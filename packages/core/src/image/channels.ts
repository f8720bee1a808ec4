/** Per-pixel channel helpers shared by the decoders (challenge .npz, NRRD, MetaImage). */
import type { IntensityData } from "../dataset/intensity.js";

/** RGBA → RGB: interleaved channels, alpha (every fourth value) dropped; the same array type comes back. */
export function rgbaToRgb<T extends IntensityData>(rgba: T): T {
  const pixels = Math.floor(rgba.length / 4);
  const rgb = new (rgba.constructor as new (length: number) => T)(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    rgb[p * 3] = rgba[p * 4]!;
    rgb[p * 3 + 1] = rgba[p * 4 + 1]!;
    rgb[p * 3 + 2] = rgba[p * 4 + 2]!;
  }
  return rgb;
}
