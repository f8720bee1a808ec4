/**
 * 2D raster image decoding (PNG, JPEG, TIFF, BMP) from bytes, platform-neutral.
 * The format is sniffed from the magic bytes, never from the file extension.
 */
import { decode as decodePngFile } from "fast-png";
import { decode as decodeJpegFile } from "jpeg-js";
import UTIF from "utif2";
import { DaftInputError } from "../errors.js";
import type { RgbPicture } from "../render/overlay.js";
import { decodeCommonPng } from "./pngReader.js";
import { encodePngImage } from "./pngWriter.js";
import { sniffRasterFormat, toGreyOrRgb, type RasterImage } from "./rasterFormat.js";

export interface DecodeRasterOptions {
  /**
   * For palette images (PNG, BMP, TIFF): return the palette indices as a grey image instead of the
   * colours. Use it for label maps stored with a palette, whose index is the class id.
   */
  paletteAsIndices?: boolean;
}

/**
 * Decodes a PNG, JPEG, TIFF or BMP image. Throws a one-line DaftInputError naming `name` when the
 * bytes are not a supported image or are corrupt or truncated.
 */
export function decodeRaster(
  bytes: Uint8Array,
  name: string,
  options: DecodeRasterOptions = {},
): RasterImage {
  const format = sniffRasterFormat(bytes);
  if (format === undefined) {
    throw new DaftInputError("not a PNG, JPEG, TIFF or BMP image (unknown file signature)", name);
  }
  let image: RasterImage;
  try {
    if (format === "png") image = decodePng(bytes, options);
    else if (format === "jpeg") image = decodeJpeg(bytes);
    else if (format === "tiff") image = decodeTiff(bytes, options);
    else image = decodeBmp(bytes, options);
  } catch (error) {
    if (error instanceof DaftInputError) throw error.withSource(name);
    const reason = (error instanceof Error ? error.message : String(error)).replace(/[:\s]+$/, "");
    throw new DaftInputError(`corrupt or truncated ${format.toUpperCase()} image (${reason})`, name);
  }
  const expected = image.width * image.height * image.channels;
  if (image.width <= 0 || image.height <= 0 || image.data.length !== expected) {
    throw new DaftInputError(
      `corrupt ${format.toUpperCase()} image: ${image.width}x${image.height}x${image.channels} but ${image.data.length} samples decoded`,
      name,
    );
  }
  return image;
}

/** Encodes a single-channel label map (uint8 → 8-bit PNG, uint16 → 16-bit PNG). */
export function encodePng(labels: Uint8Array | Uint16Array, width: number, height: number): Uint8Array {
  if (labels.length !== width * height) {
    throw new DaftInputError(`label map has ${labels.length} values, expected ${width}x${height}`);
  }
  return encodePngImage({ width, height, data: labels, channels: 1 });
}

/** Encodes an 8-bit RGB picture (overlays, agreement pictures) as PNG. */
export function encodeRgbPng(picture: RgbPicture): Uint8Array {
  return encodePngImage({ width: picture.width, height: picture.height, data: picture.data, channels: 3 }, 6);
}

// ---------------------------------------------------------------------------------------------
// PNG

function decodePng(bytes: Uint8Array, options: DecodeRasterOptions): RasterImage {
  const common = decodeCommonPng(bytes);
  if (common) {
    const { data, width, height, channels, depth } = common;
    return { data, width, height, channels, bitDepth: depth };
  }
  const png = decodePngFile(bytes, { checkCrc: true });
  const { width, height, depth } = png;
  if (png.palette) {
    const indices = unpackSamples(png.data as Uint8Array, width, height, depth, false);
    if (options.paletteAsIndices) return { data: indices, width, height, channels: 1, bitDepth: 8 };
    return applyPalette(indices, width, height, png.palette);
  }
  const channels = png.channels;
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) {
    throw new Error(`unsupported channel count ${channels}`);
  }
  if (depth === 16) {
    return { data: png.data as Uint16Array, width, height, channels, bitDepth: 16 };
  }
  if (depth === 8) {
    return { data: png.data as Uint8Array, width, height, channels, bitDepth: 8 };
  }
  // 1, 2 or 4-bit grey: unpack and stretch to 0..255.
  const data = unpackSamples(png.data as Uint8Array, width, height, depth, true);
  return { data, width, height, channels: 1, bitDepth: 8 };
}

/** Unpacks 1/2/4-bit samples (rows padded to whole bytes); 8-bit data is returned as is. */
function unpackSamples(
  packed: Uint8Array,
  width: number,
  height: number,
  depth: number,
  stretchTo8Bit: boolean,
): Uint8Array {
  if (depth === 8) return packed;
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  const scale = stretchTo8Bit ? 255 / mask : 1;
  if (packed.length < rowBytes * height) throw new Error("pixel data too short");
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)]!;
      const value = (byte >> (8 - depth - (bit & 7))) & mask;
      out[y * width + x] = Math.round(value * scale);
    }
  }
  return out;
}

/** Palette colours → RGB, or grey when every palette entry is grey (r = g = b). */
function applyPalette(
  indices: Uint8Array,
  width: number,
  height: number,
  palette: ArrayLike<ArrayLike<number>>,
): RasterImage {
  let allGrey = true;
  for (let i = 0; i < palette.length; i++) {
    const entry = palette[i]!;
    if (entry[0] !== entry[1] || entry[1] !== entry[2]) allGrey = false;
  }
  const channels = allGrey ? 1 : 3;
  const data = new Uint8Array(indices.length * channels);
  for (let p = 0; p < indices.length; p++) {
    const entry = palette[indices[p]!];
    if (entry === undefined) throw new Error(`palette index ${indices[p]} out of range`);
    for (let c = 0; c < channels; c++) data[p * channels + c] = entry[c]!;
  }
  return { data, width, height, channels, bitDepth: 8 };
}

// ---------------------------------------------------------------------------------------------
// JPEG

function decodeJpeg(bytes: Uint8Array, options: { colorTransform?: boolean } = {}): RasterImage {
  const components = jpegComponentCount(bytes);
  const decoded = decodeJpegFile(bytes, {
    useTArray: true,
    formatAsRGBA: false,
    tolerantDecoding: false,
    maxMemoryUsageInMB: 2048,
    ...options,
  });
  const { width, height } = decoded;
  const rgb = decoded.data;
  if (components !== 1) return { data: rgb, width, height, channels: 3, bitDepth: 8 };
  const grey = new Uint8Array(width * height);
  for (let p = 0; p < grey.length; p++) grey[p] = rgb[p * 3]!;
  return { data: grey, width, height, channels: 1, bitDepth: 8 };
}

/**
 * A JPEG codestream (e.g. a DICOM JPEG Baseline frame) as 8-bit grey or RGB samples; `colorTransform` false keeps
 * three components as stored (RGB), true converts YCbCr to RGB. A one-line DaftInputError names `name`.
 */
export function decodeJpegSamples(
  bytes: Uint8Array,
  name: string,
  options: { colorTransform?: boolean } = {},
): RasterImage {
  try {
    return decodeJpeg(bytes, options);
  } catch (error) {
    throw new DaftInputError(`corrupt or truncated JPEG data (${(error as Error).message})`, name);
  }
}

/** Number of colour components in the JPEG frame header (SOFn), read from the marker stream. */
function jpegComponentCount(bytes: Uint8Array): number {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) throw new Error("bad JPEG marker");
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    const length = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
    const isFrameHeader =
      marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrameHeader) {
      const count = bytes[offset + 9];
      if (count === undefined) break;
      return count;
    }
    if (marker === 0xda) break; // start of scan before any frame header
    offset += 2 + length;
  }
  throw new Error("no JPEG frame header");
}

// ---------------------------------------------------------------------------------------------
// TIFF

const TIFF_SUPPORTED_COMPRESSION = new Set([1, 5, 7, 8, 32773, 32946]);

function decodeTiff(bytes: Uint8Array, options: DecodeRasterOptions): RasterImage {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const ifds = UTIF.decode(buffer);
  const ifd = ifds.find((candidate) => candidate["t256"] !== undefined);
  if (!ifd) throw new Error("no image in TIFF");
  const tag = (id: number, fallback: number): number => {
    const value = ifd[`t${id}`] as number[] | undefined;
    return value?.[0] ?? fallback;
  };
  const compression = tag(259, 1);
  if (!TIFF_SUPPORTED_COMPRESSION.has(compression))
    throw new Error(`unsupported TIFF compression ${compression}`);
  if (tag(284, 1) !== 1) throw new Error("planar TIFF (PlanarConfiguration 2) is not supported");
  checkTiffDataInside(ifd, bytes.length);
  UTIF.decodeImage(buffer, ifd);
  const width = ifd.width;
  const height = ifd.height;
  const samplesPerPixel = tag(277, 1);
  const bitsPerSample = tag(258, 1);
  const photometric = tag(262, 1);
  const raw = ifd.data;
  if (bitsPerSample !== 1 && bitsPerSample !== 8 && bitsPerSample !== 16) {
    throw new Error(`unsupported TIFF bit depth ${bitsPerSample}`);
  }
  if (samplesPerPixel < 1 || samplesPerPixel > 4)
    throw new Error(`unsupported TIFF samples per pixel ${samplesPerPixel}`);
  const channels = samplesPerPixel as 1 | 2 | 3 | 4;
  if (photometric === 3) {
    const indices = unpackSamples(raw, width, height, bitsPerSample, false);
    if (options.paletteAsIndices) return { data: indices, width, height, channels: 1, bitDepth: 8 };
    const colorMap = ifd["t320"] as number[] | undefined;
    if (!colorMap) throw new Error("palette TIFF without a colour map");
    const entries = colorMap.length / 3;
    const palette: number[][] = [];
    for (let i = 0; i < entries; i++) {
      palette.push([colorMap[i]! >> 8, colorMap[entries + i]! >> 8, colorMap[2 * entries + i]! >> 8]);
    }
    return applyPalette(indices, width, height, palette);
  }
  if (photometric !== 0 && photometric !== 1 && photometric !== 2) {
    throw new Error(`unsupported TIFF photometric interpretation ${photometric}`);
  }
  const whiteIsZero = photometric === 0;
  if (bitsPerSample === 1) {
    if (channels !== 1) throw new Error("1-bit TIFF with several samples per pixel");
    const data = unpackSamples(raw, width, height, 1, true);
    if (whiteIsZero) for (let i = 0; i < data.length; i++) data[i] = 255 - data[i]!;
    return { data, width, height, channels: 1, bitDepth: 8 };
  }
  const samples = width * height * channels;
  if (bitsPerSample === 8) {
    const data = raw.slice(0, samples);
    if (whiteIsZero) for (let i = 0; i < data.length; i++) data[i] = 255 - data[i]!;
    return { data, width, height, channels, bitDepth: 8 };
  }
  // UTIF converts 16-bit samples to little endian.
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw.byteLength < samples * 2) throw new Error("pixel data too short");
  const data = new Uint16Array(samples);
  for (let i = 0; i < samples; i++) data[i] = view.getUint16(i * 2, true);
  if (whiteIsZero) for (let i = 0; i < data.length; i++) data[i] = 65535 - data[i]!;
  return { data, width, height, channels, bitDepth: 16 };
}

/** Every strip or tile must lie inside the file (UTIF would silently read zeros past the end). */
function checkTiffDataInside(ifd: Record<string, unknown>, fileLength: number): void {
  const offsets = (ifd["t273"] ?? ifd["t324"]) as number[] | undefined;
  const counts = (ifd["t279"] ?? ifd["t325"]) as number[] | undefined;
  if (!offsets || !counts) throw new Error("TIFF without strip or tile offsets");
  for (let i = 0; i < offsets.length; i++) {
    const end = offsets[i]! + (counts[i] ?? 0);
    if (end > fileLength)
      throw new Error(`image data ends at byte ${end}, past the end of the file (${fileLength})`);
  }
}

// ---------------------------------------------------------------------------------------------
// BMP (uncompressed 1/4/8-bit palette, 16/24/32-bit; BITFIELDS masks)

function decodeBmp(bytes: Uint8Array, options: DecodeRasterOptions): RasterImage {
  if (bytes.length < 26) throw new Error("file too short for a BMP header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  const isCoreHeader = headerSize === 12;
  if (!isCoreHeader && headerSize < 40) throw new Error(`unsupported BMP header size ${headerSize}`);
  if (14 + headerSize > bytes.length) throw new Error("file too short for its BMP header");
  const width = isCoreHeader ? view.getUint16(18, true) : view.getInt32(18, true);
  const rawHeight = isCoreHeader ? view.getInt16(20, true) : view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(isCoreHeader ? 24 : 28, true);
  const compression = isCoreHeader ? 0 : view.getUint32(30, true);
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  if (width <= 0 || height <= 0) throw new Error(`bad BMP size ${width}x${rawHeight}`);
  if (compression !== 0 && compression !== 3 && compression !== 6) {
    throw new Error(`unsupported BMP compression ${compression} (only uncompressed BMPs are read)`);
  }
  const rowBytes = Math.ceil((width * bitsPerPixel) / 32) * 4;
  if (pixelOffset + rowBytes * (height - 1) + Math.ceil((width * bitsPerPixel) / 8) > bytes.length) {
    throw new Error("pixel data past the end of the file");
  }
  const rowStart = (y: number) => pixelOffset + (topDown ? y : height - 1 - y) * rowBytes;

  if (bitsPerPixel <= 8) {
    const indices = new Uint8Array(width * height);
    const mask = (1 << bitsPerPixel) - 1;
    for (let y = 0; y < height; y++) {
      const start = rowStart(y);
      for (let x = 0; x < width; x++) {
        const bit = x * bitsPerPixel;
        const byte = bytes[start + (bit >> 3)]!;
        indices[y * width + x] = (byte >> (8 - bitsPerPixel - (bit & 7))) & mask;
      }
    }
    if (options.paletteAsIndices) return { data: indices, width, height, channels: 1, bitDepth: 8 };
    const entrySize = isCoreHeader ? 3 : 4;
    const declared = isCoreHeader ? 0 : view.getUint32(46, true);
    const entries = declared > 0 ? declared : 1 << bitsPerPixel;
    const paletteStart = 14 + headerSize + (compression === 3 ? 12 : compression === 6 ? 16 : 0);
    const palette: number[][] = [];
    for (let i = 0; i < entries; i++) {
      const at = paletteStart + i * entrySize;
      if (at + 3 > pixelOffset) break;
      palette.push([bytes[at + 2]!, bytes[at + 1]!, bytes[at]!]); // stored as B, G, R
    }
    return applyPalette(indices, width, height, palette);
  }

  if (bitsPerPixel === 24) {
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      const start = rowStart(y);
      for (let x = 0; x < width; x++) {
        const at = start + x * 3;
        const out = (y * width + x) * 3;
        data[out] = bytes[at + 2]!;
        data[out + 1] = bytes[at + 1]!;
        data[out + 2] = bytes[at]!;
      }
    }
    return { data, width, height, channels: 3, bitDepth: 8 };
  }

  if (bitsPerPixel !== 16 && bitsPerPixel !== 32)
    throw new Error(`unsupported BMP bit depth ${bitsPerPixel}`);
  const masks = bmpChannelMasks(view, headerSize, compression, bitsPerPixel);
  const bytesPerPixel = bitsPerPixel / 8;
  const rgba = new Uint8Array(width * height * 4);
  let anyAlpha = false;
  for (let y = 0; y < height; y++) {
    const start = rowStart(y);
    for (let x = 0; x < width; x++) {
      const at = start + x * bytesPerPixel;
      const pixel = bytesPerPixel === 4 ? view.getUint32(at, true) : view.getUint16(at, true);
      const out = (y * width + x) * 4;
      for (let c = 0; c < 4; c++) rgba[out + c] = extractMasked(pixel, masks[c]!);
      if (masks[3] !== 0 && rgba[out + 3] !== 0) anyAlpha = true;
    }
  }
  if (anyAlpha) return { data: rgba, width, height, channels: 4, bitDepth: 8 };
  // No (or an all-zero, i.e. unused) alpha channel: RGB.
  return toGreyOrRgb({ data: rgba, width, height, channels: 4, bitDepth: 8 });
}

/** R, G, B, A bit masks of a 16/32-bit BMP. */
function bmpChannelMasks(
  view: DataView,
  headerSize: number,
  compression: number,
  bitsPerPixel: number,
): number[] {
  if (compression === 3 || compression === 6) {
    const read = (i: number) =>
      14 + 40 + i * 4 + 4 <= view.byteLength ? view.getUint32(14 + 40 + i * 4, true) : 0;
    const alphaPresent = compression === 6 || headerSize >= 56;
    return [read(0), read(1), read(2), alphaPresent ? read(3) : 0];
  }
  if (bitsPerPixel === 16) return [0x7c00, 0x03e0, 0x001f, 0];
  return [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000];
}

/** The bits of `pixel` under `mask`, scaled to 0..255. */
function extractMasked(pixel: number, mask: number): number {
  if (mask === 0) return 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  const value = (pixel & mask) >>> shift;
  return max === 255 ? value : Math.round((value * 255) / max);
}
