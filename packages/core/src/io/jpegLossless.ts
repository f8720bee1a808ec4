/**
 * Lossless JPEG (ITU-T T.81 Annex H, "Process 14": SOF3, Huffman-coded prediction differences) → samples: the
 * compression of DICOM's JPEG Lossless transfer syntaxes (1.2.840.10008.1.2.4.57 any predictor, .70 predictor 1),
 * the commonest compressed syntax of CT and MR exports from a PACS. 2–16-bit precision, one or more components
 * (interleaved or one scan each, no subsampling), predictors 1–7, point transform, restart intervals of whole lines.
 * Arithmetic-coded and hierarchical JPEG are refused by name.
 */
import { DaftInputError } from "../errors.js";
import { walkJpegSegments } from "./jpegMarkers.js";

export interface JpegLosslessImage {
  width: number;
  height: number;
  components: number;
  /** Bits per sample (P). */
  precision: number;
  /** Samples interleaved per pixel, row by row, as unsigned P-bit values (shifted back by the point transform). */
  data: Uint16Array;
}

export interface HuffmanTable {
  maxCode: Int32Array;
  valPtr: Int32Array;
  minCode: Int32Array;
  values: Uint8Array;
}

interface Frame {
  precision: number;
  height: number;
  width: number;
  componentIds: number[];
}

export function decodeJpegLossless(bytes: Uint8Array, source?: string): JpegLosslessImage {
  const fail = (problem: string): never => {
    throw new DaftInputError(`lossless JPEG: ${problem}`, source);
  };
  const tables = new Map<number, HuffmanTable>();
  let frame: Frame | undefined;
  let samples: Uint16Array | undefined;
  let restartInterval = 0;
  walkJpegSegments(bytes, fail, (marker, segment, after) => {
    if (marker === 0xc3) {
      frame = readFrame(segment, fail);
      samples = new Uint16Array(frame.width * frame.height * frame.componentIds.length);
    } else if ((marker & 0xf0) === 0xc0 && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      fail(`SOF${marker - 0xc0} frame: only lossless Huffman JPEG (SOF3) is read`);
    } else if (marker === 0xc4) {
      readHuffmanTables(segment, tables, fail);
    } else if (marker === 0xdd) {
      if (segment.length < 2) fail("truncated DRI segment");
      restartInterval = (segment[0]! << 8) | segment[1]!;
    } else if (marker === 0xda) {
      if (!frame || !samples) fail("scan before the SOF3 frame header");
      return decodeScan(bytes, after, segment, frame!, samples!, tables, restartInterval, fail);
    }
  });
  if (!frame || !samples) fail("no SOF3 frame and no scan");
  return {
    width: frame!.width,
    height: frame!.height,
    components: frame!.componentIds.length,
    precision: frame!.precision,
    data: samples!,
  };
}

function readFrame(segment: Uint8Array, fail: (problem: string) => never): Frame {
  const precision = segment[0]!;
  const height = (segment[1]! << 8) | segment[2]!;
  const width = (segment[3]! << 8) | segment[4]!;
  const count = segment[5]!;
  if (precision < 2 || precision > 16) fail(`sample precision ${precision} (2–16 bits)`);
  if (height === 0) fail("a frame of 0 lines (DNL) is not supported");
  if (width === 0 || count === 0) fail("empty frame");
  const componentIds: number[] = [];
  for (let c = 0; c < count; c++) {
    const id = segment[6 + 3 * c]!;
    const sampling = segment[7 + 3 * c]!;
    if (sampling !== 0x11) fail(`component ${id} is subsampled (${sampling >> 4}×${sampling & 15})`);
    componentIds.push(id);
  }
  return { precision, height, width, componentIds };
}

function readHuffmanTables(
  segment: Uint8Array,
  tables: Map<number, HuffmanTable>,
  fail: (problem: string) => never,
): void {
  let at = 0;
  while (at < segment.length) {
    const id = segment[at]! & 0x0f;
    if (segment[at]! >> 4 !== 0) fail("AC Huffman table in a lossless stream");
    const counts = segment.subarray(at + 1, at + 17);
    const total = counts.reduce((a, b) => a + b, 0);
    const values = segment.slice(at + 17, at + 17 + total);
    if (counts.length < 16 || values.length < total) fail("truncated Huffman table");
    tables.set(id, huffmanTable(counts, values, fail));
    at += 17 + total;
  }
}

/**
 * Canonical codes (T.81 Annex C) from the code counts per length (1–16) and the symbols, decoded with the
 * mincode / maxcode / valptr rule (F.2.2.3).
 */
export function huffmanTable(
  counts: Uint8Array,
  values: Uint8Array,
  fail: (problem: string) => never,
): HuffmanTable {
  const maxCode = new Int32Array(18).fill(-1);
  const minCode = new Int32Array(17);
  const valPtr = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1]!;
    if (n > 0) {
      valPtr[l] = k;
      minCode[l] = code;
      code += n;
      k += n;
      maxCode[l] = code - 1;
      if (code - 1 >= 1 << l) fail(`corrupt Huffman table: too many codes of length ${l}`);
    }
    code <<= 1;
  }
  return { maxCode, valPtr, minCode, values };
}

/** Decodes one scan into `samples`; returns the position after its entropy-coded data. */
function decodeScan(
  bytes: Uint8Array,
  start: number,
  header: Uint8Array,
  frame: Frame,
  samples: Uint16Array,
  tables: Map<number, HuffmanTable>,
  restartInterval: number,
  fail: (problem: string) => never,
): number {
  const count = header[0]!;
  const components: { index: number; table: HuffmanTable }[] = [];
  for (let c = 0; c < count; c++) {
    const id = header[1 + 2 * c]!;
    const index = frame.componentIds.indexOf(id);
    if (index < 0) fail(`scan names component ${id}, which the frame does not have`);
    const table = tables.get(header[2 + 2 * c]! >> 4) ?? fail(`no Huffman table ${header[2 + 2 * c]! >> 4}`);
    components.push({ index, table });
  }
  const predictor = header[1 + 2 * count]!;
  const pointTransform = header[3 + 2 * count]! & 0x0f;
  if (predictor < 1 || predictor > 7) fail(`predictor ${predictor} (1–7)`);
  if (pointTransform >= frame.precision)
    fail(`point transform ${pointTransform} ≥ precision ${frame.precision}`);
  const { width, height } = frame;
  const stride = frame.componentIds.length;
  if (restartInterval > 0 && restartInterval % width !== 0) {
    fail(`restart interval of ${restartInterval} samples is not a whole number of lines (${width})`);
  }
  const linesPerRestart = restartInterval > 0 ? restartInterval / width : Infinity;
  const initial = 1 << (frame.precision - pointTransform - 1);
  const reader = new BitReader(bytes, start, fail);
  // Decoded values before the point transform shift, per component plane.
  const planes = components.map(() => new Int32Array(width * height));
  for (let y = 0; y < height; y++) {
    const restartLine = y % linesPerRestart === 0;
    if (restartLine && y > 0) reader.restart();
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < components.length; c++) {
        const plane = planes[c]!;
        const i = y * width + x;
        let prediction: number;
        if (restartLine) prediction = x === 0 ? initial : plane[i - 1]!;
        else if (x === 0) prediction = plane[i - width]!;
        else {
          const a = plane[i - 1]!;
          const b = plane[i - width]!;
          const cc = plane[i - width - 1]!;
          prediction =
            predictor === 1
              ? a
              : predictor === 2
                ? b
                : predictor === 3
                  ? cc
                  : predictor === 4
                    ? a + b - cc
                    : predictor === 5
                      ? a + ((b - cc) >> 1)
                      : predictor === 6
                        ? b + ((a - cc) >> 1)
                        : (a + b) >> 1;
        }
        plane[i] = (prediction + reader.difference(components[c]!.table)) & 0xffff;
      }
    }
  }
  const mask = (1 << frame.precision) - 1;
  components.forEach(({ index }, c) => {
    const plane = planes[c]!;
    for (let i = 0; i < plane.length; i++) samples[i * stride + index] = (plane[i]! << pointTransform) & mask;
  });
  return reader.end();
}

/** Codes up to this many bits are decoded by one table lookup. */
const LOOKUP_BITS = 9;

/**
 * Entropy-coded bits, with 0xFF00 byte stuffing; stops before a marker. Bits are kept in a 32-bit accumulator,
 * refilled a byte at a time; past a marker (or the end) it reads 1-bits, as T.81 pads.
 */
export class BitReader {
  private acc = 0;
  private accBits = 0;
  private marker = false;
  private readonly lookups = new Map<HuffmanTable, Int32Array>();

  constructor(
    private readonly bytes: Uint8Array,
    private pos: number,
    private readonly fail: (problem: string) => never,
  ) {}

  private fill(): void {
    while (this.accBits <= 24) {
      if (this.marker || this.pos >= this.bytes.length) return;
      const byte = this.bytes[this.pos]!;
      if (byte === 0xff) {
        if (this.bytes[this.pos + 1] !== 0x00) {
          this.marker = true;
          return;
        }
        this.pos += 2;
      } else this.pos++;
      this.acc = ((this.acc << 8) | byte) >>> 0;
      this.accBits += 8;
    }
  }

  private peek(n: number): number {
    if (this.accBits < n) this.fill();
    if (this.accBits >= n) return (this.acc >>> (this.accBits - n)) & ((1 << n) - 1);
    const missing = n - this.accBits;
    const have = this.accBits > 0 ? this.acc & ((1 << this.accBits) - 1) : 0;
    return ((have << missing) | ((1 << missing) - 1)) >>> 0;
  }

  private consume(n: number): void {
    this.accBits = Math.max(0, this.accBits - n);
  }

  /** For each LOOKUP_BITS-bit prefix: (code length << 8) | symbol, or -1 when the code is longer. */
  private lookup(table: HuffmanTable): Int32Array {
    let lut = this.lookups.get(table);
    if (lut) return lut;
    lut = new Int32Array(1 << LOOKUP_BITS).fill(-1);
    for (let length = 1; length <= LOOKUP_BITS; length++) {
      for (let code = table.minCode[length]!; code <= table.maxCode[length]!; code++) {
        const symbol = table.values[table.valPtr[length]! + code - table.minCode[length]!]!;
        const shift = LOOKUP_BITS - length;
        for (let fillBits = 0; fillBits < 1 << shift; fillBits++)
          lut[(code << shift) | fillBits] = (length << 8) | symbol;
      }
    }
    this.lookups.set(table, lut);
    return lut;
  }

  /** One Huffman-coded symbol. */
  symbol(table: HuffmanTable): number {
    const entry = this.lookup(table)[this.peek(LOOKUP_BITS)]!;
    if (entry >= 0) {
      this.consume(entry >> 8);
      return entry & 0xff;
    }
    let code = this.peek(1);
    this.consume(1);
    let length = 1;
    while (code > table.maxCode[length]!) {
      code = (code << 1) | this.peek(1);
      this.consume(1);
      if (++length > 16) this.fail("corrupt Huffman code in the scan");
    }
    return table.values[table.valPtr[length]! + code - table.minCode[length]!]!;
  }

  /** The next `n` bits (0–16) as an unsigned number. */
  receive(n: number): number {
    if (n === 0) return 0;
    const bits = this.peek(n);
    this.consume(n);
    return bits;
  }

  /** One Huffman-coded difference (T.81 H.1.2.2: category 16 means 32768 with no extra bits). */
  difference(table: HuffmanTable): number {
    const category = this.symbol(table);
    if (category === 0) return 0;
    if (category === 16) return 32768;
    if (category > 16) this.fail(`difference category ${category} (0–16)`);
    const extra = this.receive(category);
    return extra < 1 << (category - 1) ? extra - (1 << category) + 1 : extra;
  }

  /** At a restart marker: drop the bits left of the interval and step over RSTn. */
  restart(): void {
    this.acc = 0;
    this.accBits = 0;
    this.marker = false;
    while (this.pos < this.bytes.length && this.bytes[this.pos] === 0xff && this.bytes[this.pos + 1] === 0xff)
      this.pos++;
    const marker = this.bytes[this.pos + 1];
    if (this.bytes[this.pos] !== 0xff || marker === undefined || marker < 0xd0 || marker > 0xd7) {
      this.fail(`expected a restart marker at byte ${this.pos}`);
    }
    this.pos += 2;
  }

  /** Position of the marker that ends the scan. */
  end(): number {
    while (this.pos < this.bytes.length) {
      if (this.bytes[this.pos] === 0xff && this.bytes[this.pos + 1] !== 0x00) return this.pos;
      this.pos++;
    }
    return this.pos;
  }
}
