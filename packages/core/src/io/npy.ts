/**
 * The numpy .npy format (versions 1.0, 2.0, 3.0) on plain bytes: decode into C-order typed arrays, encode
 * little-endian C-order files numpy reads back. Spec: numpy/lib/format.py ("NEP 1").
 *
 * Supported dtypes: bool (-> Uint8Array of 0/1, dtype "bool"), u1 i1 u2 i2 u4 i4 u8 i8 (64-bit as BigInt arrays),
 * f2 (decoded to Float32Array, dtype "float16"), f4, f8; either byte order; Fortran order is converted to C order.
 */
import { strFromU8, strToU8 } from "fflate";
import { DaftInputError } from "../errors.js";
import type { NdArray, NumericArray } from "../image/types.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type Fail = (problem: string) => never;

interface DtypeCodec {
  /** numpy dtype name, as stored in NdArray.dtype. */
  name: string;
  /** Bytes per element in the file. */
  itemsize: number;
  /** Typed array over raw host-order element bytes (for float16: the Uint16 bit patterns); all of `buffer`
   * unless an element offset (in bytes) and count are given. */
  view: (buffer: ArrayBuffer, byteOffset?: number, length?: number) => NumericArray;
}

/** Keyed by numpy's type code + itemsize, e.g. "f4". */
const CODECS: Record<string, DtypeCodec> = {
  b1: { name: "bool", itemsize: 1, view: (b, o, n) => new Uint8Array(b, o, n) },
  u1: { name: "uint8", itemsize: 1, view: (b, o, n) => new Uint8Array(b, o, n) },
  i1: { name: "int8", itemsize: 1, view: (b, o, n) => new Int8Array(b, o, n) },
  u2: { name: "uint16", itemsize: 2, view: (b, o, n) => new Uint16Array(b, o, n) },
  i2: { name: "int16", itemsize: 2, view: (b, o, n) => new Int16Array(b, o, n) },
  u4: { name: "uint32", itemsize: 4, view: (b, o, n) => new Uint32Array(b, o, n) },
  i4: { name: "int32", itemsize: 4, view: (b, o, n) => new Int32Array(b, o, n) },
  u8: { name: "uint64", itemsize: 8, view: (b, o, n) => new BigUint64Array(b, o, n) },
  i8: { name: "int64", itemsize: 8, view: (b, o, n) => new BigInt64Array(b, o, n) },
  f2: { name: "float16", itemsize: 2, view: (b, o, n) => new Uint16Array(b, o, n) },
  f4: { name: "float32", itemsize: 4, view: (b, o, n) => new Float32Array(b, o, n) },
  f8: { name: "float64", itemsize: 8, view: (b, o, n) => new Float64Array(b, o, n) },
};

/** What each dtype name is written as, and which typed array must hold it. */
const ENCODINGS: Record<string, { code: string; holds: (d: NumericArray) => boolean }> = {
  bool: { code: "|b1", holds: (d) => d instanceof Uint8Array },
  uint8: { code: "|u1", holds: (d) => d instanceof Uint8Array },
  int8: { code: "|i1", holds: (d) => d instanceof Int8Array },
  uint16: { code: "<u2", holds: (d) => d instanceof Uint16Array },
  int16: { code: "<i2", holds: (d) => d instanceof Int16Array },
  uint32: { code: "<u4", holds: (d) => d instanceof Uint32Array },
  int32: { code: "<i4", holds: (d) => d instanceof Int32Array },
  uint64: { code: "<u8", holds: (d) => d instanceof BigUint64Array },
  int64: { code: "<i8", holds: (d) => d instanceof BigInt64Array },
  float16: { code: "<f2", holds: (d) => d instanceof Float32Array },
  float32: { code: "<f4", holds: (d) => d instanceof Float32Array },
  float64: { code: "<f8", holds: (d) => d instanceof Float64Array },
};

/** Arrays from this size on are viewed in place when the caller hands its bytes over (parseNpy's `adopt`). */
const ADOPT_MIN_BYTES = 1 << 20;

/**
 * Decodes one .npy file. `name` (e.g. the npz key) only appears in error messages. `adopt`: the caller hands
 * `bytes` over (a freshly inflated archive member nobody else holds), so a large array in host byte order whose
 * data is aligned is a view into them instead of a copy (a 3D image's 75 MB).
 */
export function parseNpy(bytes: Uint8Array, name?: string, opts: { adopt?: boolean } = {}): NdArray {
  const label = name === undefined ? "array" : `array '${name}'`;
  const fail: Fail = (problem) => {
    throw new DaftInputError(`${label} ${problem}`);
  };

  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail("is not a .npy file (missing the \\x93NUMPY magic)");
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0)
    fail(`has unsupported .npy format version ${major}.${minor}`);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) fail("is truncated inside its header");
  const headerLength =
    major === 1
      ? bytes[8]! | (bytes[9]! << 8)
      : (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16)) + bytes[11]! * 2 ** 24;
  const dataOffset = 8 + lengthBytes + headerLength;
  if (dataOffset > bytes.length) {
    fail(
      `is truncated inside its header: header says ${headerLength} bytes, file has ${bytes.length - 8 - lengthBytes}`,
    );
  }
  const headerText = strFromU8(bytes.subarray(8 + lengthBytes, dataOffset), major < 3);
  const header = parseHeader(headerText, fail);

  const codec = codecFor(header.descr, fail);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const expectedBytes = count * codec.itemsize;
  if (!Number.isSafeInteger(expectedBytes))
    fail(`has an impossibly large shape (${header.shape.join(", ")})`);
  const gotBytes = bytes.length - dataOffset;
  if (gotBytes < expectedBytes) fail(`is truncated: expected ${expectedBytes} bytes, got ${gotBytes}`);
  if (gotBytes > expectedBytes) fail(`has ${gotBytes - expectedBytes} unexpected bytes after its data`);

  const swap = codec.itemsize > 1 && header.bigEndian === HOST_IS_LITTLE_ENDIAN;
  const fortran = header.fortranOrder && header.shape.length > 1;
  let data: NumericArray;
  if (
    opts.adopt &&
    !swap &&
    !fortran &&
    expectedBytes >= ADOPT_MIN_BYTES &&
    (bytes.byteOffset + dataOffset) % codec.itemsize === 0
  ) {
    data = codec.view(bytes.buffer as ArrayBuffer, bytes.byteOffset + dataOffset, count);
  } else {
    // Copy into a fresh buffer: aligned for the typed array, and independent of the (possibly huge) input.
    const raw = new Uint8Array(expectedBytes);
    raw.set(bytes.subarray(dataOffset, dataOffset + expectedBytes));
    if (swap) swapBytes(raw, codec.itemsize);
    data = codec.view(fortran ? fortranToC(raw, codec.itemsize, header.shape) : raw.buffer);
  }
  if (codec.name === "float16") data = halfBitsToFloat32(data as Uint16Array);
  if (codec.name === "bool") normalizeBool(data as Uint8Array);
  return { data, shape: header.shape, dtype: codec.name };
}

/** Encodes an array as a version 1.0 (2.0 for huge headers) little-endian C-order .npy file. */
export function encodeNpy(arr: NdArray): Uint8Array {
  const [header, body] = encodeNpyParts(arr);
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/**
 * encodeNpy as [header, body]: the body is a view of the array's own bytes wherever the file's bytes are the
 * host's (little-endian hosts, every dtype but bool and float16), so a writer can stream a 150 MB label map
 * without copying it.
 */
export function encodeNpyParts(arr: NdArray): [header: Uint8Array, body: Uint8Array] {
  const encoding = ENCODINGS[arr.dtype];
  if (!encoding) throw new Error(`encodeNpy: unsupported dtype '${arr.dtype}'`);
  if (!encoding.holds(arr.data)) {
    throw new Error(`encodeNpy: dtype '${arr.dtype}' cannot be held in a ${arr.data.constructor.name}`);
  }
  if (!arr.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`encodeNpy: invalid shape (${arr.shape.join(", ")})`);
  }
  const count = arr.shape.reduce((a, b) => a * b, 1);
  if (count !== arr.data.length) {
    throw new Error(
      `encodeNpy: shape (${arr.shape.join(", ")}) needs ${count} elements, data has ${arr.data.length}`,
    );
  }

  let body: Uint8Array;
  if (arr.dtype === "float16") {
    body = new Uint8Array(float32ToHalfBits(arr.data as Float32Array).buffer);
  } else if (arr.dtype === "bool") {
    body = (arr.data as Uint8Array).map((v) => (v !== 0 ? 1 : 0));
  } else {
    body = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  }
  const itemsize = arr.dtype === "float16" ? 2 : arr.data.BYTES_PER_ELEMENT;
  if (!HOST_IS_LITTLE_ENDIAN && itemsize > 1) {
    body = body.slice();
    swapBytes(body, itemsize);
  }

  const shapeText = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(", ")})`;
  const dict = `{'descr': '${encoding.code}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Version 1.0 stores the header length in 2 bytes; the whole preamble is padded to a multiple of 64.
  const major = dict.length + 1 + 10 + 64 <= 0xffff ? 1 : 2;
  const preamble = major === 1 ? 10 : 12;
  const padded = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  const headerLength = padded - preamble;
  const headerText = dict.padEnd(headerLength - 1, " ") + "\n";

  const header = new Uint8Array(padded);
  header.set(MAGIC, 0);
  header[6] = major;
  header[7] = 0;
  if (major === 1) new DataView(header.buffer).setUint16(8, headerLength, true);
  else new DataView(header.buffer).setUint32(8, headerLength, true);
  header.set(strToU8(headerText, true), preamble);
  return [header, body];
}

interface NpyHeader {
  descr: string;
  bigEndian: boolean;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(text: string, fail: Fail): NpyHeader {
  let dict: PyValue;
  try {
    dict = parsePythonLiteral(text);
  } catch (e) {
    return fail(`has a malformed header (${(e as Error).message}): ${text.trim().slice(0, 120)}`);
  }
  if (dict === null || typeof dict !== "object" || Array.isArray(dict))
    return fail("has a header that is not a dict");
  const { descr, fortran_order: fortranOrder, shape } = dict;
  if (Array.isArray(descr)) {
    return fail("has a structured (record) dtype, which is not supported; save plain numeric arrays");
  }
  if (typeof descr !== "string") return fail("has a header without a 'descr' string");
  if (typeof fortranOrder !== "boolean") return fail("has a header without a boolean 'fortran_order'");
  if (
    !Array.isArray(shape) ||
    !shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)
  ) {
    return fail("has a header without a valid 'shape' tuple");
  }
  return { descr, bigEndian: descr.startsWith(">"), fortranOrder, shape: shape as number[] };
}

function codecFor(descr: string, fail: Fail): DtypeCodec {
  const match = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  const kind = match?.[2] ?? "";
  const codec = match ? CODECS[`${kind}${match[3]}`] : undefined;
  if (codec) return codec;
  const why: Record<string, string> = {
    O: "object dtype (pickled Python objects)",
    U: "string dtype",
    S: "bytes dtype",
    a: "bytes dtype",
    V: "structured (void) dtype",
    c: "complex dtype",
    M: "datetime dtype",
    m: "timedelta dtype",
  };
  return fail(
    `has ${why[kind] ?? "dtype"} '${descr}', which is not supported; ` +
      "use bool, (u)int8/16/32/64 or float16/32/64",
  );
}

function swapBytes(bytes: Uint8Array, itemsize: number): void {
  for (let i = 0; i < bytes.length; i += itemsize) {
    for (let a = i, b = i + itemsize - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

interface Indexable<V> {
  [index: number]: V;
  readonly length: number;
}

/** Reorders Fortran-order element bytes into C order (same shape). */
function fortranToC(raw: Uint8Array, itemsize: number, shape: number[]): ArrayBuffer {
  const out = new ArrayBuffer(raw.length);
  if (itemsize === 1) transposeFortran(raw, new Uint8Array(out), shape);
  else if (itemsize === 2) transposeFortran(new Uint16Array(raw.buffer), new Uint16Array(out), shape);
  else if (itemsize === 4) transposeFortran(new Uint32Array(raw.buffer), new Uint32Array(out), shape);
  else transposeFortran(new BigUint64Array(raw.buffer), new BigUint64Array(out), shape);
  return out;
}

function transposeFortran<V>(src: Indexable<V>, dst: Indexable<V>, shape: number[]): void {
  const ndim = shape.length;
  if (src.length === 0) return;
  const fortranStrides: number[] = [];
  for (let k = 0, stride = 1; k < ndim; k++) {
    fortranStrides.push(stride);
    stride *= shape[k]!;
  }
  const rowLength = shape[ndim - 1]!;
  const rowStride = fortranStrides[ndim - 1]!;
  const counter = new Array<number>(ndim).fill(0);
  let out = 0;
  let rowStart = 0;
  for (let row = 0, rows = src.length / rowLength; row < rows; row++) {
    for (let j = 0, f = rowStart; j < rowLength; j++, f += rowStride) dst[out++] = src[f]!;
    for (let k = ndim - 2; k >= 0; k--) {
      counter[k]!++;
      rowStart += fortranStrides[k]!;
      if (counter[k]! < shape[k]!) break;
      rowStart -= fortranStrides[k]! * shape[k]!;
      counter[k] = 0;
    }
  }
}

function normalizeBool(data: Uint8Array): void {
  for (let i = 0; i < data.length; i++) if (data[i]! > 1) data[i] = 1;
}

function halfBitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * fraction * 2 ** -24;
    else if (exponent === 0x1f) out[i] = fraction ? NaN : sign * Infinity;
    else out[i] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

/** float32 -> IEEE half bit patterns, rounding to nearest even (as numpy's astype(float16)). */
function float32ToHalfBits(values: Float32Array): Uint16Array {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i]!;
    const bits = u32[0]!;
    const sign = (bits >>> 16) & 0x8000;
    const exponent = (bits >>> 23) & 0xff;
    const mantissa = bits & 0x7fffff;
    const halfExponent = exponent - 127 + 15;
    let half: number;
    if (exponent === 0xff) {
      half = 0x7c00 | (mantissa ? 0x200 : 0); // Inf or NaN
    } else if (halfExponent >= 0x1f) {
      half = 0x7c00; // overflow -> Inf
    } else if (halfExponent <= 0) {
      // Subnormal half (or zero): shift the full 24-bit significand into 10 bits.
      if (halfExponent < -10) {
        half = 0;
      } else {
        const significand = mantissa | 0x800000;
        const shift = 14 - halfExponent;
        half = significand >>> shift;
        const rest = significand & ((1 << shift) - 1);
        const halfway = 1 << (shift - 1);
        if (rest > halfway || (rest === halfway && half & 1)) half++;
      }
    } else {
      half = (halfExponent << 10) | (mantissa >>> 13);
      const rest = mantissa & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // a carry into the exponent is still correct
    }
    out[i] = sign | half;
  }
  return out;
}

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/** Parses the Python literal subset .npy headers use: dict, tuple, list, str, int, True/False/None. */
function parsePythonLiteral(text: string): PyValue {
  let pos = 0;
  const skipSpace = (): void => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const expect = (char: string): void => {
    skipSpace();
    if (text[pos] !== char) throw new Error(`expected '${char}' at ${pos}`);
    pos++;
  };
  const sequence = (close: string): PyValue[] => {
    const items: PyValue[] = [];
    for (;;) {
      skipSpace();
      if (text[pos] === close) break;
      items.push(value());
      skipSpace();
      if (text[pos] === ",") pos++;
      else if (text[pos] !== close) throw new Error(`expected ',' or '${close}' at ${pos}`);
    }
    pos++;
    return items;
  };
  const value = (): PyValue => {
    skipSpace();
    const c = text[pos];
    if (c === "{") {
      pos++;
      const dict: { [key: string]: PyValue } = {};
      for (;;) {
        skipSpace();
        if (text[pos] === "}") break;
        const key = value();
        if (typeof key !== "string") throw new Error(`dict key at ${pos} is not a string`);
        expect(":");
        dict[key] = value();
        skipSpace();
        if (text[pos] === ",") pos++;
        else if (text[pos] !== "}") throw new Error(`expected ',' or '}' at ${pos}`);
      }
      pos++;
      return dict;
    }
    if (c === "(") {
      pos++;
      return sequence(")");
    }
    if (c === "[") {
      pos++;
      return sequence("]");
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, pos + 1);
      if (end < 0) throw new Error(`unterminated string at ${pos}`);
      const s = text.slice(pos + 1, end);
      pos = end + 1;
      return s;
    }
    const word = /^(True|False|None|-?\d+L?)/.exec(text.slice(pos, pos + 40));
    if (!word) throw new Error(`unexpected '${c ?? "end of header"}' at ${pos}`);
    pos += word[0].length;
    if (word[0] === "True") return true;
    if (word[0] === "False") return false;
    if (word[0] === "None") return null;
    return Number(word[0].replace("L", ""));
  };
  const result = value();
  skipSpace();
  if (pos !== text.length) throw new Error(`unexpected text after the dict at ${pos}`);
  return result;
}
