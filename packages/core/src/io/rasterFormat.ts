/**
 * What is known of a picture without decoding it — its format from the magic bytes — and the decoded image's shape,
 * apart from the decoders (raster.ts, with fast-png, jpeg-js and utif2: most of the picture code) so that
 * recognising an input's format loads none of them.
 */

/** A decoded 2D image, C order, channels interleaved (H, W, C). */
export interface RasterImage {
  /** Uint8Array for bitDepth 8, Uint16Array for bitDepth 16. */
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  bitDepth: 8 | 16;
}

export type RasterFormat = "png" | "jpeg" | "tiff" | "bmp";

/** The raster format of `bytes` by magic number, or undefined. */
export function sniffRasterFormat(bytes: Uint8Array): RasterFormat | undefined {
  const b = (i: number) => bytes[i] ?? -1;
  if (b(0) === 0x89 && b(1) === 0x50 && b(2) === 0x4e && b(3) === 0x47) return "png";
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return "jpeg";
  if (b(0) === 0x49 && b(1) === 0x49 && b(2) === 0x2a && b(3) === 0x00) return "tiff";
  if (b(0) === 0x4d && b(1) === 0x4d && b(2) === 0x00 && b(3) === 0x2a) return "tiff";
  if (b(0) === 0x42 && b(1) === 0x4d) return "bmp";
  return undefined;
}

/** Drops the alpha channel: RGBA → RGB, grey+alpha → grey; grey and RGB are returned unchanged. */
export function toGreyOrRgb(image: RasterImage): RasterImage & { channels: 1 | 3 } {
  if (image.channels === 1 || image.channels === 3) {
    return image as RasterImage & { channels: 1 | 3 };
  }
  const channels = image.channels === 2 ? 1 : 3;
  const pixels = image.width * image.height;
  const data = image.bitDepth === 16 ? new Uint16Array(pixels * channels) : new Uint8Array(pixels * channels);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < channels; c++) data[p * channels + c] = image.data[p * image.channels + c]!;
  }
  return { ...image, data, channels };
}
