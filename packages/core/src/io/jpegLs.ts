/**
 * JPEG-LS (ITU-T T.87, LOCO-I) → samples, for DICOM's JPEG-LS transfer syntaxes (1.2.840.10008.1.2.4.80 lossless,
 * .81 near-lossless): context-modelled prediction errors, Golomb-coded, with a run mode for flat regions. One
 * component (greyscale, 2–16 bits), NEAR ≥ 0, default or LSE-given thresholds and reset. Colour (interleaved)
 * streams are refused by name.
 */
import { DaftInputError } from "../errors.js";

export interface JpegLsImage {
  width: number;
  height: number;
  precision: number;
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

export function decodeJpegLs(bytes: Uint8Array, source?: string): JpegLsImage {
  const fail = (problem: string): never => {
    throw new DaftInputError(`JPEG-LS: ${problem}`, source);
  };
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) fail("no SOI marker: not a JPEG-LS stream");
  let frame: { precision: number; height: number; width: number; components: number } | undefined;
  let custom: Partial<Parameters> = {};
  let image: Uint16Array | undefined;
  let pos = 2;
  for (;;) {
    while (pos < bytes.length && bytes[pos] === 0xff && bytes[pos + 1] === 0xff) pos++;
    if (pos + 1 >= bytes.length) break;
    if (bytes[pos] !== 0xff) fail(`expected a marker at byte ${pos}`);
    const marker = bytes[pos + 1]!;
    pos += 2;
    if (marker === 0xd9) break;
    const length = (bytes[pos]! << 8) | bytes[pos + 1]!;
    if (pos + length > bytes.length) fail("a marker segment runs past the end");
    const segment = bytes.subarray(pos + 2, pos + length);
    const u16 = (at: number) => (segment[at]! << 8) | segment[at + 1]!;
    if (marker === 0xf7) {
      frame = { precision: segment[0]!, height: u16(1), width: u16(3), components: segment[5]! };
      if (frame.precision < 2 || frame.precision > 16)
        fail(`sample precision ${frame.precision} (2–16 bits)`);
      if (frame.components !== 1) fail(`${frame.components} components: only greyscale JPEG-LS is read`);
      if (frame.width === 0 || frame.height === 0) fail("empty frame");
      image = new Uint16Array(frame.width * frame.height);
    } else if (marker === 0xf8) {
      if (segment[0] !== 1) fail(`LSE parameters of type ${segment[0]} (mapping tables) are not supported`);
      custom = { maxVal: u16(1), t1: u16(3), t2: u16(5), t3: u16(7), reset: u16(9) };
    } else if (marker === 0xda) {
      if (!frame || !image) fail("scan before the SOF55 frame header");
      const near = segment[3]!;
      const pointTransform = segment[5]! & 0x0f;
      const params = parameters(frame!.precision, near, custom);
      pos = decodeScan(bytes, pos + length, frame!.width, frame!.height, near, params, image!, fail);
      if (pointTransform > 0)
        for (let i = 0; i < image!.length; i++) image![i] = image![i]! << pointTransform;
      continue;
    } else if ((marker & 0xf0) === 0xc0 && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      fail(`SOF${marker - 0xc0} frame: not JPEG-LS (SOF55)`);
    }
    pos += length;
  }
  if (!frame || !image) fail("no SOF55 frame and no scan");
  return { width: frame!.width, height: frame!.height, precision: frame!.precision, data: image! };
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

/** Decodes one greyscale scan into `image`; returns the position of the marker after it. */
function decodeScan(
  bytes: Uint8Array,
  start: number,
  width: number,
  height: number,
  near: number,
  p: Parameters,
  image: Uint16Array,
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

  // Lines with one sample of padding each side: index x + 1.
  let previous = new Int32Array(width + 2);
  let current = new Int32Array(width + 2);
  for (let y = 0; y < height; y++) {
    previous[width + 1] = previous[width]!;
    current[0] = previous[1]!;
    let x = 0;
    while (x < width) {
      const ra = current[x]!;
      const rb = previous[x + 1]!;
      const rc = previous[x]!;
      const rd = previous[x + 2]!;
      const d1 = rd - rb;
      const d2 = rb - rc;
      const d3 = rc - ra;
      if (Math.abs(d1) <= near && Math.abs(d2) <= near && Math.abs(d3) <= near) {
        // Run mode (T.87 A.7): runs of Ra, then possibly one interruption sample.
        let count = 0;
        const remaining = width - x;
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
        for (let i = 0; i < count; i++) current[x + 1 + i] = ra;
        x += count;
        if (x === width) break;
        // Run interruption sample.
        const rbi = previous[x + 1]!;
        const riType = Math.abs(ra - rbi) <= near ? 1 : 0;
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
        let rx: number;
        if (riType === 1) rx = ra + errval * step;
        else {
          if (rbi < ra) errval = -errval;
          rx = rbi + errval * step;
        }
        current[x + 1] = fixRange(rx);
        runIndex = Math.max(0, runIndex - 1);
        x++;
        continue;
      }
      // Regular mode (T.87 A.4–A.6).
      let q1 = quantize(d1);
      let q2 = quantize(d2);
      let q3 = quantize(d3);
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
      current[x + 1] = fixRange(px + sign * errval * step);
      x++;
    }
    for (let i = 0; i < width; i++) image[y * width + i] = current[i + 1]!;
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
      if (this.afterFF) {
        if (byte >= 0x80) {
          this.marker = true; // 0xFF at pos - 1 began a marker
          this.pos--;
          return;
        }
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
    let pos = this.marker ? this.pos : this.pos;
    while (pos < this.bytes.length && !(this.bytes[pos] === 0xff && this.bytes[pos + 1]! >= 0x80)) pos++;
    return pos;
  }
}
