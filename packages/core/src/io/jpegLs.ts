/**
 * JPEG-LS (ITU-T T.87, LOCO-I) → samples, for DICOM's JPEG-LS transfer syntaxes (1.2.840.10008.1.2.4.80 lossless,
 * .81 near-lossless): context-modelled prediction errors, Golomb-coded, with a run mode for flat regions. One to four
 * components of 2–16 bits, NEAR ≥ 0, default or LSE-given thresholds and reset, and the three interleave modes of
 * T.87 Annex B: none (ILV 0, one scan per component), line (ILV 1) and sample (ILV 2). Subsampled components,
 * mapping tables (palettised JPEG-LS) and HP's colour transforms (an APP8 "mrfx" segment) are refused by name.
 */
import { DaftInputError } from "../errors.js";
import { walkJpegSegments } from "./jpegMarkers.js";

export interface JpegLsImage {
  width: number;
  height: number;
  /** Components per pixel (1 greyscale, 3 colour). */
  components: number;
  precision: number;
  /** Samples interleaved per pixel, row by row. */
  data: Uint16Array;
}

interface Parameters {
  maxVal: number;
  t1: number;
  t2: number;
  t3: number;
  reset: number;
}

const J = [
  0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15,
];

const INTERLEAVE = ["none", "line", "sample"];
/** More samples than this in one frame is taken for a corrupt header rather than allocated. */
const MAX_SAMPLES = 2 ** 28;

export function decodeJpegLs(bytes: Uint8Array, source?: string): JpegLsImage {
  const fail = (problem: string): never => {
    throw new DaftInputError(`JPEG-LS: ${problem}`, source);
  };
  let frame: { precision: number; height: number; width: number; ids: number[] } | undefined;
  let custom: Partial<Parameters> = {};
  let planes: Uint16Array[] = [];
  const decoded = new Set<number>();
  walkJpegSegments(bytes, fail, (marker, segment, after) => {
    const u16 = (at: number) => (segment[at]! << 8) | segment[at + 1]!;
    if (marker === 0xf7) {
      if (frame) fail("a second SOF55 frame header");
      const count = segment[5]!;
      if (segment.length < 6 + 3 * count) fail("truncated SOF55 frame header");
      frame = { precision: segment[0]!, height: u16(1), width: u16(3), ids: [] };
      if (frame.precision < 2 || frame.precision > 16)
        fail(`sample precision ${frame.precision} (2–16 bits)`);
      if (count < 1 || count > 4) fail(`${count} components (1–4 are read)`);
      if (frame.width === 0 || frame.height === 0) fail("empty frame");
      if (frame.width * frame.height * count > MAX_SAMPLES)
        fail(`a frame of ${frame.width}×${frame.height}×${count} samples is too large`);
      for (let c = 0; c < count; c++) {
        const id = segment[6 + 3 * c]!;
        const sampling = segment[7 + 3 * c]!;
        if (sampling !== 0x11) fail(`component ${id} is subsampled (${sampling >> 4}×${sampling & 15})`);
        if (frame.ids.includes(id)) fail(`component ${id} is declared twice`);
        frame.ids.push(id);
      }
      planes = frame.ids.map(() => new Uint16Array(frame!.width * frame!.height));
    } else if (marker === 0xf8) {
      if (segment[0] !== 1) fail(`LSE parameters of type ${segment[0]} (mapping tables) are not supported`);
      if (segment.length < 11) fail("truncated LSE segment");
      custom = { maxVal: u16(1), t1: u16(3), t2: u16(5), t3: u16(7), reset: u16(9) };
    } else if (marker === 0xe8) {
      // HP's colour transforms (not T.87): APP8 "mrfx" with transform 1–3; 0 is none.
      const isMrfx = segment.length >= 5 && String.fromCharCode(...segment.subarray(0, 4)) === "mrfx";
      if (isMrfx && segment[4] !== 0)
        fail(`HP colour transform ${segment[4]} (APP8 "mrfx") is not supported`);
    } else if (marker === 0xda) {
      if (!frame) fail("scan before the SOF55 frame header");
      const count = segment[0]!;
      if (count < 1 || segment.length < 4 + 2 * count) fail("truncated or empty scan header");
      const scanPlanes: Uint16Array[] = [];
      for (let c = 0; c < count; c++) {
        const id = segment[1 + 2 * c]!;
        const index = frame!.ids.indexOf(id);
        if (index < 0) fail(`scan names component ${id}, which the frame does not have`);
        if (segment[2 + 2 * c] !== 0)
          fail(`component ${id} uses mapping table ${segment[2 + 2 * c]} (not supported)`);
        if (decoded.has(index)) fail(`component ${id} is in two scans`);
        decoded.add(index);
        scanPlanes.push(planes[index]!);
      }
      const near = segment[1 + 2 * count]!;
      const ilv = segment[2 + 2 * count]!;
      const pointTransform = segment[3 + 2 * count]! & 0x0f;
      if (ilv > 2) fail(`interleave mode ${ilv} (0–2)`);
      if (count > 1 && ilv === 0) fail(`a scan of ${count} components without interleaving`);
      const params = parameters(frame!.precision, near, custom);
      if (near > Math.min(255, params.maxVal >> 1))
        fail(`NEAR ${near} is too large for MAXVAL ${params.maxVal}`);
      const end = decodeScan(
        bytes,
        after,
        frame!.width,
        frame!.height,
        near,
        params,
        scanPlanes,
        count > 1 ? INTERLEAVE[ilv]! : "none",
        fail,
      );
      if (pointTransform > 0)
        for (const plane of scanPlanes)
          for (let i = 0; i < plane.length; i++) plane[i] = plane[i]! << pointTransform;
      return end;
    } else if ((marker & 0xf0) === 0xc0 && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      fail(`SOF${marker - 0xc0} frame: not JPEG-LS (SOF55)`);
    }
  });
  if (!frame) fail("no SOF55 frame and no scan");
  const missing = frame!.ids.filter((_, c) => !decoded.has(c));
  if (missing.length > 0) fail(`no scan for component ${missing.join(", ")}`);
  const { width, height, precision } = frame!;
  const components = planes.length;
  let data = planes[0]!;
  if (components > 1) {
    data = new Uint16Array(width * height * components);
    planes.forEach((plane, c) => {
      for (let i = 0; i < plane.length; i++) data[i * components + c] = plane[i]!;
    });
  }
  return { width, height, components, precision, data };
}

/** Default thresholds (T.87 C.2.4.1.1), overridden by an LSE segment's non-zero values. */
function parameters(precision: number, near: number, custom: Partial<Parameters>): Parameters {
  const maxVal = custom.maxVal || (1 << precision) - 1;
  const clamp = (v: number, lo: number, hi: number) => (v > hi || v < lo ? lo : v);
  let t1: number;
  let t2: number;
  let t3: number;
  if (maxVal >= 128) {
    const factor = Math.floor((Math.min(maxVal, 4095) + 128) / 256);
    t1 = clamp(factor * (3 - 2) + 2 + 3 * near, near + 1, maxVal);
    t2 = clamp(factor * (7 - 3) + 3 + 5 * near, t1, maxVal);
    t3 = clamp(factor * (21 - 4) + 4 + 7 * near, t2, maxVal);
  } else {
    const factor = Math.floor(256 / (maxVal + 1));
    t1 = clamp(Math.max(2, Math.floor(3 / factor) + 3 * near), near + 1, maxVal);
    t2 = clamp(Math.max(3, Math.floor(7 / factor) + 5 * near), t1, maxVal);
    t3 = clamp(Math.max(4, Math.floor(21 / factor) + 7 * near), t2, maxVal);
  }
  return {
    maxVal,
    t1: custom.t1 || t1,
    t2: custom.t2 || t2,
    t3: custom.t3 || t3,
    reset: custom.reset || 64,
  };
}

/**
 * Decodes one scan of one or more components into `planes`; returns the position of the marker after it. All
 * components of a scan share one set of contexts; in line interleaving each component keeps its own run index
 * (T.87 B.2), in sample interleaving a run is a run of whole pixels and its interruption codes each component with
 * the RItype 0 context (B.3).
 */
function decodeScan(
  bytes: Uint8Array,
  start: number,
  width: number,
  height: number,
  near: number,
  p: Parameters,
  planes: Uint16Array[],
  interleave: string,
  fail: (problem: string) => never,
): number {
  const { maxVal, t1, t2, t3, reset } = p;
  const step = 2 * near + 1;
  const range = Math.floor((maxVal + 2 * near) / step) + 1;
  const qbpp = Math.ceil(Math.log2(range));
  const bpp = Math.max(2, Math.ceil(Math.log2(maxVal + 1)));
  const limit = 2 * (bpp + Math.max(8, bpp));
  const aInit = Math.max(2, Math.floor((range + 32) / 64));
  const A = new Int32Array(367).fill(aInit);
  const B = new Int32Array(367);
  const C = new Int32Array(367);
  const N = new Int32Array(367).fill(1);
  const Nn = new Int32Array(367);
  let runIndex = 0;
  const bits = new LsBitReader(bytes, start, fail);

  const quantize = (d: number) =>
    d <= -t3
      ? -4
      : d <= -t2
        ? -3
        : d <= -t1
          ? -2
          : d < -near
            ? -1
            : d <= near
              ? 0
              : d < t1
                ? 1
                : d < t2
                  ? 2
                  : d < t3
                    ? 3
                    : 4;
  const fixRange = (x: number) => {
    if (x < -near) x += range * step;
    else if (x > maxVal + near) x -= range * step;
    return x < 0 ? 0 : x > maxVal ? maxVal : x;
  };
  const golomb = (k: number, lim: number) => {
    const high = bits.unary(lim);
    if (high >= lim - (qbpp + 1)) return bits.read(qbpp) + 1;
    return k === 0 ? high : (high << k) + bits.read(k);
  };
  const flat = (ra: number, rb: number, rc: number, rd: number) =>
    Math.abs(rd - rb) <= near && Math.abs(rb - rc) <= near && Math.abs(rc - ra) <= near;

  /** Run mode (T.87 A.7.1): the length of a run of Ra, at most `remaining` samples. */
  const runLength = (remaining: number): number => {
    let count = 0;
    while (count < remaining && bits.read(1) === 1) {
      const run = Math.min(1 << J[runIndex]!, remaining - count);
      count += run;
      if (run === 1 << J[runIndex]!) runIndex = Math.min(31, runIndex + 1);
    }
    if (count < remaining) {
      // A 0 bit was read: the rest of the run in J[runIndex] bits (unless the line ended exactly).
      count += J[runIndex]! > 0 ? bits.read(J[runIndex]!) : 0;
      if (count > remaining) fail("run past the end of a line");
    }
    return count;
  };

  /** The run interruption sample (T.87 A.7.2) after a run of Ra, above it Rb. */
  const interruption = (ra: number, rb: number, riType: number): number => {
    const q = 365 + riType;
    const temp = A[q]! + (N[q]! >> 1) * riType;
    let k = 0;
    while (N[q]! << k < temp) k++;
    const eMErrval = golomb(k, limit - J[runIndex]! - 1);
    const t = eMErrval + riType;
    const map = t & 1;
    const magnitude = (t + map) >> 1;
    // The encoder's map bit (T.87 A.7.2.1) says the error is negative, except where k = 0 and 2·Nn < N flips it.
    let errval = (map === 1) !== (k === 0 && 2 * Nn[q]! < N[q]!) ? -magnitude : magnitude;
    if (errval < 0) Nn[q]!++;
    A[q]! += (eMErrval + 1 - riType) >> 1;
    if (N[q] === reset) {
      A[q]! >>= 1;
      N[q]! >>= 1;
      Nn[q]! >>= 1;
    }
    N[q]!++;
    if (riType === 1) return fixRange(ra + errval * step);
    if (rb < ra) errval = -errval;
    return fixRange(rb + errval * step);
  };

  /** Regular mode (T.87 A.4–A.6): one sample from its neighbours. */
  const regular = (ra: number, rb: number, rc: number, rd: number): number => {
    let q1 = quantize(rd - rb);
    let q2 = quantize(rb - rc);
    let q3 = quantize(rc - ra);
    let sign = 1;
    if (q1 < 0 || (q1 === 0 && (q2 < 0 || (q2 === 0 && q3 < 0)))) {
      sign = -1;
      q1 = -q1;
      q2 = -q2;
      q3 = -q3;
    }
    const q = (q1 * 9 + q2) * 9 + q3;
    let px =
      rc >= Math.max(ra, rb) ? Math.min(ra, rb) : rc <= Math.min(ra, rb) ? Math.max(ra, rb) : ra + rb - rc;
    px += sign * C[q]!;
    px = px < 0 ? 0 : px > maxVal ? maxVal : px;
    let k = 0;
    while (N[q]! << k < A[q]!) k++;
    const mErrval = golomb(k, limit);
    let errval: number;
    if (near === 0 && k === 0 && 2 * B[q]! <= -N[q]!)
      errval = mErrval & 1 ? (mErrval - 1) >> 1 : -(mErrval >> 1) - 1;
    else errval = mErrval & 1 ? -((mErrval + 1) >> 1) : mErrval >> 1;
    // Context update with the error as coded, then bias correction (A.6).
    B[q]! += errval * step;
    A[q]! += Math.abs(errval);
    if (N[q] === reset) {
      A[q]! >>= 1;
      B[q]! >>= 1;
      N[q]! >>= 1;
    }
    N[q]!++;
    if (B[q]! <= -N[q]!) {
      B[q]! += N[q]!;
      if (C[q]! > -128) C[q]!--;
      if (B[q]! <= -N[q]!) B[q] = -N[q]! + 1;
    } else if (B[q]! > 0) {
      B[q]! -= N[q]!;
      if (C[q]! < 127) C[q]!++;
      if (B[q]! > 0) B[q] = 0;
    }
    return fixRange(px + sign * errval * step);
  };

  /** One line of one component; lines have one sample of padding each side (index x + 1). */
  const line = (previous: Int32Array, current: Int32Array) => {
    let x = 0;
    while (x < width) {
      const ra = current[x]!;
      const rb = previous[x + 1]!;
      const rc = previous[x]!;
      const rd = previous[x + 2]!;
      if (!flat(ra, rb, rc, rd)) {
        current[x + 1] = regular(ra, rb, rc, rd);
        x++;
        continue;
      }
      const count = runLength(width - x);
      for (let i = 0; i < count; i++) current[x + 1 + i] = ra;
      x += count;
      if (x === width) break;
      const rbi = previous[x + 1]!;
      current[x + 1] = interruption(ra, rbi, Math.abs(ra - rbi) <= near ? 1 : 0);
      runIndex = Math.max(0, runIndex - 1);
      x++;
    }
  };

  /** One line of every component, pixel by pixel (sample interleaving). */
  const pixelLine = (previous: Int32Array[], current: Int32Array[]) => {
    const n = previous.length;
    let x = 0;
    while (x < width) {
      let allFlat = true;
      for (let c = 0; c < n && allFlat; c++) {
        const prev = previous[c]!;
        allFlat = flat(current[c]![x]!, prev[x + 1]!, prev[x]!, prev[x + 2]!);
      }
      if (!allFlat) {
        for (let c = 0; c < n; c++) {
          const prev = previous[c]!;
          current[c]![x + 1] = regular(current[c]![x]!, prev[x + 1]!, prev[x]!, prev[x + 2]!);
        }
        x++;
        continue;
      }
      const count = runLength(width - x);
      for (let c = 0; c < n; c++) {
        const cur = current[c]!;
        for (let i = 0; i < count; i++) cur[x + 1 + i] = cur[x]!;
      }
      x += count;
      if (x === width) break;
      for (let c = 0; c < n; c++) current[c]![x + 1] = interruption(current[c]![x]!, previous[c]![x + 1]!, 0);
      runIndex = Math.max(0, runIndex - 1);
      x++;
    }
  };

  const n = planes.length;
  let previous = planes.map(() => new Int32Array(width + 2));
  let current = planes.map(() => new Int32Array(width + 2));
  const runIndices = new Int32Array(n);
  for (let y = 0; y < height; y++) {
    for (let c = 0; c < n; c++) {
      previous[c]![width + 1] = previous[c]![width]!;
      current[c]![0] = previous[c]![1]!;
    }
    if (interleave === "sample") pixelLine(previous, current);
    else {
      for (let c = 0; c < n; c++) {
        runIndex = runIndices[c]!;
        line(previous[c]!, current[c]!);
        runIndices[c] = runIndex;
      }
    }
    for (let c = 0; c < n; c++) {
      const plane = planes[c]!;
      const cur = current[c]!;
      for (let i = 0; i < width; i++) plane[y * width + i] = cur[i + 1]!;
    }
    [previous, current] = [current, previous];
  }
  return bits.end();
}

/** JPEG-LS bits: after a 0xFF byte the next byte carries 7 bits (its top bit is a stuffed 0); 0xFF + ≥ 0x80 is a marker. */
class LsBitReader {
  private acc = 0;
  private count = 0;
  private afterFF = false;
  private marker = false;

  constructor(
    private readonly bytes: Uint8Array,
    private pos: number,
    private readonly fail: (problem: string) => never,
  ) {}

  private fill(): void {
    while (this.count <= 24 && !this.marker) {
      if (this.pos >= this.bytes.length) {
        this.marker = true;
        return;
      }
      const byte = this.bytes[this.pos]!;
      if (byte === 0xff && this.bytes[this.pos + 1]! >= 0x80) {
        this.marker = true; // the scan ends at this marker
        return;
      }
      if (this.afterFF) {
        this.acc = ((this.acc << 7) | byte) >>> 0;
        this.count += 7;
      } else {
        this.acc = ((this.acc << 8) | byte) >>> 0;
        this.count += 8;
      }
      this.afterFF = byte === 0xff;
      this.pos++;
    }
  }

  read(n: number): number {
    if (n === 0) return 0;
    if (this.count < n) this.fill();
    if (this.count < n) this.fail("truncated scan data");
    this.count -= n;
    return (this.acc >>> this.count) & (n === 32 ? 0xffffffff : (1 << n) - 1);
  }

  /** Zero bits before the next 1 bit (which is consumed), at most `limit`. */
  unary(limit: number): number {
    let zeros = 0;
    while (this.read(1) === 0) {
      if (++zeros > limit) this.fail("corrupt Golomb code in the scan");
    }
    return zeros;
  }

  /** Position of the marker that ends the scan. */
  end(): number {
    let pos = this.pos;
    while (pos < this.bytes.length && !(this.bytes[pos] === 0xff && this.bytes[pos + 1]! >= 0x80)) pos++;
    return pos;
  }
}
