/**
 * Sequential DCT JPEG with Huffman coding (ITU-T T.81 Annex F: SOF0 baseline and SOF1 extended, 8- or 12-bit
 * samples) → samples: the compression of DICOM's JPEG Extended transfer syntax (1.2.840.10008.1.2.4.51, Processes
 * 2 & 4), whose 12-bit frames the picture decoder (jpeg-js, 8 bits only) cannot read. 8- and 16-bit quantisation
 * tables, restart intervals, interleaved and non-interleaved scans, any sampling factors; components of different
 * sampling factors (subsampled chroma) are refused: they need upsampling, which is the picture decoder's business.
 *
 * The inverse DCT is libjpeg's accurate integer one (jidctint.c, "islow": 13-bit constants, 2 extra bits in the
 * first pass for 8-bit samples, 1 for 12-bit, the same range limiting), so frames decode bit for bit as libjpeg
 * and dcmtk (dcmdjpeg) decode them. Progressive, lossless, hierarchical and arithmetic-coded JPEG are refused by name.
 *
 * The IDCT follows the Independent JPEG Group's jidctint.c arithmetic step for step: this software is based in
 * part on the work of the Independent JPEG Group (its README's acknowledgement, as the IJG licence asks).
 */
import { DaftInputError } from "../errors.js";
import { BitReader, huffmanTable, type HuffmanTable } from "./jpegLossless.js";
import { walkJpegSegments } from "./jpegMarkers.js";

export interface JpegDctImage {
  width: number;
  height: number;
  components: number;
  /** Bits per sample (P): 8 or 12. */
  precision: number;
  /** Samples interleaved per pixel, row by row, as unsigned P-bit values (level shift undone). */
  data: Uint16Array;
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** Blocks per line and per column that hold image samples (T.81 A.2). */
  blocksPerLine: number;
  blocksPerColumn: number;
  /** Samples as decoded, on a grid of whole MCUs. */
  plane: Uint16Array;
  stride: number;
  /** Predicted DC value (T.81 F.2.1.1). */
  dc: number;
  scanned: boolean;
}

interface Frame {
  precision: number;
  width: number;
  height: number;
  components: Component[];
  mcusPerLine: number;
  mcusPerColumn: number;
}

/** More samples than this in one frame is taken for a corrupt header rather than allocated. */
const MAX_SAMPLES = 2 ** 28;

/** Zig-zag index → natural (row-major) position in the 8×8 block (T.81 Figure A.6). */
const ZIGZAG = Int32Array.from([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
]);

const SOF_NAMES: Record<number, string> = {
  0xc2: "progressive DCT (SOF2)",
  0xc3: "lossless (SOF3)",
  0xc5: "differential sequential DCT (SOF5)",
  0xc6: "differential progressive DCT (SOF6)",
  0xc7: "differential lossless (SOF7)",
  0xc9: "arithmetic-coded sequential DCT (SOF9)",
  0xca: "arithmetic-coded progressive DCT (SOF10)",
  0xcb: "arithmetic-coded lossless (SOF11)",
  0xcd: "arithmetic-coded differential sequential DCT (SOF13)",
  0xce: "arithmetic-coded differential progressive DCT (SOF14)",
  0xcf: "arithmetic-coded differential lossless (SOF15)",
};

/**
 * The frame header of a JPEG stream, read without decoding: sample precision, component count, and whether the
 * components differ in sampling factors (subsampled chroma). Undefined when no frame header precedes the first scan.
 */
export function jpegFrameInfo(
  bytes: Uint8Array,
): { precision: number; components: number; subsampled: boolean } | undefined {
  let pos = 2;
  while (pos + 9 < bytes.length && bytes[pos] === 0xff) {
    const marker = bytes[pos + 1]!;
    if (marker === 0xff) {
      pos++;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return undefined;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const components = bytes[pos + 9]!;
      const sampling = new Set<number | undefined>();
      for (let c = 0; c < components; c++) sampling.add(bytes[pos + 11 + 3 * c]);
      return { precision: bytes[pos + 4]!, components, subsampled: sampling.size > 1 };
    }
    pos += 2 + ((bytes[pos + 2]! << 8) | bytes[pos + 3]!);
  }
  return undefined;
}

export function decodeJpegExtended(bytes: Uint8Array, source?: string): JpegDctImage {
  const fail = (problem: string): never => {
    throw new DaftInputError(`JPEG: ${problem}`, source);
  };
  const quantTables: (Int32Array | undefined)[] = [];
  const dcTables: (HuffmanTable | undefined)[] = [];
  const acTables: (HuffmanTable | undefined)[] = [];
  let frame: Frame | undefined;
  let restartInterval = 0;
  let scans = 0;
  walkJpegSegments(bytes, fail, (marker, segment, after) => {
    if (marker === 0xc0 || marker === 0xc1) {
      if (frame) fail("a second frame header");
      frame = readFrame(segment, fail);
      const first = frame.components[0]!;
      if (frame.components.some((c) => c.h !== first.h || c.v !== first.v)) {
        const factors = frame.components.map((c) => `${c.h}×${c.v}`).join(", ");
        fail(`subsampled components (${factors}) are not supported here`);
      }
    } else if (SOF_NAMES[marker]) {
      fail(`${SOF_NAMES[marker]} frame: only sequential Huffman DCT JPEG (SOF0, SOF1) is read here`);
    } else if (marker === 0xdb) {
      readQuantTables(segment, quantTables, fail);
    } else if (marker === 0xc4) {
      readHuffmanTables(segment, dcTables, acTables, fail);
    } else if (marker === 0xdd) {
      if (segment.length < 2) fail("truncated DRI segment");
      restartInterval = (segment[0]! << 8) | segment[1]!;
    } else if (marker === 0xdc) {
      fail("DNL marker (number of lines defined after the first scan) is not supported");
    } else if (marker === 0xda) {
      if (!frame) fail("scan before the frame header");
      scans++;
      return decodeScan(
        bytes,
        after,
        segment,
        frame!,
        quantTables,
        dcTables,
        acTables,
        restartInterval,
        fail,
      );
    }
  });
  if (!frame || scans === 0) fail("no frame header and scan");
  const { width, height, components } = frame!;
  const missing = components.filter((c) => !c.scanned).map((c) => c.id);
  if (missing.length > 0) fail(`no scan for component ${missing.join(", ")}`);
  const n = components.length;
  const data = new Uint16Array(width * height * n);
  components.forEach((c, k) => {
    for (let y = 0; y < height; y++) {
      const row = y * c.stride;
      for (let x = 0; x < width; x++) data[(y * width + x) * n + k] = c.plane[row + x]!;
    }
  });
  return { width, height, components: n, precision: frame!.precision, data };
}

function readFrame(segment: Uint8Array, fail: (problem: string) => never): Frame {
  if (segment.length < 6) fail("truncated frame header");
  const precision = segment[0]!;
  const height = (segment[1]! << 8) | segment[2]!;
  const width = (segment[3]! << 8) | segment[4]!;
  const count = segment[5]!;
  if (precision !== 8 && precision !== 12) fail(`sample precision ${precision} (8 or 12 bits)`);
  if (height === 0) fail("a frame of 0 lines (DNL) is not supported");
  if (width === 0 || count === 0) fail("empty frame");
  if (count > 4) fail(`${count} components (1–4)`);
  if (width * height * count > MAX_SAMPLES)
    fail(`a frame of ${width}×${height}×${count} samples is too large`);
  if (segment.length < 6 + 3 * count) fail("truncated frame header");
  const raw: { id: number; h: number; v: number; tq: number }[] = [];
  for (let c = 0; c < count; c++) {
    const id = segment[6 + 3 * c]!;
    const h = segment[7 + 3 * c]! >> 4;
    const v = segment[7 + 3 * c]! & 15;
    const tq = segment[8 + 3 * c]!;
    if (h < 1 || h > 4 || v < 1 || v > 4) fail(`component ${id} has sampling factors ${h}×${v} (1–4)`);
    if (tq > 3) fail(`component ${id} names quantisation table ${tq} (0–3)`);
    if (raw.some((r) => r.id === id)) fail(`component ${id} is declared twice`);
    raw.push({ id, h, v, tq });
  }
  const hMax = Math.max(...raw.map((c) => c.h));
  const vMax = Math.max(...raw.map((c) => c.v));
  const mcusPerLine = Math.ceil(width / (8 * hMax));
  const mcusPerColumn = Math.ceil(height / (8 * vMax));
  const components = raw.map((c): Component => {
    const stride = mcusPerLine * c.h * 8;
    return {
      ...c,
      blocksPerLine: Math.ceil(Math.ceil((width * c.h) / hMax) / 8),
      blocksPerColumn: Math.ceil(Math.ceil((height * c.v) / vMax) / 8),
      plane: new Uint16Array(stride * mcusPerColumn * c.v * 8),
      stride,
      dc: 0,
      scanned: false,
    };
  });
  return { precision, width, height, components, mcusPerLine, mcusPerColumn };
}

/** DQT: 8-bit (Pq 0) or 16-bit (Pq 1) values in zig-zag order, kept in natural order. */
function readQuantTables(
  segment: Uint8Array,
  tables: (Int32Array | undefined)[],
  fail: (problem: string) => never,
): void {
  let at = 0;
  while (at < segment.length) {
    const pq = segment[at]! >> 4;
    const tq = segment[at]! & 15;
    if (pq > 1 || tq > 3) fail(`quantisation table ${tq} of precision ${pq} (0–3, 8 or 16 bits)`);
    const size = pq === 0 ? 64 : 128;
    if (at + 1 + size > segment.length) fail("truncated quantisation table");
    const table = new Int32Array(64);
    for (let k = 0; k < 64; k++) {
      table[ZIGZAG[k]!] =
        pq === 0 ? segment[at + 1 + k]! : (segment[at + 1 + 2 * k]! << 8) | segment[at + 2 + 2 * k]!;
    }
    tables[tq] = table;
    at += 1 + size;
  }
}

function readHuffmanTables(
  segment: Uint8Array,
  dcTables: (HuffmanTable | undefined)[],
  acTables: (HuffmanTable | undefined)[],
  fail: (problem: string) => never,
): void {
  let at = 0;
  while (at < segment.length) {
    const tableClass = segment[at]! >> 4;
    const id = segment[at]! & 15;
    if (tableClass > 1 || id > 3) fail(`Huffman table of class ${tableClass}, id ${id} (class 0–1, id 0–3)`);
    const counts = segment.subarray(at + 1, at + 17);
    const total = counts.reduce((a, b) => a + b, 0);
    const values = segment.slice(at + 17, at + 17 + total);
    if (counts.length < 16 || values.length < total) fail("truncated Huffman table");
    (tableClass === 0 ? dcTables : acTables)[id] = huffmanTable(counts, values, fail);
    at += 17 + total;
  }
}

/** Decodes one sequential scan into the components' planes; returns the position after its entropy-coded data. */
function decodeScan(
  bytes: Uint8Array,
  start: number,
  header: Uint8Array,
  frame: Frame,
  quantTables: (Int32Array | undefined)[],
  dcTables: (HuffmanTable | undefined)[],
  acTables: (HuffmanTable | undefined)[],
  restartInterval: number,
  fail: (problem: string) => never,
): number {
  const count = header[0]!;
  if (count < 1 || count > 4 || header.length < 4 + 2 * count) fail("truncated or empty scan header");
  const members: { component: Component; dc: HuffmanTable; ac: HuffmanTable; quant: Int32Array }[] = [];
  for (let c = 0; c < count; c++) {
    const id = header[1 + 2 * c]!;
    const component =
      frame.components.find((k) => k.id === id) ??
      fail(`scan names component ${id}, which the frame does not have`);
    const dc = dcTables[header[2 + 2 * c]! >> 4] ?? fail(`no DC Huffman table ${header[2 + 2 * c]! >> 4}`);
    const ac = acTables[header[2 + 2 * c]! & 15] ?? fail(`no AC Huffman table ${header[2 + 2 * c]! & 15}`);
    const quant = quantTables[component.tq] ?? fail(`no quantisation table ${component.tq}`);
    members.push({ component, dc, ac, quant });
  }
  const ss = header[1 + 2 * count]!;
  const se = header[2 + 2 * count]!;
  const approximation = header[3 + 2 * count]!;
  if (ss !== 0 || se !== 63 || approximation !== 0) {
    fail(
      `scan of spectral selection ${ss}–${se}, approximation ${approximation >> 4}/${approximation & 15}: not sequential`,
    );
  }
  const blocksPerMcu = members.reduce((sum, m) => sum + m.component.h * m.component.v, 0);
  if (count > 1 && blocksPerMcu > 10) fail(`${blocksPerMcu} blocks per MCU (at most 10)`);
  const reader = new BitReader(bytes, start, fail);
  const idct = new Idct(frame.precision);
  const coefficients = new Int16Array(64);
  for (const m of members) {
    if (m.component.scanned) fail(`component ${m.component.id} is in two scans`);
    m.component.scanned = true;
    m.component.dc = 0;
  }

  const block = (m: (typeof members)[number], row: number, column: number) => {
    coefficients.fill(0);
    // DC difference, then run-length coded AC coefficients (T.81 F.2.2).
    const category = reader.symbol(m.dc);
    if (category > 15) fail(`DC difference category ${category} (0–15)`);
    const c = m.component;
    c.dc += extend(reader.receive(category), category);
    coefficients[0] = c.dc;
    for (let k = 1; k < 64;) {
      const rs = reader.symbol(m.ac);
      const run = rs >> 4;
      const size = rs & 15;
      if (size === 0) {
        if (run !== 15) break; // end of block
        k += 16;
        continue;
      }
      k += run;
      if (k > 63) fail("AC coefficients run past the end of a block");
      coefficients[ZIGZAG[k]!] = extend(reader.receive(size), size);
      k++;
    }
    idct.transform(coefficients, m.quant, c.plane, row * 8 * c.stride + column * 8, c.stride);
  };

  const mcus =
    count === 1
      ? members[0]!.component.blocksPerLine * members[0]!.component.blocksPerColumn
      : frame.mcusPerLine * frame.mcusPerColumn;
  const single = count === 1 ? members[0]! : undefined;
  for (let mcu = 0; mcu < mcus; mcu++) {
    if (restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0) {
      reader.restart();
      for (const m of members) m.component.dc = 0;
    }
    if (single) {
      // Non-interleaved: one block per MCU, over the blocks that hold the component's samples.
      const perLine = single.component.blocksPerLine;
      block(single, Math.floor(mcu / perLine), mcu % perLine);
      continue;
    }
    const mcuRow = Math.floor(mcu / frame.mcusPerLine);
    const mcuColumn = mcu % frame.mcusPerLine;
    for (const m of members) {
      const { h, v } = m.component;
      for (let by = 0; by < v; by++)
        for (let bx = 0; bx < h; bx++) block(m, mcuRow * v + by, mcuColumn * h + bx);
    }
  }
  return reader.end();
}

/** T.81 F.2.2.1 EXTEND: an s-bit magnitude category value → the signed difference. */
function extend(value: number, size: number): number {
  return size === 0 ? 0 : value < 1 << (size - 1) ? value - (1 << size) + 1 : value;
}

const CONST_BITS = 13;
const FIX_0_298631336 = 2446;
const FIX_0_390180644 = 3196;
const FIX_0_541196100 = 4433;
const FIX_0_765366865 = 6270;
const FIX_0_899976223 = 7373;
const FIX_1_175875602 = 9633;
const FIX_1_501321110 = 12299;
const FIX_1_847759065 = 15137;
const FIX_1_961570560 = 16069;
const FIX_2_053119869 = 16819;
const FIX_2_562915447 = 20995;
const FIX_3_072711026 = 25172;

/**
 * libjpeg's jpeg_idct_islow (jidctint.c, IJG 6b) with its range limiting (jdmaster.c prepare_range_limit_table):
 * dequantise, two 1-D passes of the Loeffler–Ligtenberg–Moschytz IDCT in 13-bit fixed point, level shift, clamp.
 */
class Idct {
  private readonly pass1Bits: number;
  private readonly maxSample: number;
  private readonly center: number;
  private readonly workspace = new Int32Array(64);
  private readonly vector = new Float64Array(8);

  constructor(precision: number) {
    this.pass1Bits = precision === 8 ? 2 : 1;
    this.maxSample = (1 << precision) - 1;
    this.center = 1 << (precision - 1);
  }

  /** libjpeg's table lookup `range_limit[x & RANGE_MASK]`, wrap-around of wild values included. */
  private limit(x: number): number {
    const size = this.maxSample + 1;
    const i = x & (4 * size - 1);
    if (i < this.center) return i + this.center;
    if (i < 2 * size) return this.maxSample;
    if (i < 4 * size - this.center) return 0;
    return i - 4 * size + this.center;
  }

  transform(coef: Int16Array, quant: Int32Array, out: Uint16Array, offset: number, stride: number): void {
    const ws = this.workspace;
    const v = this.vector;
    const p1 = this.pass1Bits;
    // Pass 1: columns from the input into the workspace, scaled up by 2^pass1Bits.
    let shift = CONST_BITS - p1;
    let round = 1 << (shift - 1);
    for (let col = 0; col < 8; col++) {
      if (
        coef[8 + col] === 0 &&
        coef[16 + col] === 0 &&
        coef[24 + col] === 0 &&
        coef[32 + col] === 0 &&
        coef[40 + col] === 0 &&
        coef[48 + col] === 0 &&
        coef[56 + col] === 0
      ) {
        const dc = (coef[col]! * quant[col]!) << p1;
        for (let row = 0; row < 8; row++) ws[row * 8 + col] = dc;
        continue;
      }
      for (let k = 0; k < 8; k++) v[k] = coef[k * 8 + col]! * quant[k * 8 + col]!;
      butterfly(v);
      for (let k = 0; k < 8; k++) ws[k * 8 + col] = (v[k]! + round) >> shift;
    }
    // Pass 2: rows from the workspace to the output, descaled by 8 and 2^pass1Bits.
    shift = CONST_BITS + p1 + 3;
    round = 1 << (shift - 1);
    for (let row = 0; row < 8; row++) {
      const w = row * 8;
      const at = offset + row * stride;
      if (
        ws[w + 1] === 0 &&
        ws[w + 2] === 0 &&
        ws[w + 3] === 0 &&
        ws[w + 4] === 0 &&
        ws[w + 5] === 0 &&
        ws[w + 6] === 0 &&
        ws[w + 7] === 0
      ) {
        const dcShift = p1 + 3;
        const value = this.limit((ws[w]! + (1 << (dcShift - 1))) >> dcShift);
        for (let x = 0; x < 8; x++) out[at + x] = value;
        continue;
      }
      for (let k = 0; k < 8; k++) v[k] = ws[w + k]!;
      butterfly(v);
      for (let x = 0; x < 8; x++) out[at + x] = this.limit((v[x]! + round) >> shift);
    }
  }
}

/**
 * One 8-point pass of jidctint.c, in place on `v` (inputs 0–7 → outputs 0–7, scaled by 2^CONST_BITS before
 * DESCALE). Float64 holds every intermediate exactly; the caller's >> truncates to 32 bits as libjpeg's INT32 does.
 */
function butterfly(v: Float64Array): void {
  const i0 = v[0]!;
  const i1 = v[1]!;
  const i2 = v[2]!;
  const i3 = v[3]!;
  const i4 = v[4]!;
  const i5 = v[5]!;
  const i6 = v[6]!;
  const i7 = v[7]!;
  // Even part: the rotator is sqrt(2)·c(-6).
  let z1 = (i2 + i6) * FIX_0_541196100;
  const tmp2e = z1 - i6 * FIX_1_847759065;
  const tmp3e = z1 + i2 * FIX_0_765366865;
  const tmp0e = (i0 + i4) * (1 << CONST_BITS);
  const tmp1e = (i0 - i4) * (1 << CONST_BITS);
  const tmp10 = tmp0e + tmp3e;
  const tmp13 = tmp0e - tmp3e;
  const tmp11 = tmp1e + tmp2e;
  const tmp12 = tmp1e - tmp2e;
  // Odd part (figure 8 of Loeffler et al.).
  z1 = i7 + i1;
  let z2 = i5 + i3;
  let z3 = i7 + i3;
  let z4 = i5 + i1;
  const z5 = (z3 + z4) * FIX_1_175875602;
  let tmp0 = i7 * FIX_0_298631336;
  let tmp1 = i5 * FIX_2_053119869;
  let tmp2 = i3 * FIX_3_072711026;
  let tmp3 = i1 * FIX_1_501321110;
  z1 *= -FIX_0_899976223;
  z2 *= -FIX_2_562915447;
  z3 = z3 * -FIX_1_961570560 + z5;
  z4 = z4 * -FIX_0_390180644 + z5;
  tmp0 += z1 + z3;
  tmp1 += z2 + z4;
  tmp2 += z2 + z3;
  tmp3 += z1 + z4;
  v[0] = tmp10 + tmp3;
  v[7] = tmp10 - tmp3;
  v[1] = tmp11 + tmp2;
  v[6] = tmp11 - tmp2;
  v[2] = tmp12 + tmp1;
  v[5] = tmp12 - tmp1;
  v[3] = tmp13 + tmp0;
  v[4] = tmp13 - tmp0;
}
