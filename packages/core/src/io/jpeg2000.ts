/**
 * JPEG 2000 Part 1 (ISO/IEC 15444-1) → samples, for DICOM's JPEG 2000 transfer syntaxes (1.2.840.10008.1.2.4.90
 * lossless only, .91 lossless or lossy), and High-Throughput JPEG 2000 (Part 15, HTJ2K: 1.2.840.10008.1.2.4.201,
 * .202, .203), the same codestream with HT code-blocks. A raw codestream (SOC FF4F) or one inside a JP2 file (its
 * jp2c box).
 *
 * Read: any number of components of 1–16 bits, signed or unsigned, without subsampling; image and tile offsets,
 * any number of tiles and tile-parts; COD/COC, QCD/QCC (no quantisation, scalar derived, scalar expounded; guard
 * bits); every progression order (LRCP, RLCP, RPCL, PCRL, CPRL); default and explicit precincts; any code-block
 * size; the code-block styles selective arithmetic bypass, context reset, termination on each pass, vertically
 * causal contexts, predictable termination and segmentation symbols; SOP and EPH markers. Tier-2 packet headers
 * (tag trees, inclusion, zero bit-planes, passes, Lblock), tier-1 EBCOT with the MQ decoder, dequantisation, the
 * inverse reversible 5/3 (integer, exact) and irreversible 9/7 wavelets, the inverse RCT and ICT, the DC level
 * shift and clamping to the sample range. A codestream cut within its code-block data decodes what is there (as
 * JPEG 2000 allows); one cut within its headers is an error. HTJ2K: the CAP marker segment, HT code-blocks (code-
 * block style 0x40; jpeg2000Ht.ts) with their cleanup pass and the optional SigProp and MagRef passes, the cleanup
 * pass in a codeword segment of its own and the two refinement passes in the next.
 *
 * Refused by name: component subsampling, progression order changes (POC), regions of interest (RGN), packed packet
 * headers (PPM/PPT), mixed HT and Part 1 code-blocks (HTMIXED), HT code-blocks with placeholder passes or more
 * than one HT set, Part 2 wavelets and component transforms, more than 16 bits. TLM, PLM, PLT, CRG and COM segments
 * are skipped. Every problem is a one-line DaftInputError.
 */
import { DaftInputError } from "../errors.js";
import { HtBlockDecoder, HtProblem } from "./jpeg2000Ht.js";

export interface Jpeg2000Image {
  width: number;
  height: number;
  components: number;
  /** Bits per sample (every component has the same). */
  precision: number;
  signed: boolean;
  /** Samples interleaved per pixel, row by row (width × height × components). */
  data: Int32Array;
}

/** A problem in the codestream; decodeJpeg2000 turns it into a DaftInputError naming the source. */
class Problem extends Error {}

function bad(problem: string): never {
  throw new Problem(problem);
}

/** The tile's data ended within a packet: the packets read so far are decoded (a truncated codestream). */
const END_OF_DATA = new Problem("end of data");

export function decodeJpeg2000(bytes: Uint8Array, source?: string): Jpeg2000Image {
  try {
    return decodeCodestream(codestreamOf(bytes));
  } catch (error) {
    if (error instanceof Problem || error instanceof HtProblem)
      throw new DaftInputError(`JPEG 2000: ${error.message}`, source);
    // Sizes are checked before allocating; this only turns an allocation the machine cannot make into an input error.
    if (error instanceof RangeError)
      throw new DaftInputError(`JPEG 2000: corrupt codestream (${error.message})`, source);
    throw error;
  }
}

const u16 = (b: Uint8Array, p: number) => (b[p]! << 8) | b[p + 1]!;
const u32 = (b: Uint8Array, p: number) =>
  ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;

/** The codestream: the bytes themselves, or the contents of a JP2 file's jp2c box. */
function codestreamOf(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= 12 && u32(bytes, 0) === 12 && u32(bytes, 4) === 0x6a502020) {
    let pos = 0;
    while (pos + 8 <= bytes.length) {
      let length = u32(bytes, pos);
      const type = u32(bytes, pos + 4);
      let header = 8;
      if (length === 1) {
        if (pos + 16 > bytes.length) break;
        length = u32(bytes, pos + 8) * 2 ** 32 + u32(bytes, pos + 12);
        header = 16;
      } else if (length === 0) {
        length = bytes.length - pos;
      }
      if (length < header) bad(`JP2 box at byte ${pos} has an invalid length ${length}`);
      if (type === 0x6a703263) return bytes.subarray(pos + header, Math.min(pos + length, bytes.length));
      pos += length;
    }
    bad("JP2 file without a codestream (jp2c) box");
  }
  return bytes;
}

// Markers.
const SOC = 0xff4f;
const CAP = 0xff50;
const SIZ = 0xff51;
const COD = 0xff52;
const COC = 0xff53;
const QCD = 0xff5c;
const QCC = 0xff5d;
const RGN = 0xff5e;
const POC = 0xff5f;
const PPM = 0xff60;
const PPT = 0xff61;
const SOT = 0xff90;
const SOD = 0xff93;
const EOC = 0xffd9;

const MARKER_NAMES: Record<number, string> = {
  [SOC]: "SOC",
  [CAP]: "CAP",
  [SIZ]: "SIZ",
  [COD]: "COD",
  [COC]: "COC",
  0xff55: "TLM",
  0xff57: "PLM",
  0xff58: "PLT",
  0xff59: "CPF",
  [QCD]: "QCD",
  [QCC]: "QCC",
  [RGN]: "RGN",
  [POC]: "POC",
  [PPM]: "PPM",
  [PPT]: "PPT",
  0xff63: "CRG",
  0xff64: "COM",
  [SOT]: "SOT",
  [SOD]: "SOD",
  [EOC]: "EOC",
};
const hex = (m: number) => m.toString(16).toUpperCase().padStart(4, "0");
const markerName = (m: number) => MARKER_NAMES[m] ?? `marker ${hex(m)}`;

/** Bounds-checked reading of one marker segment's parameters. */
class SegmentReader {
  pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly name: string,
  ) {}
  get left(): number {
    return this.bytes.length - this.pos;
  }
  private need(n: number): void {
    if (this.pos + n > this.bytes.length) bad(`marker segment ${this.name} is too short`);
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    this.pos += 2;
    return u16(this.bytes, this.pos - 2);
  }
  u32(): number {
    this.need(4);
    this.pos += 4;
    return u32(this.bytes, this.pos - 4);
  }
}

interface Siz {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  tileWidth: number;
  tileHeight: number;
  tileX0: number;
  tileY0: number;
  tilesX: number;
  tilesY: number;
  precision: number[];
  signed: boolean[];
}

interface CodingStyle {
  levels: number;
  /** Code-block width and height exponents. */
  xcb: number;
  ycb: number;
  blockStyle: number;
  reversible: boolean;
  /** Per resolution level, PPx in the low nibble and PPy in the high one; null: 2^15 × 2^15. */
  precincts: Uint8Array | null;
}

interface Cod {
  /** Scod: bit 1 SOP markers may be used, bit 2 EPH markers are used. */
  flags: number;
  progression: number;
  layers: number;
  mct: number;
  style: CodingStyle;
}

interface Quant {
  /** 0 no quantisation, 1 scalar derived, 2 scalar expounded. */
  style: number;
  guard: number;
  exponents: number[];
  mantissas: number[];
}

/** Coding and quantisation defaults of the main header or of one tile. */
interface Defaults {
  cod?: Cod;
  coc: (CodingStyle | undefined)[];
  qcd?: Quant;
  qcc: (Quant | undefined)[];
}

// Code-block style bits (COD/COC SPcod).
const BYPASS = 1;
const RESET = 2;
const TERMINATE_ALL = 4;
const CAUSAL = 8;
const SEGMENTATION_SYMBOLS = 0x20;
/** High-Throughput (ISO/IEC 15444-15) code-blocks: the FBCOT block coder of jpeg2000Ht.ts. */
const HT = 0x40;

function readSiz(s: SegmentReader): Siz {
  s.u16(); // Rsiz: capabilities
  const x1 = s.u32();
  const y1 = s.u32();
  const x0 = s.u32();
  const y0 = s.u32();
  const tileWidth = s.u32();
  const tileHeight = s.u32();
  const tileX0 = s.u32();
  const tileY0 = s.u32();
  const count = s.u16();
  if (x1 <= x0 || y1 <= y0) bad(`SIZ: empty image area (${x0}…${x1} × ${y0}…${y1})`);
  if (tileWidth === 0 || tileHeight === 0) bad("SIZ: zero tile size");
  if (tileX0 > x0 || tileY0 > y0 || tileX0 + tileWidth <= x0 || tileY0 + tileHeight <= y0)
    bad("SIZ: the first tile does not cover the image origin");
  if (count === 0 || count > 16384) bad(`SIZ: ${count} components`);
  const precision: number[] = [];
  const signed: boolean[] = [];
  for (let c = 0; c < count; c++) {
    const ssiz = s.u8();
    const dx = s.u8();
    const dy = s.u8();
    precision.push((ssiz & 0x7f) + 1);
    signed.push((ssiz & 0x80) !== 0);
    if (dx !== 1 || dy !== 1) {
      bad(`component ${c} is subsampled ${dx}×${dy}: component subsampling is not supported`);
    }
  }
  if (precision.some((p) => p > 16))
    bad(`${Math.max(...precision)}-bit samples: up to 16 bits are supported`);
  const tilesX = Math.ceil((x1 - tileX0) / tileWidth);
  const tilesY = Math.ceil((y1 - tileY0) / tileHeight);
  if (tilesX * tilesY > 65535) bad(`SIZ: ${tilesX}×${tilesY} tiles (at most 65535)`);
  return { x0, y0, x1, y1, tileWidth, tileHeight, tileX0, tileY0, tilesX, tilesY, precision, signed };
}

function readCodingStyle(s: SegmentReader, explicitPrecincts: boolean): CodingStyle {
  const levels = s.u8();
  const xcb = (s.u8() & 0x0f) + 2;
  const ycb = (s.u8() & 0x0f) + 2;
  const blockStyle = s.u8();
  const transform = s.u8();
  if (levels > 32) bad(`${levels} decomposition levels (at most 32)`);
  if (xcb > 10 || ycb > 10 || xcb + ycb > 12) bad(`code-block size 2^${xcb}×2^${ycb} is not allowed`);
  if (blockStyle & 0x80) {
    bad(
      blockStyle & HT
        ? "mixed HT and Part 1 code-blocks (HTMIXED) are not supported"
        : `code-block style 0x${blockStyle.toString(16)} is not supported`,
    );
  }
  if (transform > 1) bad(`wavelet transform ${transform} (Part 2 arbitrary kernels) is not supported`);
  let precincts: Uint8Array | null = null;
  if (explicitPrecincts) {
    precincts = new Uint8Array(levels + 1);
    for (let r = 0; r <= levels; r++) precincts[r] = s.u8();
  }
  return { levels, xcb, ycb, blockStyle, reversible: transform === 1, precincts };
}

function readCod(s: SegmentReader): Cod {
  const flags = s.u8();
  const progression = s.u8();
  const layers = s.u16();
  const mct = s.u8();
  if (progression > 4) bad(`unknown progression order ${progression}`);
  if (layers === 0) bad("COD: zero quality layers");
  if (mct > 1) bad(`multiple-component transform ${mct} (Part 2) is not supported`);
  return { flags, progression, layers, mct, style: readCodingStyle(s, (flags & 1) !== 0) };
}

function readQuant(s: SegmentReader): Quant {
  const sq = s.u8();
  const style = sq & 0x1f;
  const exponents: number[] = [];
  const mantissas: number[] = [];
  if (style === 0) {
    while (s.left > 0) {
      exponents.push(s.u8() >> 3);
      mantissas.push(0);
    }
  } else if (style === 1 || style === 2) {
    while (s.left >= 2) {
      const v = s.u16();
      exponents.push(v >> 11);
      mantissas.push(v & 0x7ff);
    }
  } else {
    bad(`unknown quantisation style ${style}`);
  }
  if (exponents.length === 0) bad("quantisation segment without step sizes");
  return { style, guard: sq >> 5, exponents, mantissas };
}

function componentIndex(s: SegmentReader, count: number): number {
  const c = count < 257 ? s.u8() : s.u16();
  if (c >= count) bad(`marker segment for component ${c}, but the image has ${count}`);
  return c;
}

/** Applies a COD/COC/QCD/QCC segment (main or tile-part header); refuses unsupported ones by name. */
function applySegment(target: Defaults, marker: number, s: SegmentReader, count: number): void {
  switch (marker) {
    case COD:
      target.cod = readCod(s);
      break;
    case COC: {
      const c = componentIndex(s, count);
      const scoc = s.u8();
      target.coc[c] = readCodingStyle(s, (scoc & 1) !== 0);
      break;
    }
    case QCD:
      target.qcd = readQuant(s);
      break;
    case QCC: {
      const c = componentIndex(s, count);
      target.qcc[c] = readQuant(s);
      break;
    }
    case RGN:
      bad("region of interest (RGN) coding is not supported");
    case POC:
      bad("progression order changes (POC) are not supported");
    case PPM:
    case PPT:
      bad(`packed packet headers (${markerName(marker)}) are not supported`);
    case CAP:
      // Extended capabilities (Part 15: HTJ2K); what they announce is read from COD/COC.
      break;
    case SIZ:
      bad("a second SIZ marker segment");
    default:
    // TLM, PLM, PLT, CRG, COM and unknown segments are skipped.
  }
}

interface TileState {
  defaults: Defaults;
  /** Start and end (within the codestream) of each tile-part's data. */
  parts: number[];
}

function decodeCodestream(cs: Uint8Array): Jpeg2000Image {
  if (cs.length < 2 || u16(cs, 0) !== SOC) bad("no SOC marker (FF4F): not a JPEG 2000 codestream");
  let pos = 2;
  let siz: Siz | undefined;
  const main: Defaults = { coc: [], qcc: [] };
  // The main header: marker segments up to the first SOT.
  for (;;) {
    if (pos + 2 > cs.length) bad("truncated: the main header ends before the first tile-part (SOT)");
    const marker = u16(cs, pos);
    if (marker === SOT) break;
    if (marker >>> 8 !== 0xff || marker < 0xff30)
      bad(`expected a marker at byte ${pos} of the main header, found 0x${hex(marker)}`);
    if (pos + 4 > cs.length) bad(`truncated: marker segment ${markerName(marker)} at byte ${pos}`);
    const length = u16(cs, pos + 2);
    if (length < 2) bad(`marker segment ${markerName(marker)} has an invalid length ${length}`);
    if (pos + 2 + length > cs.length)
      bad(`truncated: marker segment ${markerName(marker)} at byte ${pos} runs past the end`);
    const s = new SegmentReader(cs.subarray(pos + 4, pos + 2 + length), markerName(marker));
    if (!siz) {
      if (marker !== SIZ) bad(`the main header starts with ${markerName(marker)}, not SIZ`);
      siz = readSiz(s);
    } else {
      applySegment(main, marker, s, siz.precision.length);
    }
    pos += 2 + length;
  }
  if (!siz) bad("no SIZ marker segment");
  if (!main.cod) bad("the main header has no COD marker segment");
  if (!main.qcd) bad("the main header has no QCD marker segment");
  const count = siz.precision.length;
  const tileCount = siz.tilesX * siz.tilesY;
  const tiles: TileState[] = Array.from({ length: tileCount }, () => ({
    defaults: { coc: [], qcc: [] },
    parts: [],
  }));
  // Tile-parts: SOT, tile-part header, SOD, data; up to EOC (or the end: a truncated codestream).
  while (pos + 2 <= cs.length) {
    const marker = u16(cs, pos);
    if (marker === EOC) break;
    if (marker !== SOT) bad(`expected SOT or EOC at byte ${pos}, found 0x${hex(marker)}`);
    if (pos + 12 > cs.length) bad(`truncated: tile-part header at byte ${pos}`);
    if (u16(cs, pos + 2) !== 10) bad(`SOT at byte ${pos} has an invalid length ${u16(cs, pos + 2)}`);
    const index = u16(cs, pos + 4);
    const psot = u32(cs, pos + 6);
    if (index >= tileCount) bad(`tile-part of tile ${index}, but the image has ${tileCount} tiles`);
    const tile = tiles[index]!;
    let p = pos + 12;
    for (;;) {
      if (p + 2 > cs.length) bad(`truncated: tile-part header of tile ${index} has no SOD`);
      const m = u16(cs, p);
      if (m === SOD) {
        p += 2;
        break;
      }
      if (m >>> 8 !== 0xff || m < 0xff30)
        bad(`expected a marker at byte ${p} of a tile-part header, found 0x${hex(m)}`);
      if (p + 4 > cs.length) bad(`truncated: tile-part header of tile ${index}`);
      const length = u16(cs, p + 2);
      if (length < 2) bad(`marker segment ${markerName(m)} has an invalid length ${length}`);
      if (p + 2 + length > cs.length) bad(`truncated: tile-part header of tile ${index}`);
      applySegment(
        tile.defaults,
        m,
        new SegmentReader(cs.subarray(p + 4, p + 2 + length), markerName(m)),
        count,
      );
      p += 2 + length;
    }
    let end = psot === 0 ? cs.length : pos + psot;
    if (psot === 0 && end >= 2 && u16(cs, end - 2) === EOC) end -= 2;
    if (end < p) bad(`tile-part at byte ${pos}: its length ${psot} is shorter than its header`);
    tile.parts.push(p, Math.min(end, cs.length));
    if (end >= cs.length) break;
    pos = end;
  }
  const width = siz.x1 - siz.x0;
  const height = siz.y1 - siz.y0;
  if (width * height * count > 2 ** 26) bad(`image of ${width}×${height}×${count} samples is too large`);
  tiles.forEach((tile, t) => {
    if (tile.parts.length === 0) bad(`tile ${t} of ${tileCount} has no data: the codestream is incomplete`);
  });
  const precision = siz.precision[0]!;
  const signed = siz.signed[0]!;
  if (siz.precision.some((p) => p !== precision) || siz.signed.some((s) => s !== signed))
    bad("components of different precision or signedness");
  const image: Jpeg2000Image = {
    width,
    height,
    components: count,
    precision,
    signed,
    data: new Int32Array(width * height * count),
  };
  const tier1 = new Tier1();
  tiles.forEach((tile, t) => decodeTile(cs, siz, main, tile, t, image, tier1));
  return image;
}

// — Tier 2: packets —

interface Band {
  /** 0 LL, 1 HL, 2 LH, 3 HH. */
  type: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Where the band lies in the tile-component's coefficient array (Mallat layout). */
  ox: number;
  oy: number;
  /** Mb: the number of magnitude bit-planes. */
  bitPlanes: number;
  step: number;
}

interface CodeBlock {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  included: boolean;
  lblock: number;
  zeroPlanes: number;
  passes: number;
  /** Codeword segments, three numbers each: passes, the most passes it may hold, bytes. */
  segments: number[];
  /** The code-block's data in the tile's bytes: start, end pairs in order. */
  chunks: number[];
}

interface PrecinctBand {
  band: Band;
  cols: number;
  blocks: CodeBlock[];
  inclusion: TagTree;
  zeroPlanes: TagTree;
}

interface Precinct {
  bands: PrecinctBand[];
  /** Where position-driven progressions meet the precinct on the reference grid. */
  ex: number;
  ey: number;
}

interface Resolution {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  bands: Band[];
  precincts: Precinct[];
}

interface TileComponent {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  style: CodingStyle;
  resolutions: Resolution[];
}

class TagTree {
  private readonly value: Int32Array;
  private readonly low: Int32Array;
  private readonly offsets: number[] = [];
  private readonly widths: number[] = [];

  constructor(width: number, height: number) {
    let size = 0;
    let w = width;
    let h = height;
    for (;;) {
      this.offsets.push(size);
      this.widths.push(w);
      size += w * h;
      if (w === 1 && h === 1) break;
      w = (w + 1) >> 1;
      h = (h + 1) >> 1;
    }
    this.value = new Int32Array(size).fill(0x7fffffff);
    this.low = new Int32Array(size);
  }

  /** Decodes bits until it is known whether the leaf's value is below `threshold`; returns that. */
  below(bits: HeaderBits, x: number, y: number, threshold: number): boolean {
    let low = 0;
    let node = 0;
    for (let k = this.offsets.length - 1; k >= 0; k--) {
      node = this.offsets[k]! + (y >> k) * this.widths[k]! + (x >> k);
      if (low > this.low[node]!) this.low[node] = low;
      else low = this.low[node]!;
      while (low < threshold && low < this.value[node]!) {
        if (bits.bit()) this.value[node] = low;
        else low++;
      }
      this.low[node] = low;
    }
    return this.value[node]! < threshold;
  }

  /** The leaf's value, decoding as many bits as it takes. */
  valueOf(bits: HeaderBits, x: number, y: number): number {
    let threshold = 1;
    while (!this.below(bits, x, y, threshold)) {
      if (++threshold > 64) bad("corrupt packet header: a tag tree value above 63");
    }
    return threshold - 1;
  }
}

/** Packet header bits: MSB first, a 0 bit stuffed after every FF byte. */
class HeaderBits {
  pos = 0;
  private byte = 0;
  private count = 0;
  constructor(
    private readonly data: Uint8Array,
    private readonly end: number,
  ) {}
  start(pos: number): void {
    this.pos = pos;
    this.byte = 0;
    this.count = 0;
  }
  bit(): number {
    if (this.count === 0) {
      if (this.pos >= this.end) throw END_OF_DATA;
      this.count = this.byte === 0xff ? 7 : 8;
      this.byte = this.data[this.pos++]!;
    }
    return (this.byte >> --this.count) & 1;
  }
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }
  /** Ends the header: the rest of the byte, and the byte after a final FF, are skipped. */
  align(): number {
    if (this.byte === 0xff) this.pos++;
    this.byte = 0;
    this.count = 0;
    return this.pos;
  }
}

function passCount(bits: HeaderBits): number {
  if (!bits.bit()) return 1;
  if (!bits.bit()) return 2;
  const two = bits.bits(2);
  if (two < 3) return 3 + two;
  const five = bits.bits(5);
  if (five < 31) return 6 + five;
  return 37 + bits.bits(7);
}

/** The most passes the codeword segment that starts at pass `first` may hold (D.4.1, Table D.9). */
function segmentCapacity(blockStyle: number, first: number): number {
  // HT: a set of three passes, the cleanup pass in a segment of its own, SigProp and MagRef in the next.
  if (blockStyle & HT) return first % 3 === 0 ? 1 : 3 - (first % 3);
  if (blockStyle & TERMINATE_ALL) return 1;
  if (blockStyle & BYPASS) {
    if (first < 10) return 10 - first;
    return (first - 10) % 3 === 0 ? 2 : 1;
  }
  return 0x7fffffff;
}

function quantOf(
  quant: Quant,
  r: number,
  type: number,
  precision: number,
): { bitPlanes: number; step: number } {
  const index = r === 0 ? 0 : 3 * (r - 1) + type;
  let exponent: number;
  let mantissa: number;
  if (quant.style === 1) {
    exponent = Math.max(0, quant.exponents[0]! - (r === 0 ? 0 : r - 1));
    mantissa = quant.mantissas[0]!;
  } else {
    if (index >= quant.exponents.length)
      bad(`the quantisation segment has ${quant.exponents.length} step sizes, sub-band ${index} needs one`);
    exponent = quant.exponents[index]!;
    mantissa = quant.mantissas[index]!;
  }
  const bitPlanes = quant.guard + exponent - 1;
  if (bitPlanes > 30) bad(`sub-band with ${bitPlanes} bit-planes (at most 30)`);
  const gain = type === 0 ? 0 : type === 3 ? 2 : 1;
  const step = quant.style === 0 ? 1 : 2 ** (precision + gain - exponent) * (1 + mantissa / 2048);
  return { bitPlanes, step };
}

const NO_DATA: readonly number[] = Object.freeze([]);

function buildComponent(
  tx0: number,
  ty0: number,
  tx1: number,
  ty1: number,
  style: CodingStyle,
  quant: Quant,
  precision: number,
  budget: { blocks: number },
): TileComponent {
  const levels = style.levels;
  const resolutions: Resolution[] = [];
  for (let r = 0; r <= levels; r++) {
    const k = levels - r;
    const scale = 2 ** k;
    const x0 = Math.ceil(tx0 / scale);
    const y0 = Math.ceil(ty0 / scale);
    const x1 = Math.ceil(tx1 / scale);
    const y1 = Math.ceil(ty1 / scale);
    const bands: Band[] = [];
    if (r === 0) {
      bands.push({ type: 0, x0, y0, x1, y1, ox: 0, oy: 0, ...quantOf(quant, 0, 0, precision) });
    } else {
      const prev = resolutions[r - 1]!;
      const s = 2 ** (k + 1);
      for (let type = 1; type <= 3; type++) {
        const xo = (type & 1) * scale;
        const yo = (type >> 1) * scale;
        bands.push({
          type,
          x0: Math.ceil((tx0 - xo) / s),
          y0: Math.ceil((ty0 - yo) / s),
          x1: Math.ceil((tx1 - xo) / s),
          y1: Math.ceil((ty1 - yo) / s),
          ox: type & 1 ? prev.x1 - prev.x0 : 0,
          oy: type >> 1 ? prev.y1 - prev.y0 : 0,
          ...quantOf(quant, r, type, precision),
        });
      }
    }
    const ppx = style.precincts ? style.precincts[r]! & 15 : 15;
    const ppy = style.precincts ? style.precincts[r]! >> 4 : 15;
    if (r > 0 && (ppx === 0 || ppy === 0)) bad("precincts of size 1 above the lowest resolution");
    const bandShiftX = r > 0 ? ppx - 1 : ppx;
    const bandShiftY = r > 0 ? ppy - 1 : ppy;
    const xcb = Math.min(style.xcb, bandShiftX);
    const ycb = Math.min(style.ycb, bandShiftY);
    const firstPx = Math.floor(x0 / 2 ** ppx);
    const firstPy = Math.floor(y0 / 2 ** ppy);
    const nx = x1 > x0 && y1 > y0 ? Math.ceil(x1 / 2 ** ppx) - firstPx : 0;
    const ny = x1 > x0 && y1 > y0 ? Math.ceil(y1 / 2 ** ppy) - firstPy : 0;
    budget.blocks -= nx * ny;
    if (budget.blocks < 0) bad("too many precincts and code-blocks in a tile");
    const precincts: Precinct[] = [];
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const px = firstPx + i;
        const py = firstPy + j;
        const pbands = bands.map((band): PrecinctBand => {
          const bx0 = Math.max(band.x0, px * 2 ** bandShiftX);
          const bx1 = Math.min(band.x1, (px + 1) * 2 ** bandShiftX);
          const by0 = Math.max(band.y0, py * 2 ** bandShiftY);
          const by1 = Math.min(band.y1, (py + 1) * 2 ** bandShiftY);
          const blocks: CodeBlock[] = [];
          let cols = 0;
          let rows = 0;
          if (bx1 > bx0 && by1 > by0) {
            const cx0 = Math.floor(bx0 / 2 ** xcb);
            const cy0 = Math.floor(by0 / 2 ** ycb);
            cols = Math.ceil(bx1 / 2 ** xcb) - cx0;
            rows = Math.ceil(by1 / 2 ** ycb) - cy0;
            budget.blocks -= cols * rows;
            if (budget.blocks < 0) bad("too many precincts and code-blocks in a tile");
            for (let v = 0; v < rows; v++) {
              for (let u = 0; u < cols; u++) {
                blocks.push({
                  x0: Math.max(bx0, (cx0 + u) * 2 ** xcb),
                  y0: Math.max(by0, (cy0 + v) * 2 ** ycb),
                  x1: Math.min(bx1, (cx0 + u + 1) * 2 ** xcb),
                  y1: Math.min(by1, (cy0 + v + 1) * 2 ** ycb),
                  included: false,
                  lblock: 3,
                  zeroPlanes: 0,
                  passes: 0,
                  // Arrays of their own once included.
                  segments: NO_DATA as number[],
                  chunks: NO_DATA as number[],
                });
              }
            }
          }
          return {
            band,
            cols,
            blocks,
            inclusion: new TagTree(Math.max(cols, 1), Math.max(rows, 1)),
            zeroPlanes: new TagTree(Math.max(cols, 1), Math.max(rows, 1)),
          };
        });
        precincts.push({
          bands: pbands,
          ex: i === 0 && x0 % 2 ** ppx !== 0 ? tx0 : px * 2 ** (ppx + k),
          ey: j === 0 && y0 % 2 ** ppy !== 0 ? ty0 : py * 2 ** (ppy + k),
        });
      }
    }
    resolutions.push({ x0, y0, x1, y1, bands, precincts });
  }
  return { x0: tx0, y0: ty0, x1: tx1, y1: ty1, style, resolutions };
}

/** Calls visit(component, resolution, precinct, layer) in the progression order until it returns false. */
function forEachPacket(
  comps: TileComponent[],
  cod: Cod,
  visit: (c: number, r: number, p: number, l: number) => boolean,
): void {
  const layers = cod.layers;
  const maxRes = Math.max(...comps.map((c) => c.resolutions.length));
  const precinctsOf = (c: number, r: number) => comps[c]!.resolutions[r]?.precincts.length ?? 0;
  interface Entry {
    c: number;
    r: number;
    p: number;
    ey: number;
    ex: number;
  }
  const entries = (cs: number[], rs: number[]): Entry[] => {
    const list: Entry[] = [];
    for (const c of cs) {
      for (const r of rs) {
        comps[c]!.resolutions[r]?.precincts.forEach((pr, p) => list.push({ c, r, p, ey: pr.ey, ex: pr.ex }));
      }
    }
    return list;
  };
  const byPosition = (a: Entry, b: Entry) => a.ey - b.ey || a.ex - b.ex || a.c - b.c || a.r - b.r;
  const byPositionResolutionFirst = (a: Entry, b: Entry) => a.ey - b.ey || a.ex - b.ex || a.r - b.r;
  const allLayers = (list: Entry[]): boolean => {
    for (const e of list) for (let l = 0; l < layers; l++) if (!visit(e.c, e.r, e.p, l)) return false;
    return true;
  };
  const compIndices = comps.map((_, c) => c);
  const resIndices = Array.from({ length: maxRes }, (_, r) => r);
  switch (cod.progression) {
    case 0: // LRCP
      for (let l = 0; l < layers; l++)
        for (let r = 0; r < maxRes; r++)
          for (let c = 0; c < comps.length; c++)
            for (let p = 0, n = precinctsOf(c, r); p < n; p++) if (!visit(c, r, p, l)) return;
      return;
    case 1: // RLCP
      for (let r = 0; r < maxRes; r++)
        for (let l = 0; l < layers; l++)
          for (let c = 0; c < comps.length; c++)
            for (let p = 0, n = precinctsOf(c, r); p < n; p++) if (!visit(c, r, p, l)) return;
      return;
    case 2: // RPCL
      for (let r = 0; r < maxRes; r++) if (!allLayers(entries(compIndices, [r]).sort(byPosition))) return;
      return;
    case 3: // PCRL
      allLayers(entries(compIndices, resIndices).sort(byPosition));
      return;
    default: // CPRL
      for (let c = 0; c < comps.length; c++)
        if (!allLayers(entries([c], resIndices).sort(byPositionResolutionFirst))) return;
  }
}

interface Contribution {
  block: CodeBlock;
  passes: number;
  length: number;
  newSegment: boolean;
  capacity: number;
}

/**
 * Reads one packet at bits.pos: its header, then its code-blocks' bytes. Returns false when the data ends within
 * it (a truncated codestream: what arrived is kept).
 */
function readPacket(
  data: Uint8Array,
  end: number,
  bits: HeaderBits,
  precinct: Precinct,
  layer: number,
  cod: Cod,
  blockStyle: number,
): boolean {
  let pos = bits.pos;
  if (cod.flags & 2 && pos + 6 <= end && data[pos] === 0xff && data[pos + 1] === 0x91) pos += 6;
  bits.start(pos);
  const contributions: Contribution[] = [];
  try {
    if (bits.bit()) {
      for (const pb of precinct.bands) {
        const blocks = pb.blocks;
        for (let i = 0; i < blocks.length; i++) {
          const block = blocks[i]!;
          const x = i % pb.cols;
          const y = (i - x) / pb.cols;
          if (!block.included) {
            if (!pb.inclusion.below(bits, x, y, layer + 1)) continue;
            block.zeroPlanes = pb.zeroPlanes.valueOf(bits, x, y);
            block.included = true;
            block.segments = [];
            block.chunks = [];
          } else if (!bits.bit()) {
            continue;
          }
          let remaining = passCount(bits);
          if (blockStyle & HT && block.passes + remaining > 3) {
            bad(
              `an HT code-block with ${block.passes + remaining} coding passes: placeholder passes and ` +
                "more than one HT set are not supported",
            );
          }
          while (bits.bit()) if (++block.lblock > 32) bad("corrupt packet header: Lblock above 32");
          // Split the new passes into codeword segments; each has its own length.
          let passes = block.passes;
          const segs = block.segments;
          const last = segs.length - 3;
          let room = last >= 0 ? segs[last + 1]! - segs[last]! : 0;
          while (remaining > 0) {
            let capacity = 0;
            const newSegment = room === 0;
            if (newSegment) room = capacity = segmentCapacity(blockStyle, passes);
            const take = Math.min(remaining, room);
            const width = block.lblock + 31 - Math.clz32(take);
            if (width > 32) bad("corrupt packet header: a codeword segment length of more than 32 bits");
            contributions.push({ block, passes: take, length: bits.bits(width), newSegment, capacity });
            room -= take;
            passes += take;
            remaining -= take;
          }
        }
      }
    }
    pos = bits.align();
  } catch (error) {
    if (error === END_OF_DATA) return false;
    throw error;
  }
  if (cod.flags & 4 && pos + 2 <= end && data[pos] === 0xff && data[pos + 1] === 0x92) pos += 2;
  for (const { block, passes, length, newSegment, capacity } of contributions) {
    if (newSegment) {
      block.segments.push(passes, capacity, length);
    } else {
      const last = block.segments.length - 3;
      block.segments[last]! += passes;
      block.segments[last + 2]! += length;
    }
    block.passes += passes;
    if (pos < end) block.chunks.push(pos, Math.min(pos + length, end));
    pos += length;
  }
  bits.pos = pos;
  return pos <= end;
}

function decodeTile(
  cs: Uint8Array,
  siz: Siz,
  main: Defaults,
  tile: TileState,
  t: number,
  image: Jpeg2000Image,
  tier1: Tier1,
): void {
  const p = t % siz.tilesX;
  const q = Math.floor(t / siz.tilesX);
  const tx0 = Math.max(siz.tileX0 + p * siz.tileWidth, siz.x0);
  const ty0 = Math.max(siz.tileY0 + q * siz.tileHeight, siz.y0);
  const tx1 = Math.min(siz.tileX0 + (p + 1) * siz.tileWidth, siz.x1);
  const ty1 = Math.min(siz.tileY0 + (q + 1) * siz.tileHeight, siz.y1);
  const own = tile.defaults;
  const cod = own.cod ?? main.cod!;
  const count = image.components;
  const budget = { blocks: 2 ** 21 };
  const comps: TileComponent[] = [];
  for (let c = 0; c < count; c++) {
    const style = own.coc[c] ?? own.cod?.style ?? main.coc[c] ?? main.cod!.style;
    const quant = own.qcc[c] ?? own.qcd ?? main.qcc[c] ?? main.qcd!;
    comps.push(buildComponent(tx0, ty0, tx1, ty1, style, quant, image.precision, budget));
  }
  // The tile's data: its tile-parts one after the other.
  let size = 0;
  for (let i = 0; i < tile.parts.length; i += 2) size += tile.parts[i + 1]! - tile.parts[i]!;
  const data = new Uint8Array(size);
  for (let i = 0, at = 0; i < tile.parts.length; i += 2) {
    data.set(cs.subarray(tile.parts[i]!, tile.parts[i + 1]!), at);
    at += tile.parts[i + 1]! - tile.parts[i]!;
  }
  const bits = new HeaderBits(data, size);
  bits.start(0);
  forEachPacket(comps, cod, (c, r, pi, l) => {
    if (bits.pos >= size) return false;
    const comp = comps[c]!;
    return readPacket(data, size, bits, comp.resolutions[r]!.precincts[pi]!, l, cod, comp.style.blockStyle);
  });
  // Tier 1 and the inverse wavelet transform, component by component.
  const planes = comps.map((comp) => {
    const w = tx1 - tx0;
    const h = ty1 - ty0;
    const out = comp.style.reversible ? new Int32Array(w * h) : new Float32Array(w * h);
    for (const res of comp.resolutions) {
      for (const precinct of res.precincts) {
        for (const pb of precinct.bands) {
          for (const block of pb.blocks) {
            if (block.passes > 0) tier1.decode(data, block, pb.band, comp.style, out, w);
          }
        }
      }
    }
    if (out instanceof Int32Array) inverseDwt53(out, w, comp.resolutions);
    else inverseDwt97(out, w, comp.resolutions);
    return out;
  });
  if (cod.mct && count >= 3) {
    const [a, b, c] = planes as [
      Int32Array | Float32Array,
      Int32Array | Float32Array,
      Int32Array | Float32Array,
    ];
    if (a instanceof Int32Array && b instanceof Int32Array && c instanceof Int32Array) {
      for (let i = 0; i < a.length; i++) {
        const y = a[i]!;
        const u = b[i]!;
        const v = c[i]!;
        const g = y - ((u + v) >> 2);
        a[i] = v + g;
        b[i] = g;
        c[i] = u + g;
      }
    } else if (a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array) {
      for (let i = 0; i < a.length; i++) {
        const y = a[i]!;
        const u = b[i]!;
        const v = c[i]!;
        a[i] = y + 1.402 * v;
        b[i] = y - 0.34413 * u - 0.71414 * v;
        c[i] = y + 1.772 * u;
      }
    } else {
      bad("a component transform over components with different wavelet transforms");
    }
  }
  // DC level shift, rounding, clamping, and into the image.
  const shift = image.signed ? 0 : 2 ** (image.precision - 1);
  const min = image.signed ? -(2 ** (image.precision - 1)) : 0;
  const max = image.signed ? 2 ** (image.precision - 1) - 1 : 2 ** image.precision - 1;
  const w = tx1 - tx0;
  const out = image.data;
  planes.forEach((plane, c) => {
    const round = plane instanceof Float32Array;
    for (let y = 0; y < ty1 - ty0; y++) {
      let at = ((ty0 - siz.y0 + y) * image.width + (tx0 - siz.x0)) * count + c;
      for (let x = 0, i = y * w; x < w; x++, i++, at += count) {
        let v = (round ? Math.round(plane[i]!) : plane[i]!) + shift;
        if (v < min) v = min;
        else if (v > max) v = max;
        out[at] = v;
      }
    }
  });
}

// — Tier 1: EBCOT —

// The MQ coder's probability states (Table C.2): Qe, next index after an MPS, after an LPS, and whether an LPS
// switches the MPS sense.
const QE = new Uint16Array([
  0x5601, 0x3401, 0x1801, 0x0ac1, 0x0521, 0x0221, 0x5601, 0x5401, 0x4801, 0x3801, 0x3001, 0x2401, 0x1c01,
  0x1601, 0x5601, 0x5401, 0x5101, 0x4801, 0x3801, 0x3401, 0x3001, 0x2801, 0x2401, 0x2201, 0x1c01, 0x1801,
  0x1601, 0x1401, 0x1201, 0x1101, 0x0ac1, 0x09c1, 0x08a1, 0x0521, 0x0441, 0x02a1, 0x0221, 0x0141, 0x0111,
  0x0085, 0x0049, 0x0025, 0x0015, 0x0009, 0x0005, 0x0001, 0x5601,
]);
const NMPS = new Uint8Array([
  1, 2, 3, 4, 5, 38, 7, 8, 9, 10, 11, 12, 13, 29, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29,
  30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 45, 46,
]);
const NLPS = new Uint8Array([
  1, 6, 9, 12, 29, 33, 6, 14, 14, 14, 17, 18, 20, 21, 14, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 23, 24, 25,
  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 46,
]);
const SWITCH = new Uint8Array(47);
SWITCH[0] = SWITCH[6] = SWITCH[14] = 1;

// Contexts: 0–8 significance, 9–13 sign, 14–16 refinement, 17 run length, 18 uniform.
const RUN = 17;
const UNIFORM = 18;

// Each context's state as one byte, 2 × index + MPS, and where an MPS or an LPS decision takes it.
const QE2 = new Uint16Array(94);
const NEXT_MPS = new Uint8Array(94);
const NEXT_LPS = new Uint8Array(94);
for (let i = 0; i < 47; i++) {
  for (let m = 0; m < 2; m++) {
    QE2[2 * i + m] = QE[i]!;
    NEXT_MPS[2 * i + m] = 2 * NMPS[i]! + m;
    NEXT_LPS[2 * i + m] = 2 * NLPS[i]! + (SWITCH[i] ? 1 - m : m);
  }
}

/**
 * The MQ decoder (Annex C) over one codeword segment followed by two FF bytes (so that it reads FF, as when the
 * segment is cut short, and never past them).
 */
class MqDecoder {
  data: Uint8Array = new Uint8Array(2);
  bp = 0;
  a = 0;
  c = 0;
  ct = 0;
  /** Per context: 2 × state index + MPS. */
  readonly cx = new Uint8Array(19);

  resetContexts(): void {
    this.cx.fill(0);
    this.cx[0] = 2 * 4;
    this.cx[RUN] = 2 * 3;
    this.cx[UNIFORM] = 2 * 46;
  }

  init(data: Uint8Array): void {
    this.data = data;
    this.bp = 0;
    this.c = data[0]! << 16;
    this.byteIn();
    this.c = this.c << 7;
    this.ct -= 7;
    this.a = 0x8000;
  }

  private byteIn(): void {
    const d = this.data;
    if (d[this.bp] === 0xff) {
      if (d[this.bp + 1]! > 0x8f) {
        this.c = (this.c + 0xff00) | 0;
        this.ct = 8;
      } else {
        this.bp++;
        this.c = (this.c + (d[this.bp]! << 9)) | 0;
        this.ct = 7;
      }
    } else {
      this.bp++;
      this.c = (this.c + (d[this.bp]! << 8)) | 0;
      this.ct = 8;
    }
  }

  decode(k: number): number {
    const cxs = this.cx;
    const st = cxs[k]!;
    const qe = QE2[st]!;
    let a = this.a - qe;
    let bit: number;
    if (this.c >>> 16 < qe) {
      // The LPS sub-interval, with the conditional exchange.
      if (a < qe) {
        bit = st & 1;
        cxs[k] = NEXT_MPS[st]!;
      } else {
        bit = (st & 1) ^ 1;
        cxs[k] = NEXT_LPS[st]!;
      }
      a = qe;
    } else {
      this.c = (this.c - (qe << 16)) | 0;
      if (a & 0x8000) bit = st & 1;
      else if (a < qe) {
        bit = (st & 1) ^ 1;
        cxs[k] = NEXT_LPS[st]!;
      } else {
        bit = st & 1;
        cxs[k] = NEXT_MPS[st]!;
      }
    }
    while (a < 0x8000) {
      if (this.ct === 0) this.byteIn();
      a <<= 1;
      this.c <<= 1;
      this.ct--;
    }
    this.a = a;
    return bit;
  }
}

// Significance contexts by orientation (Table D.1), indexed by 15·H + 5·V + D (neighbour counts).
const ZC_LUT = [0, 1, 2].map((orientation) => {
  const lut = new Uint8Array(45);
  for (let h = 0; h <= 2; h++) {
    for (let v = 0; v <= 2; v++) {
      for (let d = 0; d <= 4; d++) {
        let cx: number;
        if (orientation === 2) {
          const hv = h + v;
          if (d >= 3) cx = 8;
          else if (d === 2) cx = hv >= 1 ? 7 : 6;
          else if (d === 1) cx = hv >= 2 ? 5 : hv === 1 ? 4 : 3;
          else cx = hv >= 2 ? 2 : hv;
        } else {
          // LL and LH use H as the primary direction; HL swaps H and V.
          const [p, o] = orientation === 0 ? [h, v] : [v, h];
          if (p === 2) cx = 8;
          else if (p === 1) cx = o >= 1 ? 7 : d >= 1 ? 6 : 5;
          else if (o === 2) cx = 4;
          else if (o === 1) cx = 3;
          else cx = d >= 2 ? 2 : d;
        }
        lut[15 * h + 5 * v + d] = cx;
      }
    }
  }
  return lut;
});
// Sign contexts and XOR bits (Table D.3), indexed by 3·(H + 1) + (V + 1).
const SC_CONTEXT = new Uint8Array([13, 12, 11, 10, 9, 10, 11, 12, 13]);
const SC_XOR = new Uint8Array([1, 1, 1, 1, 0, 0, 0, 0, 0]);

// Coefficient state: these bits, and above them (× 16) the count of significant neighbours, 15 × horizontal +
// 5 × vertical + diagonal, which indexes the significance context tables.
const SIG = 1;
const NEG = 2;
const VISITED = 4;
const REFINED = 8;
const H = 15 << 4;
const V = 5 << 4;
const D = 1 << 4;

/**
 * EBCOT tier-1 decoding of code-blocks, on arrays with a one-coefficient border. Magnitudes carry one extra
 * fractional bit: a coefficient is reconstructed at the middle of the interval its decoded bits leave open.
 */
class Tier1 {
  private state = new Uint16Array(0);
  private mag = new Int32Array(0);
  private src = new Uint8Array(0);
  private seg = new Uint8Array(0);
  private readonly mq = new MqDecoder();
  private readonly ht = new HtBlockDecoder();
  private stride = 0;
  private w = 0;
  private h = 0;
  private zc: Uint8Array = ZC_LUT[0]!;
  private causal = false;
  /** Whether any coefficient is significant yet: until then the significance and refinement passes are empty. */
  private anySignificant = false;
  // The raw (bypass) bit reader.
  private rawByte = 0;
  private rawCount = 0;
  private rawPos = 0;

  /** Copies the code-block's bytes, one piece per packet, into `src` (grown as needed); returns their length. */
  private gatherBytes(data: Uint8Array, block: CodeBlock): number {
    let total = 0;
    const chunks = block.chunks;
    for (let i = 0; i < chunks.length; i += 2) total += chunks[i + 1]! - chunks[i]!;
    if (this.src.length < total) this.src = new Uint8Array(total);
    for (let i = 0, at = 0; i < chunks.length; i += 2) {
      this.src.set(data.subarray(chunks[i]!, chunks[i + 1]!), at);
      at += chunks[i + 1]! - chunks[i]!;
    }
    return total;
  }

  decode(
    data: Uint8Array,
    block: CodeBlock,
    band: Band,
    style: CodingStyle,
    out: Int32Array | Float32Array,
    outWidth: number,
  ): void {
    const w = block.x1 - block.x0;
    const h = block.y1 - block.y0;
    const numbps = band.bitPlanes - block.zeroPlanes;
    if (numbps <= 0) bad("corrupt packet header: a code-block has more zero bit-planes than its sub-band");
    if (style.blockStyle & HT) {
      this.decodeHt(data, block, band, style, out, outWidth, numbps);
      return;
    }
    const stride = w + 2;
    const n = stride * (h + 2);
    if (this.state.length < n) {
      this.state = new Uint16Array(n);
      this.mag = new Int32Array(n);
    } else {
      this.state.fill(0, 0, n);
      this.mag.fill(0, 0, n);
    }
    this.stride = stride;
    this.w = w;
    this.h = h;
    this.zc = ZC_LUT[band.type === 3 ? 2 : band.type === 1 ? 1 : 0]!;
    const blockStyle = style.blockStyle;
    this.causal = (blockStyle & CAUSAL) !== 0;
    this.anySignificant = false;
    const total = this.gatherBytes(data, block);
    const mq = this.mq;
    mq.resetContexts();
    let plane = numbps - 1;
    let type = 2;
    let passIndex = 0;
    let offset = 0;
    const segments = block.segments;
    for (let k = 0; k < segments.length && plane >= 0; k += 3) {
      // Each codeword segment is decoded on its own, followed by FF FF (as when it is cut short).
      const length = Math.max(0, Math.min(segments[k + 2]!, total - offset));
      if (this.seg.length < length + 2) this.seg = new Uint8Array(length + 2);
      const seg = this.seg;
      seg.set(this.src.subarray(offset, offset + length));
      seg[length] = 0xff;
      seg[length + 1] = 0xff;
      offset += segments[k + 2]!;
      const raw = (blockStyle & BYPASS) !== 0 && passIndex >= 10 && type !== 2;
      if (raw) {
        this.rawByte = 0;
        this.rawCount = 0;
        this.rawPos = 0;
      } else {
        mq.init(seg);
      }
      for (let j = segments[k]!; j > 0 && plane >= 0; j--) {
        if (type === 0) {
          if (raw && this.anySignificant) this.rawSignificancePass(plane);
          else if (this.anySignificant) this.significancePass(plane);
        } else if (type === 1) {
          if (raw && this.anySignificant) this.rawRefinementPass(plane);
          else if (this.anySignificant) this.refinementPass(plane);
        } else {
          this.cleanupPass(plane);
          if (blockStyle & SEGMENTATION_SYMBOLS) {
            for (let b = 0; b < 4; b++) mq.decode(UNIFORM);
          }
        }
        if (blockStyle & RESET) mq.resetContexts();
        if (type === 2) {
          plane--;
          type = 0;
        } else {
          type++;
        }
        passIndex++;
      }
    }
    // Dequantise into the tile-component (Mallat layout).
    const mag = this.mag;
    const state = this.state;
    const ox = band.ox + block.x0 - band.x0;
    const oy = band.oy + block.y0 - band.y0;
    if (out instanceof Int32Array) {
      for (let y = 0; y < h; y++) {
        let i = (y + 1) * stride + 1;
        let o = (oy + y) * outWidth + ox;
        for (let x = 0; x < w; x++, i++, o++) {
          const m = mag[i]!;
          if (m !== 0) out[o] = state[i]! & NEG ? -(m >> 1) : m >> 1;
        }
      }
    } else {
      const step = band.step * 0.5;
      for (let y = 0; y < h; y++) {
        let i = (y + 1) * stride + 1;
        let o = (oy + y) * outWidth + ox;
        for (let x = 0; x < w; x++, i++, o++) {
          const m = mag[i]!;
          if (m !== 0) out[o] = (state[i]! & NEG ? -m : m) * step;
        }
      }
    }
  }

  /** An HT code-block: its cleanup segment and, when it arrived whole, its refinement segment. */
  private decodeHt(
    data: Uint8Array,
    block: CodeBlock,
    band: Band,
    style: CodingStyle,
    out: Int32Array | Float32Array,
    outWidth: number,
    planes: number,
  ): void {
    const total = this.gatherBytes(data, block);
    const segments = block.segments;
    const cleanup = segments[2]!;
    // A cleanup segment cut short cannot be read (its MEL and VLC lengths are at its end): the block stays 0.
    if (total < cleanup) return;
    const refinement = segments.length > 3 && total >= cleanup + segments[5]! ? segments[5]! : 0;
    this.ht.decode(
      this.src,
      cleanup,
      refinement,
      block.passes,
      block.x1 - block.x0,
      block.y1 - block.y0,
      planes,
      band.bitPlanes,
      (style.blockStyle & CAUSAL) !== 0,
    );
    this.ht.write(out, outWidth, band.ox + block.x0 - band.x0, band.oy + block.y0 - band.y0, band.step);
  }

  /** Marks coefficient i significant and counts it in its neighbours' contexts. */
  private becomeSignificant(i: number, negative: number, topOfStripe: boolean): void {
    const s = this.stride;
    const st = this.state;
    st[i] = st[i]! | (SIG | (negative ? NEG : 0));
    this.anySignificant = true;
    st[i - 1] = st[i - 1]! + H;
    st[i + 1] = st[i + 1]! + H;
    st[i + s] = st[i + s]! + V;
    st[i + s - 1] = st[i + s - 1]! + D;
    st[i + s + 1] = st[i + s + 1]! + D;
    // Vertically causal: the last row of the stripe above does not see this stripe.
    if (!(topOfStripe && this.causal)) {
      st[i - s] = st[i - s]! + V;
      st[i - s - 1] = st[i - s - 1]! + D;
      st[i - s + 1] = st[i - s + 1]! + D;
    }
  }

  private decodeSign(i: number, bottomOfStripe: boolean): number {
    const st = this.state;
    const s = this.stride;
    const l = st[i - 1]!;
    const r = st[i + 1]!;
    const u = st[i - s]!;
    const d = bottomOfStripe && this.causal ? 0 : st[i + s]!;
    let h = (l & SIG ? (l & NEG ? -1 : 1) : 0) + (r & SIG ? (r & NEG ? -1 : 1) : 0);
    let v = (u & SIG ? (u & NEG ? -1 : 1) : 0) + (d & SIG ? (d & NEG ? -1 : 1) : 0);
    h = h < -1 ? -1 : h > 1 ? 1 : h;
    v = v < -1 ? -1 : v > 1 ? 1 : v;
    const k = 3 * (h + 1) + v + 1;
    return this.mq.decode(SC_CONTEXT[k]!) ^ SC_XOR[k]!;
  }

  private significancePass(plane: number): void {
    const { state, mag, stride, w, h, zc, mq } = this;
    const value = 3 << plane;
    for (let y0 = 0; y0 < h; y0 += 4) {
      const rows = Math.min(4, h - y0);
      for (let x = 0; x < w; x++) {
        let i = (y0 + 1) * stride + x + 1;
        for (let r = 0; r < rows; r++, i += stride) {
          const v = state[i]!;
          // Not significant, with a significant neighbour.
          if (v & SIG || v < 16) continue;
          if (mq.decode(zc[v >> 4]!)) {
            mag[i] = value;
            this.becomeSignificant(i, this.decodeSign(i, r === 3), r === 0);
          }
          state[i] = state[i]! | VISITED;
        }
      }
    }
  }

  private refinementPass(plane: number): void {
    const { state, mag, stride, w, h, mq } = this;
    const half = 1 << plane;
    for (let y0 = 0; y0 < h; y0 += 4) {
      const rows = Math.min(4, h - y0);
      for (let x = 0; x < w; x++) {
        let i = (y0 + 1) * stride + x + 1;
        for (let r = 0; r < rows; r++, i += stride) {
          const v = state[i]!;
          if ((v & (SIG | VISITED)) !== SIG) continue;
          mag[i] = mag[i]! + (mq.decode(v & REFINED ? 16 : v >= 16 ? 15 : 14) ? half : -half);
          state[i] = v | REFINED;
        }
      }
    }
  }

  private cleanupPass(plane: number): void {
    const { state, mag, stride, w, h, zc, mq } = this;
    const value = 3 << plane;
    for (let y0 = 0; y0 < h; y0 += 4) {
      const rows = Math.min(4, h - y0);
      for (let x = 0; x < w; x++) {
        const i0 = (y0 + 1) * stride + x + 1;
        let r = 0;
        // Run-length mode when all four are insignificant, not yet coded, with insignificant neighbours.
        if (
          rows === 4 &&
          (state[i0]! | state[i0 + stride]! | state[i0 + 2 * stride]! | state[i0 + 3 * stride]!) === 0
        ) {
          if (!mq.decode(RUN)) continue;
          r = (mq.decode(UNIFORM) << 1) | mq.decode(UNIFORM);
          const i = i0 + r * stride;
          mag[i] = value;
          this.becomeSignificant(i, this.decodeSign(i, r === 3), r === 0);
          r++;
        }
        for (let i = i0 + r * stride; r < rows; r++, i += stride) {
          const v = state[i]!;
          if (v & (SIG | VISITED)) {
            state[i] = v & ~VISITED;
            continue;
          }
          if (mq.decode(zc[v >> 4]!)) {
            mag[i] = value;
            this.becomeSignificant(i, this.decodeSign(i, r === 3), r === 0);
          }
        }
      }
    }
  }

  private rawBit(): number {
    if (this.rawCount === 0) {
      const seg = this.seg;
      if (this.rawByte === 0xff) {
        if (seg[this.rawPos]! > 0x8f) {
          this.rawCount = 8;
        } else {
          this.rawByte = seg[this.rawPos++]!;
          this.rawCount = 7;
        }
      } else {
        this.rawByte = seg[this.rawPos++]!;
        this.rawCount = 8;
      }
    }
    return (this.rawByte >> --this.rawCount) & 1;
  }

  private rawSignificancePass(plane: number): void {
    const { state, mag, stride, w, h } = this;
    const value = 3 << plane;
    for (let y0 = 0; y0 < h; y0 += 4) {
      const rows = Math.min(4, h - y0);
      for (let x = 0; x < w; x++) {
        let i = (y0 + 1) * stride + x + 1;
        for (let r = 0; r < rows; r++, i += stride) {
          const v = state[i]!;
          if (v & SIG || v < 16) continue;
          if (this.rawBit()) {
            mag[i] = value;
            this.becomeSignificant(i, this.rawBit(), r === 0);
          }
          state[i] = state[i]! | VISITED;
        }
      }
    }
  }

  private rawRefinementPass(plane: number): void {
    const { state, mag, stride, w, h } = this;
    const half = 1 << plane;
    for (let y0 = 0; y0 < h; y0 += 4) {
      const rows = Math.min(4, h - y0);
      for (let x = 0; x < w; x++) {
        let i = (y0 + 1) * stride + x + 1;
        for (let r = 0; r < rows; r++, i += stride) {
          const v = state[i]!;
          if ((v & (SIG | VISITED)) !== SIG) continue;
          mag[i] = mag[i]! + (this.rawBit() ? half : -half);
          state[i] = v | REFINED;
        }
      }
    }
  }
}

// — Inverse wavelet transforms —

/** Padding around a line: wide enough that the lifting steps never read an unextended sample. */
const PAD = 5;

/** Whole-sample symmetric extension of line[PAD, PAD + n) into the padding on both sides. */
function extend(line: Int32Array | Float64Array, n: number): void {
  const period = 2 * (n - 1);
  for (let k = 1; k <= PAD; k++) {
    let i = (((-k % period) + period) % period) as number;
    line[PAD - k] = line[PAD + (i < n ? i : period - i)]!;
    i = (n - 1 + k) % period;
    line[PAD + n - 1 + k] = line[PAD + (i < n ? i : period - i)]!;
  }
}

/**
 * Interleaves a line's low-pass (first `lows` entries) and high-pass samples: a sample at an even position of the
 * reference grid (`parity` is the first sample's) is low-pass.
 */
function interleave(
  a: Int32Array | Float32Array,
  start: number,
  stride: number,
  n: number,
  lows: number,
  parity: number,
  line: Int32Array | Float64Array,
): void {
  let k = start;
  for (let i = parity; i < n; i += 2, k += stride) line[PAD + i] = a[k]!;
  k = start + lows * stride;
  for (let i = 1 - parity; i < n; i += 2, k += stride) line[PAD + i] = a[k]!;
}

function lift53(line: Int32Array, n: number, parity: number): void {
  const len = n + 2 * PAD;
  const firstLow = ((PAD + parity) & 1) === 1 ? 1 : 2;
  for (let j = firstLow; j < len - 1; j += 2) line[j] = line[j]! - ((line[j - 1]! + line[j + 1]! + 2) >> 2);
  for (let j = 3 - firstLow; j < len - 1; j += 2) line[j] = line[j]! + ((line[j - 1]! + line[j + 1]!) >> 1);
}

const ALPHA = -1.586134342059924;
const BETA = -0.052980118572961;
const GAMMA = 0.882911075530934;
const DELTA = 0.443506852043971;
const K = 1.230174104914001;

function lift97(line: Float64Array, n: number, parity: number): void {
  const len = n + 2 * PAD;
  const lowParity = (PAD + parity) & 1;
  for (let j = lowParity; j < len; j += 2) line[j] = line[j]! * K;
  for (let j = 1 - lowParity; j < len; j += 2) line[j] = line[j]! / K;
  const firstLow = lowParity === 1 ? 1 : 2;
  const firstHigh = 3 - firstLow;
  for (let j = firstLow; j < len - 1; j += 2) line[j] = line[j]! - DELTA * (line[j - 1]! + line[j + 1]!);
  for (let j = firstHigh; j < len - 1; j += 2) line[j] = line[j]! - GAMMA * (line[j - 1]! + line[j + 1]!);
  for (let j = firstLow; j < len - 1; j += 2) line[j] = line[j]! - BETA * (line[j - 1]! + line[j + 1]!);
  for (let j = firstHigh; j < len - 1; j += 2) line[j] = line[j]! - ALPHA * (line[j - 1]! + line[j + 1]!);
}

/** One line of resolution r: synthesised in place (lows then highs in, samples out). */
function synthesize(
  a: Int32Array | Float32Array,
  start: number,
  stride: number,
  n: number,
  lows: number,
  parity: number,
  line: Int32Array | Float64Array,
): void {
  if (n === 1) {
    // A lone high-pass sample at an odd position was doubled by the forward transform.
    if (parity === 1) a[start] = a instanceof Int32Array ? (a[start]! / 2) | 0 : a[start]! / 2;
    return;
  }
  interleave(a, start, stride, n, lows, parity, line);
  extend(line, n);
  if (line instanceof Int32Array) lift53(line, n, parity);
  else lift97(line, n, parity);
  for (let i = 0, k = start; i < n; i++, k += stride) a[k] = line[PAD + i]!;
}

function inverseDwt(
  a: Int32Array | Float32Array,
  width: number,
  resolutions: Resolution[],
  line: Int32Array | Float64Array,
): void {
  for (let r = 1; r < resolutions.length; r++) {
    const res = resolutions[r]!;
    const prev = resolutions[r - 1]!;
    const rw = res.x1 - res.x0;
    const rh = res.y1 - res.y0;
    if (rw === 0 || rh === 0) continue;
    const lowsX = prev.x1 - prev.x0;
    const lowsY = prev.y1 - prev.y0;
    for (let y = 0; y < rh; y++) synthesize(a, y * width, 1, rw, lowsX, res.x0 % 2, line);
    for (let x = 0; x < rw; x++) synthesize(a, x, width, rh, lowsY, res.y0 % 2, line);
  }
}

function inverseDwt53(a: Int32Array, width: number, resolutions: Resolution[]): void {
  const longest = Math.max(...resolutions.map((r) => Math.max(r.x1 - r.x0, r.y1 - r.y0)));
  inverseDwt(a, width, resolutions, new Int32Array(longest + 2 * PAD));
}

function inverseDwt97(a: Float32Array, width: number, resolutions: Resolution[]): void {
  const longest = Math.max(...resolutions.map((r) => Math.max(r.x1 - r.x0, r.y1 - r.y0)));
  inverseDwt(a, width, resolutions, new Float64Array(longest + 2 * PAD));
}
