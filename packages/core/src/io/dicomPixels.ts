/**
 * DICOM pixel data → rescaled values: native pixel data, and the decompressors of the compressed transfer syntaxes
 * (RLE, lossless and baseline JPEG, JPEG-LS, JPEG 2000, HTJ2K). Apart from the header reader (dicom.ts) because
 * the decompressors are most of the DICOM code: what only reads headers does not load them.
 */
import { DaftInputError } from "../errors.js";
import { PLATFORM_LITTLE_ENDIAN, toPlatformOrder } from "./byteOrder.js";
import type { DicomFile, DicomTags } from "./dicom.js";
import { encapsulatedFrames } from "./dicomFragments.js";
import { decodeJpegExtended, jpegFrameInfo } from "./jpegExtended.js";
import { decodeJpeg2000 } from "./jpeg2000.js";
import { decodeJpegLs } from "./jpegLs.js";
import { decodeJpegLossless } from "./jpegLossless.js";
import { decodeJpegSamples } from "./raster.js";
import { decodeRleFrame } from "./rleLossless.js";

export interface DicomPixels {
  frames: number;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  /** Frame-major, samples interleaved (frames, rows, columns, samples), after the modality rescale. */
  values: Float32Array;
  /**
   * Set when decoding changed the colour space: lossy JPEG holds YBR_FULL_422 (or YBR_FULL) and decodes to RGB, as
   * pydicom and dcmtk give it; PALETTE COLOR indices are looked up to 8-bit RGB (3 samples per pixel).
   */
  photometricInterpretation?: "RGB";
}

/**
 * Pixel data → rescaled values (stored value × RescaleSlope + RescaleIntercept): native (uncompressed), or
 * decompressed first for RLE Lossless, lossless JPEG (Process 14, any predictor, and its SV1 form) and 8-bit JPEG
 * Baseline (through the picture decoder, YBR → RGB), and JPEG 2000 and HTJ2K (their YBR_RCT/YBR_ICT come out as
 * RGB). Other compressed transfer syntaxes give a one-line DaftInputError naming the transfer syntax. PALETTE
 * COLOR indices (stored values, not rescaled) come back as 8-bit RGB through the Red, Green and Blue lookup
 * tables.
 */
export function decodeDicomPixels(
  file: DicomFile,
  source?: string,
  opts: { scratch?: Float32Array } = {},
): DicomPixels {
  const fail = (problem: string): never => {
    throw new DaftInputError(problem, source);
  };
  const ts = file.transferSyntax;
  const decompress = ts.compressed ? DECOMPRESSORS[ts.uid] : undefined;
  if (ts.compressed && !decompress) {
    fail(
      `pixel data not supported: transfer syntax ${ts.name} (${ts.uid}) is compressed; ` +
        `uncompressed pixel data, ${Object.values(DECOMPRESSED_NAMES).join(", ")} can be read`,
    );
  }
  const px = file.pixelData;
  if (!px) fail("no Pixel Data (7FE0,0010) element");
  if (px!.encapsulated !== ts.compressed) {
    fail(
      ts.compressed
        ? `pixel data is not encapsulated although transfer syntax ${ts.name} is compressed`
        : `pixel data is encapsulated although transfer syntax ${ts.name} is uncompressed`,
    );
  }
  const t = file.tags;
  const rows = t.rows;
  const columns = t.columns;
  const bits = t.bitsAllocated;
  if (!rows || !columns) fail("Rows (0028,0010) and Columns (0028,0011) are required to read pixel data");
  if (bits !== 8 && bits !== 16 && bits !== 32)
    fail(`BitsAllocated ${bits ?? "(missing)"} is not supported (8, 16 or 32)`);
  const samples = t.samplesPerPixel ?? 1;
  const frames = t.numberOfFrames ?? 1;
  if (samples < 1 || frames < 1) fail(`invalid SamplesPerPixel ${samples} or NumberOfFrames ${frames}`);
  const count = rows! * columns! * samples * frames;
  const bytesPer = bits! / 8;
  // Compressed frames are decoded to native little-endian bytes, samples interleaved (planar configuration 0).
  const native = decompress
    ? decompress(file, { rows: rows!, columns: columns!, samples, frames, bytesPer }, source)
    : undefined;
  if (!native && px!.length < count * bytesPer) {
    fail(
      `truncated pixel data: ${rows}×${columns}×${samples} samples × ${frames} frames × ${bits} bits needs ` +
        `${count * bytesPer} bytes, found ${px!.length}`,
    );
  }
  const signed = t.pixelRepresentation === 1;
  const stored = Math.min(t.bitsStored ?? bits!, bits!);
  // Palette indices are stored values: no modality rescale before the lookup.
  const palette = t.photometricInterpretation === "PALETTE COLOR" ? paletteOf(t, samples, fail) : undefined;
  const slope = palette ? 1 : (t.rescaleSlope ?? 1);
  const intercept = palette ? 0 : (t.rescaleIntercept ?? 0);
  // Stored words in the platform's byte order, as an unsigned typed array: a view of the file where its words
  // are already in that order and aligned (only read), else a copy (aligned, and swappable).
  const inPlace =
    !native &&
    (bytesPer === 1 || ts.littleEndian === PLATFORM_LITTLE_ENDIAN) &&
    (file.bytes.byteOffset + px!.offset) % bytesPer === 0;
  const stored8 = native
    ? native.subarray(0, count * bytesPer)
    : inPlace
      ? file.bytes.subarray(px!.offset, px!.offset + count * bytesPer)
      : file.bytes.slice(px!.offset, px!.offset + count * bytesPer);
  if (!native && !inPlace) toPlatformOrder(stored8, bytesPer, ts.littleEndian);
  const words =
    bits === 8
      ? stored8
      : bits === 16
        ? new Uint16Array(stored8.buffer, stored8.byteOffset, count)
        : new Uint32Array(stored8.buffer, stored8.byteOffset, count);
  // Bits above BitsStored are masked off; a set sign bit of BitsStored makes the value negative.
  const masked = stored < bits!;
  const mask = stored >= 32 ? 0xffffffff : 2 ** stored - 1;
  const half = 2 ** (stored - 1);
  const modulus = 2 ** stored;
  // A series decodes slice after slice into one scratch array (the caller copies each out before the next): 300
  // fresh 1 MB arrays cost more than their arithmetic. A palette's indices go on to the lookup: always fresh.
  const values =
    opts.scratch && !palette && opts.scratch.length >= count
      ? opts.scratch.subarray(0, count)
      : new Float32Array(count);
  const planar = !native && samples > 1 && t.planarConfiguration === 1;
  const perFrame = rows! * columns! * samples;
  const plane = rows! * columns!;
  for (let i = 0; i < count; i++) {
    // Planar configuration 1 stores each sample plane after the other within a frame.
    let source = i;
    if (planar) {
      const f = Math.floor(i / perFrame);
      const within = i - f * perFrame;
      const pixel = Math.floor(within / samples);
      const sample = within % samples;
      source = f * perFrame + sample * plane + pixel;
    }
    let v = words[source]!;
    if (masked) v = (v & mask) >>> 0;
    if (signed && v >= half) v -= modulus;
    values[i] = v * slope + intercept;
  }
  if (palette) {
    return {
      frames,
      rows: rows!,
      columns: columns!,
      samplesPerPixel: 3,
      values: palette(values),
      photometricInterpretation: "RGB",
    };
  }
  // JPEG 2000's YBR_RCT / YBR_ICT are undone by the codestream's inverse component transform.
  const toRgb =
    samples === 3 &&
    (((ts.uid === JPEG_BASELINE || ts.uid === JPEG_EXTENDED) &&
      /^YBR_FULL/.test(t.photometricInterpretation ?? "")) ||
      (JPEG_2000_FAMILY.has(ts.uid) && /^YBR_(RCT|ICT)$/.test(t.photometricInterpretation ?? "")));
  return {
    frames,
    rows: rows!,
    columns: columns!,
    samplesPerPixel: samples,
    values,
    ...(toRgb ? { photometricInterpretation: "RGB" as const } : {}),
  };
}

/**
 * The lookup of a PALETTE COLOR image (PS3.3 C.7.6.3.1.5–6, C.7.9): index → 8-bit R, G, B. Indices below a table's
 * first mapped value take its first entry, those past its end its last (as pydicom's apply_color_lut and dcmtk do).
 * 16-bit entries are scaled to 8 bits by dropping their low byte (>> 8); 8-bit entries are kept, whether packed two
 * to a word as the standard says or one to a 16-bit word (a known writer error, told apart by the data's length).
 * The first mapped value is signed when Pixel Representation is 1. Segmented tables are refused by name.
 */
function paletteOf(t: DicomTags, samples: number, fail: (problem: string) => never) {
  if (samples !== 1) fail(`PALETTE COLOR needs 1 sample per pixel, the header says ${samples}`);
  if (t.segmentedPalette) {
    fail("PALETTE COLOR with segmented lookup tables (0028,1221–1223) is not supported");
  }
  const colours = [
    ["Red", t.redPaletteDescriptor, t.redPaletteData, "1101", "1201"],
    ["Green", t.greenPaletteDescriptor, t.greenPaletteData, "1102", "1202"],
    ["Blue", t.bluePaletteDescriptor, t.bluePaletteData, "1103", "1203"],
  ] as const;
  const tables = colours.map(([colour, descriptor, data, descriptorTag, dataTag]) => {
    if (!descriptor)
      fail(`PALETTE COLOR without a ${colour} Palette Color Lookup Table Descriptor (0028,${descriptorTag})`);
    if (!data) fail(`PALETTE COLOR without ${colour} Palette Color Lookup Table Data (0028,${dataTag})`);
    const [count, firstRaw, bits] = descriptor!;
    const entries = count! === 0 ? 65536 : count!;
    const first = t.pixelRepresentation === 1 && firstRaw! >= 32768 ? firstRaw! - 65536 : firstRaw!;
    if (bits !== 8 && bits !== 16) {
      fail(`${colour} Palette Color Lookup Table Descriptor gives ${bits} bits per entry (8 or 16)`);
    }
    const lut = new Uint8Array(entries);
    if (data!.length >= 2 * entries) {
      // One entry per 16-bit word.
      for (let i = 0; i < entries; i++) {
        lut[i] = bits === 16 ? data![2 * i + 1]! : data![2 * i]!;
      }
    } else if (bits === 8 && data!.length >= entries) {
      lut.set(data!.subarray(0, entries));
    } else {
      fail(
        `${colour} Palette Color Lookup Table Data has ${data!.length} bytes, too few for ${entries} entries of ` +
          `${bits} bits`,
      );
    }
    return { lut, first, last: entries - 1 };
  });
  return (indices: Float32Array): Float32Array => {
    const rgb = new Float32Array(indices.length * 3);
    for (let i = 0; i < indices.length; i++) {
      for (let c = 0; c < 3; c++) {
        const { lut, first, last } = tables[c]!;
        const entry = Math.min(Math.max(indices[i]! - first, 0), last);
        rgb[3 * i + c] = lut[entry]!;
      }
    }
    return rgb;
  };
}

interface FrameGeometry {
  rows: number;
  columns: number;
  samples: number;
  frames: number;
  bytesPer: number;
}

type Decompressor = (file: DicomFile, geometry: FrameGeometry, source?: string) => Uint8Array;

const RLE_LOSSLESS = "1.2.840.10008.1.2.5";
const JPEG_LOSSLESS_P14 = "1.2.840.10008.1.2.4.57";
const JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70";
const JPEG_BASELINE = "1.2.840.10008.1.2.4.50";
const JPEG_EXTENDED = "1.2.840.10008.1.2.4.51";
const JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80";
const JPEG_LS_NEAR_LOSSLESS = "1.2.840.10008.1.2.4.81";
const JPEG_2000_LOSSLESS = "1.2.840.10008.1.2.4.90";
const JPEG_2000 = "1.2.840.10008.1.2.4.91";
const HTJ2K_LOSSLESS = "1.2.840.10008.1.2.4.201";
const HTJ2K_RPCL_LOSSLESS = "1.2.840.10008.1.2.4.202";
const HTJ2K = "1.2.840.10008.1.2.4.203";
const JPEG_2000_FAMILY = new Set([JPEG_2000_LOSSLESS, JPEG_2000, HTJ2K_LOSSLESS, HTJ2K_RPCL_LOSSLESS, HTJ2K]);

const DECOMPRESSED_NAMES: Record<string, string> = {
  [RLE_LOSSLESS]: "RLE Lossless",
  [JPEG_LOSSLESS_P14]: "JPEG Lossless (Process 14)",
  [JPEG_LOSSLESS_SV1]: "JPEG Lossless SV1",
  [JPEG_BASELINE]: "JPEG Baseline (8-bit)",
  [JPEG_EXTENDED]: "JPEG Extended (8/12-bit)",
  [JPEG_LS_LOSSLESS]: "JPEG-LS",
  [JPEG_LS_NEAR_LOSSLESS]: "JPEG-LS near-lossless",
  [JPEG_2000_LOSSLESS]: "JPEG 2000 (Lossless Only)",
  [JPEG_2000]: "JPEG 2000",
  [HTJ2K_LOSSLESS]: "HTJ2K (Lossless Only)",
  [HTJ2K_RPCL_LOSSLESS]: "HTJ2K with RPCL Options (Lossless Only)",
  [HTJ2K]: "HTJ2K",
};

/** Every frame of the encapsulated pixel data, decoded by `decodeFrame`, one after the other. */
function framesDecodedBy(
  decodeFrame: (frame: Uint8Array, g: FrameGeometry, source?: string) => Uint8Array,
): Decompressor {
  return (file, g, source) => {
    const px = file.pixelData!;
    const frameBytes = g.rows * g.columns * g.samples * g.bytesPer;
    const out = new Uint8Array(frameBytes * g.frames);
    encapsulatedFrames(file.bytes, px.offset, px.length, g.frames, source).forEach((frame, f) => {
      out.set(decodeFrame(frame, g, source).subarray(0, frameBytes), f * frameBytes);
    });
    return out;
  };
}

/** A decoded frame must have the DICOM header's size. */
function checkFrameSize(
  what: string,
  size: [number, number, number],
  g: FrameGeometry,
  source?: string,
): void {
  const [width, height, samples] = size;
  if (width !== g.columns || height !== g.rows || samples !== g.samples) {
    throw new DaftInputError(
      `${what} frame is ${width}×${height}×${samples}, but the DICOM header says ` +
        `${g.columns}×${g.rows}×${g.samples} (columns × rows × samples)`,
      source,
    );
  }
}

function jpegLosslessFrame(frame: Uint8Array, g: FrameGeometry, source?: string): Uint8Array {
  const image = decodeJpegLossless(frame, source);
  checkFrameSize("lossless JPEG", [image.width, image.height, image.components], g, source);
  return samplesAsBytes(image.data, image.precision, g, source);
}

/** Decoded JPEG samples as the native reader's little-endian bytes (8- or 16-bit pixels). */
function samplesAsBytes(
  data: Uint16Array | Int32Array,
  precision: number,
  g: FrameGeometry,
  source?: string,
): Uint8Array {
  if (g.bytesPer > 2 || precision > g.bytesPer * 8) {
    throw new DaftInputError(`JPEG samples of ${precision} bits in ${g.bytesPer * 8}-bit pixels`, source);
  }
  if (g.bytesPer === 1) return Uint8Array.from(data);
  const out = new Uint8Array(data.length * 2);
  for (let i = 0; i < data.length; i++) {
    out[2 * i] = data[i]! & 0xff;
    // Negative (signed JPEG 2000) samples as two's complement.
    out[2 * i + 1] = (data[i]! >> 8) & 0xff;
  }
  return out;
}

/**
 * An 8-bit JPEG Baseline frame through the picture decoder (jpeg-js). Three components are YCbCr unless the header
 * says RGB (PS3.5 8.2.1: the Photometric Interpretation tells the colour space of the compressed data).
 */
function jpegBaselineFrame(photometric: string | undefined) {
  return (frame: Uint8Array, g: FrameGeometry, source?: string): Uint8Array => {
    if (g.bytesPer !== 1) throw new DaftInputError("JPEG Baseline pixel data must be 8-bit", source);
    const image = decodeJpegSamples(frame, source ?? "DICOM JPEG frame", {
      colorTransform: photometric !== "RGB",
    });
    checkFrameSize("JPEG", [image.width, image.height, image.channels], g, source);
    return image.data instanceof Uint8Array ? image.data : Uint8Array.from(image.data);
  };
}

/**
 * A JPEG Extended (Process 2 & 4) frame: 8- or 12-bit sequential DCT. 8-bit YCbCr or subsampled colour goes through
 * the picture decoder as JPEG Baseline does (it upsamples chroma and converts YCbCr); everything else through
 * decodeJpegExtended, bit for bit as libjpeg, whose samples are the stored bits (PS3.5 8.2.1: signed values are
 * sign-extended from Pixel Representation afterwards).
 */
function jpegExtendedFrame(photometric: string | undefined) {
  const picture = jpegBaselineFrame(photometric);
  return (frame: Uint8Array, g: FrameGeometry, source?: string): Uint8Array => {
    const info = jpegFrameInfo(frame);
    const colour = info !== undefined && info.precision === 8 && info.components > 1;
    if (colour && (photometric !== "RGB" || info.subsampled)) return picture(frame, g, source);
    const image = decodeJpegExtended(frame, source);
    checkFrameSize("JPEG", [image.width, image.height, image.components], g, source);
    if (image.components > 1 && photometric !== "RGB") {
      throw new DaftInputError(
        `${image.precision}-bit colour JPEG is read only as RGB, not ${photometric ?? "(no photometric interpretation)"}`,
        source,
      );
    }
    return samplesAsBytes(image.data, image.precision, g, source);
  };
}

function jpegLsFrame(frame: Uint8Array, g: FrameGeometry, source?: string): Uint8Array {
  const image = decodeJpegLs(frame, source);
  checkFrameSize("JPEG-LS", [image.width, image.height, image.components], g, source);
  return samplesAsBytes(image.data, image.precision, g, source);
}

function jpeg2000Frame(frame: Uint8Array, g: FrameGeometry, source?: string): Uint8Array {
  const image = decodeJpeg2000(frame, source);
  checkFrameSize("JPEG 2000", [image.width, image.height, image.components], g, source);
  return samplesAsBytes(image.data, image.precision, g, source);
}

const DECOMPRESSORS: Record<string, Decompressor> = {
  [JPEG_2000_LOSSLESS]: framesDecodedBy(jpeg2000Frame),
  [JPEG_2000]: framesDecodedBy(jpeg2000Frame),
  // High-Throughput JPEG 2000 (Part 15): the same codestream, HT code-blocks (jpeg2000Ht.ts).
  [HTJ2K_LOSSLESS]: framesDecodedBy(jpeg2000Frame),
  [HTJ2K_RPCL_LOSSLESS]: framesDecodedBy(jpeg2000Frame),
  [HTJ2K]: framesDecodedBy(jpeg2000Frame),
  [JPEG_LS_LOSSLESS]: framesDecodedBy(jpegLsFrame),
  [JPEG_LS_NEAR_LOSSLESS]: framesDecodedBy(jpegLsFrame),
  [JPEG_BASELINE]: (file, g, source) =>
    framesDecodedBy(jpegBaselineFrame(file.tags.photometricInterpretation))(file, g, source),
  [JPEG_EXTENDED]: (file, g, source) =>
    framesDecodedBy(jpegExtendedFrame(file.tags.photometricInterpretation))(file, g, source),
  [RLE_LOSSLESS]: framesDecodedBy((frame, g, source) =>
    decodeRleFrame(frame, g.rows * g.columns, g.samples, g.bytesPer, source),
  ),
  [JPEG_LOSSLESS_P14]: framesDecodedBy(jpegLosslessFrame),
  [JPEG_LOSSLESS_SV1]: framesDecodedBy(jpegLosslessFrame),
};
