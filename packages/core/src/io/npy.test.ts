import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { NdArray } from "../image/types.js";
import { thrownInputError } from "../testing/inputErrors.js";
import { encodeNpy, parseNpy } from "./npy.js";

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../../../fixtures/npz/${name}`, import.meta.url)));

/** Builds a .npy file by hand: version 1.0 header around `dict`, then `body`. */
function handmadeNpy(dict: string, body: number[] | Uint8Array, version = 1): Uint8Array {
  const lengthBytes = version === 1 ? 2 : 4;
  const header = new TextEncoder().encode(dict + "\n");
  const out = new Uint8Array(8 + lengthBytes + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(header, 8 + lengthBytes);
  out.set(body, 8 + lengthBytes + header.length);
  return out;
}

const message = (action: () => unknown): string => thrownInputError(action).message;

describe("parseNpy on numpy-written files", () => {
  it.each([1, 2, 3])("reads format version %i.0", (major) => {
    const bytes = fixture(`v${major}.npy`);
    expect(bytes[6]).toBe(major);
    const arr = parseNpy(bytes);
    expect(arr.dtype).toBe("float32");
    expect(arr.shape).toEqual([2, 3]);
    expect(Array.from(arr.data as Float32Array)).toEqual([0, 1.5, 3, 4.5, 6, 7.5]);
  });
});

describe("parseNpy on handmade headers", () => {
  it("swaps big-endian data", () => {
    const arr = parseNpy(
      handmadeNpy("{'descr': '>u2', 'fortran_order': False, 'shape': (2,), }", [1, 2, 0xff, 0]),
    );
    expect(arr.dtype).toBe("uint16");
    expect(Array.from(arr.data as Uint16Array)).toEqual([258, 0xff00]);
  });

  it("converts Fortran order to C order", () => {
    // C-order [[1, 2, 3], [4, 5, 6]] stored column by column.
    const arr = parseNpy(
      handmadeNpy("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }", [1, 4, 2, 5, 3, 6]),
    );
    expect(arr.shape).toEqual([2, 3]);
    expect(Array.from(arr.data as Uint8Array)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("reads 0-d, empty and bool arrays", () => {
    const scalar = parseNpy(
      handmadeNpy("{'descr': '<i2', 'fortran_order': False, 'shape': (), }", [0xfe, 0xff]),
    );
    expect(scalar.shape).toEqual([]);
    expect(Array.from(scalar.data as Int16Array)).toEqual([-2]);
    const empty = parseNpy(handmadeNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 5), }", []));
    expect(empty.shape).toEqual([0, 5]);
    expect(empty.data).toBeInstanceOf(Float64Array);
    expect(empty.data.length).toBe(0);
    const flags = parseNpy(
      handmadeNpy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", [0, 1, 7]),
    );
    expect(flags.dtype).toBe("bool");
    expect(Array.from(flags.data as Uint8Array)).toEqual([0, 1, 1]);
  });

  it("returns aligned data even when the input is at an odd offset", () => {
    const npy = handmadeNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8));
    const shifted = new Uint8Array(npy.length + 1);
    shifted.set(npy, 1);
    const arr = parseNpy(shifted.subarray(1));
    expect(arr.data.byteOffset % 8).toBe(0);
    expect(Array.from(arr.data as Float64Array)).toEqual([0]);
  });
});

describe("parseNpy with adopt (bytes handed over)", () => {
  /** A 1 MiB array whose data starts 128 bytes in (numpy's alignment), placed `shift` bytes into its buffer. */
  const big = (descr: string, itemsize: number, shift = 0) => {
    const count = (1 << 20) / itemsize;
    const body = Uint8Array.from({ length: count * itemsize }, (_, i) => (i * 7) & 0xff);
    const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${count},), }`.padEnd(128 - 10 - 1);
    const npy = handmadeNpy(dict, body);
    const at = new Uint8Array(npy.length + shift);
    at.set(npy, shift);
    return { bytes: at.subarray(shift), body };
  };
  const bytesOf = (a: NdArray) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);

  it("views a large aligned array in place, with the same values as a copy", () => {
    const { bytes, body } = big("<u2", 2);
    const adopted = parseNpy(bytes, "imgs", { adopt: true });
    const copied = parseNpy(bytes, "imgs");
    expect(adopted.data.buffer).toBe(bytes.buffer);
    expect(adopted.data.byteOffset).toBe(128);
    expect(copied.data.buffer).not.toBe(bytes.buffer);
    expect(adopted.data.length).toBe(copied.data.length);
    expect(bytesOf(adopted).equals(bytesOf(copied))).toBe(true);
    expect(bytesOf(adopted).equals(body)).toBe(true);
  });

  it("still copies what cannot be a view: misaligned, byte-swapped, small", () => {
    for (const { bytes } of [big("<u2", 2, 1), big(">u2", 2)]) {
      const arr = parseNpy(bytes, "a", { adopt: true });
      expect(arr.data.buffer).not.toBe(bytes.buffer);
      expect(arr.data.byteOffset % 2).toBe(0);
      expect(bytesOf(arr).equals(bytesOf(parseNpy(bytes, "a")))).toBe(true);
    }
    const small = handmadeNpy("{'descr': '|u1', 'fortran_order': False, 'shape': (4,), }", [1, 2, 3, 4]);
    expect(parseNpy(small, "a", { adopt: true }).data.buffer).not.toBe(small.buffer);
  });
});

describe("parseNpy rejects bad input", () => {
  const header = (descr: string, shape = "(3,)") =>
    `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;

  it("names the array and the byte counts when data is truncated", () => {
    const npy = handmadeNpy(header("<f4", "(2, 3)"), new Uint8Array(20));
    expect(message(() => parseNpy(npy, "imgs"))).toBe("array 'imgs' is truncated: expected 24 bytes, got 20");
    expect(message(() => parseNpy(npy))).toBe("array is truncated: expected 24 bytes, got 20");
  });

  it("rejects trailing bytes after the data", () => {
    const npy = handmadeNpy(header("|u1"), [1, 2, 3, 4]);
    expect(message(() => parseNpy(npy, "x"))).toBe("array 'x' has 1 unexpected bytes after its data");
  });

  it("rejects a missing magic, unknown versions and a truncated header", () => {
    expect(message(() => parseNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), "a"))).toBe(
      "array 'a' is not a .npy file (missing the \\x93NUMPY magic)",
    );
    const v4 = handmadeNpy(header("|u1"), [1, 2, 3]);
    v4[6] = 4;
    expect(message(() => parseNpy(v4, "a"))).toBe("array 'a' has unsupported .npy format version 4.0");
    const full = handmadeNpy(header("|u1"), [1, 2, 3]);
    expect(message(() => parseNpy(full.subarray(0, 30), "a"))).toMatch(
      /^array 'a' is truncated inside its header/,
    );
  });

  it("rejects malformed headers", () => {
    expect(message(() => parseNpy(handmadeNpy("{'descr': '<f4', 'shape': (3,", [])))).toMatch(
      /^array has a malformed header/,
    );
    expect(message(() => parseNpy(handmadeNpy("{'descr': '<f4', 'shape': (3,), }", [])))).toBe(
      "array has a header without a boolean 'fortran_order'",
    );
    expect(message(() => parseNpy(handmadeNpy(header("<f4", "(-1,)"), [])))).toBe(
      "array has a header without a valid 'shape' tuple",
    );
  });

  it.each([
    ["|O", "object dtype (pickled Python objects) '|O'"],
    ["<U5", "string dtype '<U5'"],
    ["|S3", "bytes dtype '|S3'"],
    ["|V8", "structured (void) dtype '|V8'"],
    ["<c16", "complex dtype '<c16'"],
    ["<M8[ns]", "dtype '<M8[ns]'"],
    ["<f16", "dtype '<f16'"],
  ])("rejects dtype %s with a clear message", (descr, what) => {
    expect(message(() => parseNpy(handmadeNpy(header(descr), new Uint8Array(48)), "v"))).toBe(
      `array 'v' has ${what}, which is not supported; use bool, (u)int8/16/32/64 or float16/32/64`,
    );
  });

  it("rejects structured dtypes", () => {
    const npy = handmadeNpy(
      "{'descr': [('a', '<i4'), ('b', '<f4')], 'fortran_order': False, 'shape': (1,), }",
      [],
    );
    expect(message(() => parseNpy(npy, "r"))).toBe(
      "array 'r' has a structured (record) dtype, which is not supported; save plain numeric arrays",
    );
  });
});

describe("encodeNpy", () => {
  const cases: NdArray[] = [
    { data: new Uint8Array([0, 1, 1, 0]), shape: [2, 2], dtype: "bool" },
    { data: new Uint8Array([0, 255]), shape: [2], dtype: "uint8" },
    { data: new Int8Array([-128, 127]), shape: [2], dtype: "int8" },
    { data: new Uint16Array([65535]), shape: [1], dtype: "uint16" },
    { data: new Int16Array([-2, 3, 4]), shape: [3, 1], dtype: "int16" },
    { data: new Uint32Array([4294967295]), shape: [], dtype: "uint32" },
    { data: new Int32Array([-5, 6]), shape: [1, 2], dtype: "int32" },
    { data: new BigUint64Array([2n ** 64n - 1n]), shape: [1], dtype: "uint64" },
    { data: new BigInt64Array([-(2n ** 63n)]), shape: [1], dtype: "int64" },
    { data: new Float32Array([0.5, -1e30]), shape: [2], dtype: "float32" },
    { data: new Float64Array([Math.PI, NaN, -Infinity]), shape: [3], dtype: "float64" },
    { data: new Float32Array([0]).subarray(0, 0), shape: [0, 4], dtype: "float32" },
  ];

  it.each(cases)("round trips $dtype $shape", (arr) => {
    const bytes = encodeNpy(arr);
    const headerEnd = bytes.indexOf(0x0a) + 1; // header ends with '\n'
    expect(headerEnd % 64).toBe(0);
    const back = parseNpy(bytes);
    expect(back.dtype).toBe(arr.dtype);
    expect(back.shape).toEqual(arr.shape);
    expect(back.data.constructor).toBe(arr.data.constructor);
    expect(Array.from(back.data as ArrayLike<number>)).toEqual(Array.from(arr.data as ArrayLike<number>));
  });

  it("writes the numpy header text", () => {
    const bytes = encodeNpy({ data: new Int16Array(6), shape: [2, 3], dtype: "int16" });
    const dict = "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }";
    expect(bytes.length).toBe(128 + 12);
    expect(new TextDecoder().decode(bytes.subarray(10, 128))).toBe(dict.padEnd(117, " ") + "\n");
    const oneD = new TextDecoder().decode(encodeNpy({ data: new Uint8Array(3), shape: [3], dtype: "uint8" }));
    expect(oneD).toContain("'shape': (3,), }");
  });

  it("rounds float16 to nearest even like numpy", () => {
    const inputs = [
      1,
      65504,
      65519,
      65520,
      2 ** -24,
      2 ** -25,
      3 * 2 ** -25,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      -0.1,
      NaN,
    ];
    const expected = [
      1,
      65504,
      65504,
      Infinity,
      2 ** -24,
      0,
      2 ** -23,
      1,
      1 + 2 ** -9,
      -0.0999755859375,
      NaN,
    ];
    const bytes = encodeNpy({ data: new Float32Array(inputs), shape: [inputs.length], dtype: "float16" });
    expect(bytes.length - (bytes.indexOf(0x0a) + 1)).toBe(2 * inputs.length);
    const back = parseNpy(bytes);
    expect(back.dtype).toBe("float16");
    expect(Array.from(back.data as Float32Array)).toEqual(expected);
  });

  it("refuses data that does not match the dtype or shape", () => {
    expect(() => encodeNpy({ data: new Float32Array(2), shape: [2], dtype: "float64" })).toThrow(
      "encodeNpy: dtype 'float64' cannot be held in a Float32Array",
    );
    expect(() => encodeNpy({ data: new Uint8Array(5), shape: [2, 3], dtype: "uint8" })).toThrow(
      "encodeNpy: shape (2, 3) needs 6 elements, data has 5",
    );
    expect(() => encodeNpy({ data: new Uint8Array(1), shape: [1], dtype: "str" })).toThrow(
      "encodeNpy: unsupported dtype 'str'",
    );
  });
});
