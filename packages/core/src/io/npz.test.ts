import { readFileSync } from "node:fs";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import type { NdArray } from "../image/types.js";
import { inputErrorLine } from "../testing/inputErrors.js";
import { encodeNpy } from "./npy.js";
import { openNpz, readNpz, writeNpz } from "./npz.js";

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../../../fixtures/npz/${name}`, import.meta.url)));

const values = (arr: NdArray | undefined): unknown[] => Array.from((arr?.data ?? []) as ArrayLike<unknown>);

describe.each(["dtypes_savez.npz", "dtypes_savez_compressed.npz"])(
  "readNpz(%s) (numpy, ZIP64 extras)",
  (file) => {
    const arrays = readNpz(fixture(file));
    const get = (key: string): NdArray => {
      const arr = arrays.get(key);
      if (!arr) throw new Error(`missing ${key}`);
      return arr;
    };

    it("lists every array without the .npy suffix", () => {
      expect([...arrays.keys()]).toEqual([
      "u8", "i16", "f32", "f64", "flags", "i32_be", "f64_be", "u16_be", "f32_fortran", "i16_fortran",
      "u16", "u32", "i8", "u64", "i64", "f16", "scalar", "empty",
    ]); // prettier-ignore
    });

    it("decodes little-endian integers and floats exactly", () => {
      expect(get("u8")).toEqual({
        data: new Uint8Array([0, 40, 80, 120, 160, 200]),
        shape: [2, 3],
        dtype: "uint8",
      });
      expect(get("i16")).toEqual({
        data: new Int16Array([-300, -100, 100, 300]),
        shape: [4],
        dtype: "int16",
      });
      expect(get("f32").shape).toEqual([3, 2]);
      expect(values(get("f32"))).toEqual([-1, -0.75, -0.5, -0.25, 0, 0.25]);
      expect(get("f64").data).toEqual(new Float64Array([1 / 3, -2.5e300, 5e-324]));
      expect(get("u16").data).toEqual(new Uint16Array([0, 65535]));
      expect(get("u32").data).toEqual(new Uint32Array([0, 4294967295]));
      expect(get("i8").data).toEqual(new Int8Array([-128, 127]));
      expect(get("u64")).toEqual({
        data: new BigUint64Array([0n, 2n ** 64n - 1n]),
        shape: [2],
        dtype: "uint64",
      });
      expect(get("i64")).toEqual({
        data: new BigInt64Array([-(2n ** 63n), 2n ** 53n + 1n]),
        shape: [2],
        dtype: "int64",
      });
    });

    it("decodes bool, float16, 0-d and empty arrays", () => {
      expect(get("flags")).toEqual({
        data: new Uint8Array([1, 0, 1, 0, 0, 1]),
        shape: [2, 3],
        dtype: "bool",
      });
      expect(get("f16").dtype).toBe("float16");
      expect(values(get("f16"))).toEqual([1, -2, 0.5, 65504, 2 ** -24, Infinity, NaN]);
      expect(get("scalar")).toEqual({ data: new Int32Array([7]), shape: [], dtype: "int32" });
      expect(get("empty")).toEqual({ data: new Float32Array(0), shape: [0, 3], dtype: "float32" });
    });

    it("swaps big-endian arrays", () => {
      expect(get("i32_be")).toEqual({
        data: new Int32Array([1, -2, 65536, -2147483648]),
        shape: [4],
        dtype: "int32",
      });
      expect(get("f64_be").data).toEqual(new Float64Array([1.5, -0.125, 1e-300]));
      expect(get("u16_be").data).toEqual(new Uint16Array([1, 258, 65535]));
    });

    it("converts Fortran-order arrays to C order", () => {
      expect(get("f32_fortran").shape).toEqual([3, 4]);
      expect(values(get("f32_fortran"))).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(get("i16_fortran").shape).toEqual([2, 3, 4]);
      expect(values(get("i16_fortran"))).toEqual(Array.from({ length: 24 }, (_, i) => i));
    });
  },
);

describe("openNpz", () => {
  it("reads a ZIP64 central directory and end record", () => {
    const arrays = readNpz(fixture("zip64_directory.npz"));
    expect(arrays.get("a")).toEqual({ data: new Int32Array([1, 2, 3, 4]), shape: [2, 2], dtype: "int32" });
    expect(arrays.get("b")).toEqual({ data: new Float64Array([0.5]), shape: [1], dtype: "float64" });
  });

  it("lists keys without decoding, and decodes only what is asked for", () => {
    const archive = openNpz(fixture("unsupported.npz"), "odd.npz");
    expect(archive.keys).toEqual(["strings", "records", "objects", "complex"]);
    expect(archive.has("records")).toBe(true);
    expect(archive.has("imgs")).toBe(false);
    expect(inputErrorLine(() => archive.read("strings"))).toBe(
      "odd.npz: array 'strings' has string dtype '<U2', which is not supported; use bool, (u)int8/16/32/64 or float16/32/64",
    );
    expect(inputErrorLine(() => archive.read("records"))).toBe(
      "odd.npz: array 'records' has a structured (record) dtype, which is not supported; save plain numeric arrays",
    );
    expect(inputErrorLine(() => archive.read("objects"))).toMatch(
      /^odd.npz: array 'objects' has object dtype \(pickled/,
    );
    expect(inputErrorLine(() => archive.read("complex"))).toMatch(
      /^odd.npz: array 'complex' has complex dtype '<c8'/,
    );
    expect(inputErrorLine(() => archive.read("imgs"))).toBe(
      "odd.npz: no array 'imgs' (arrays present: strings, records, objects, complex)",
    );
  });

  it("still reads good arrays when another member is corrupt", () => {
    const bytes = writeNpz({ good: int16Array(), bad: int16Array() }, { compress: false });
    const badData = indexOfBytes(bytes, encodeAscii("bad.npy")) + "bad.npy".length + 128;
    bytes[badData] = 0xff - bytes[badData]!;
    const archive = openNpz(bytes);
    expect(archive.read("good").data).toEqual(int16Array().data);
    expect(inputErrorLine(() => archive.read("bad"))).toBe(
      "not a valid .npz (zip) file: entry 'bad.npy' fails its CRC check (corrupt data)",
    );
  });
});

describe("readNpz rejects bad files with one line", () => {
  const good = writeNpz({ imgs: int16Array() }, { compress: true });

  it.each([
    ["an empty file", new Uint8Array(0), "x.npz: not a valid .npz (zip) file: the file is empty"],
    [
      "random bytes",
      new Uint8Array(100).fill(7),
      "x.npz: not a valid .npz (zip) file: no zip directory found",
    ],
    [
      "a truncated zip",
      good.subarray(0, good.length - 10),
      "x.npz: not a valid .npz (zip) file: the file is truncated",
    ],
    [
      "a single .npy",
      new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]),
      "x.npz: not a valid .npz (zip) file: this is a single .npy array, not an .npz archive",
    ],
  ])("%s", (_, bytes, expected) => {
    expect(inputErrorLine(() => readNpz(bytes, "x.npz"))).toBe(expected);
  });

  it("a zip cut inside the member data", () => {
    // Keep the directory but drop the middle: the directory then points past the end.
    const cut = new Uint8Array([...good.subarray(0, 40), ...good.subarray(good.length - 120)]);
    expect(inputErrorLine(() => readNpz(cut, "x.npz"))).toBe(
      "x.npz: not a valid .npz (zip) file: the file is truncated (zip directory out of range)",
    );
  });

  it("corrupt deflate data", () => {
    const bytes = writeNpz({ imgs: int16Array() }, { compress: true });
    const dataStart = 30 + "imgs.npy".length;
    for (let i = dataStart; i < dataStart + 12; i++) bytes[i] = 0xff;
    expect(inputErrorLine(() => readNpz(bytes, "x.npz"))).toBe(
      "x.npz: not a valid .npz (zip) file: entry 'imgs.npy' has corrupt compressed data (invalid block type)",
    );
  });

  it("an array truncated inside a valid zip", () => {
    const npy = encodeNpy({ data: new Uint8Array(6), shape: [2, 3], dtype: "uint8" });
    const bytes = zipSync({ "imgs.npy": [npy.subarray(0, npy.length - 2), { level: 6 }] });
    expect(inputErrorLine(() => readNpz(bytes, "x.npz"))).toBe(
      "x.npz: array 'imgs' is truncated: expected 6 bytes, got 4",
    );
  });
});

describe("writeNpz", () => {
  const arrays: Record<string, NdArray> = {
    imgs: { data: Uint8Array.from({ length: 4096 }, (_, i) => i % 7), shape: [64, 64], dtype: "uint8" },
    spacing: { data: new Float64Array([2.5, 0.7, 0.7]), shape: [3], dtype: "float64" },
    big: { data: new BigInt64Array([-1n, 2n ** 62n]), shape: [2], dtype: "int64" },
    half: { data: new Float32Array([0.5, -2]), shape: [2], dtype: "float16" },
    flags: { data: new Uint8Array([1, 0]), shape: [2], dtype: "bool" },
  };

  it.each([true, false])("round trips through readNpz (compress=%s)", (compress) => {
    const back = readNpz(writeNpz(arrays, { compress }));
    expect([...back.keys()]).toEqual(Object.keys(arrays));
    for (const [key, arr] of Object.entries(arrays)) expect(back.get(key)).toEqual(arr);
  });

  it("compresses when asked, accepts a Map and is deterministic", () => {
    const stored = writeNpz(arrays, { compress: false });
    const compressed = writeNpz(new Map(Object.entries(arrays)), { compress: true });
    expect(compressed.length).toBeLessThan(stored.length / 4);
    expect(writeNpz(arrays, { compress: true })).toEqual(compressed);
  });
});

function int16Array(): NdArray {
  return { data: Int16Array.from({ length: 50 }, (_, i) => i * 3 - 70), shape: [5, 10], dtype: "int16" };
}

function encodeAscii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/** Where `needle` first occurs: for a member name, its local header (the directory comes last). */
function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error("not found");
}
