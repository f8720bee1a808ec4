import { afterEach, describe, expect, it } from "vitest";
import {
  crc32Js,
  fflateZipCodec,
  installZipCodec,
  openNpz,
  writeNpz,
  zipCodec,
  type NdArray,
} from "@daft/core";
import { nodeZipCodec } from "./nodeZipCodec.js";

/** Bytes with long runs (like a label map) and noise (like an image), deterministic. */
function sample(length: number): Uint8Array {
  let seed = 12345;
  return Uint8Array.from({ length }, (_, i) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return i % 1000 < 700 ? 0 : seed >>> 24;
  });
}

describe("nodeZipCodec", () => {
  afterEach(() => installZipCodec(fflateZipCodec));

  it.each([0, 1, 7, 100_000])("computes the same CRC-32 as the table CRC (%i bytes)", (length) => {
    const data = sample(length);
    expect(nodeZipCodec.crc32([data])).toBe(crc32Js(data));
    const cut = Math.floor(length / 3);
    expect(nodeZipCodec.crc32([data.subarray(0, cut), data.subarray(cut)])).toBe(crc32Js(data));
    expect(fflateZipCodec.crc32([data.subarray(0, cut), data.subarray(cut)])).toBe(crc32Js(data));
  });

  it("an empty part (a [0, 3] array's body) leaves the CRC as it is", () => {
    const header = sample(128);
    const empty = new Uint8Array(new Float32Array(0).buffer);
    expect(nodeZipCodec.crc32([header, empty])).toBe(crc32Js(header));
  });

  it("the CRC of a known string is the zip CRC-32", () => {
    expect(nodeZipCodec.crc32([new TextEncoder().encode("123456789")])).toBe(0xcbf43926);
  });

  it("inflates fflate's deflate and fflate inflates its deflate, byte for byte, whole or in parts", () => {
    const data = sample(300_000);
    const parts = [data.subarray(0, 128), data.subarray(128, 70_001), data.subarray(70_001)];
    for (const level of [1, 6, 9] as const) {
      for (const given of [[data], parts]) {
        expect(nodeZipCodec.inflateRaw(fflateZipCodec.deflateRaw(given, level), data.length)).toEqual(
          Buffer.from(data),
        );
        expect(fflateZipCodec.inflateRaw(nodeZipCodec.deflateRaw(given, level), data.length)).toEqual(data);
      }
    }
    for (const codec of [nodeZipCodec, fflateZipCodec]) {
      expect(codec.inflateRaw(codec.deflateRaw([], 6), 0)).toHaveLength(0);
    }
  });

  it("throws on corrupt data and on data that inflates past the expected size", () => {
    const deflated = nodeZipCodec.deflateRaw([sample(10_000)], 6);
    expect(() => nodeZipCodec.inflateRaw(Uint8Array.from([0xff, 0xff, 0xff, 0xff]), 100)).toThrow();
    expect(() => nodeZipCodec.inflateRaw(deflated, 5_000)).toThrow();
  });

  it("archives written with either codec read back identically with the other", () => {
    const arrays: Record<string, NdArray> = {
      segs: { data: Uint16Array.from(sample(4096)), shape: [4, 32, 32], dtype: "uint16" },
      spacing: { data: new Float64Array([2.5, 0.7, 0.7]), shape: [3], dtype: "float64" },
    };
    for (const [writer, reader] of [
      [nodeZipCodec, fflateZipCodec],
      [fflateZipCodec, nodeZipCodec],
    ] as const) {
      for (const compress of [true, false]) {
        installZipCodec(writer);
        const bytes = writeNpz(arrays, { compress, level: 1 });
        installZipCodec(reader);
        expect(zipCodec()).toBe(reader);
        const archive = openNpz(bytes);
        expect(archive.keys).toEqual(["segs", "spacing"]);
        for (const key of archive.keys) expect(archive.read(key)).toEqual(arrays[key]);
      }
    }
  });

  it("a flipped bit in the data still fails the CRC check with the native codec", () => {
    installZipCodec(nodeZipCodec);
    const bytes = writeNpz(
      { a: { data: new Uint8Array(64).fill(3), shape: [64], dtype: "uint8" } },
      { compress: false },
    );
    bytes[30 + "a.npy".length + 128 + 5]! ^= 1; // inside the stored array, after the 128-byte npy header
    expect(() => openNpz(bytes, "x.npz").read("a")).toThrow(/entry 'a\.npy' fails its CRC check/);
  });
});
