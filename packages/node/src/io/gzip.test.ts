import zlib from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import {
  adler32,
  fflateZipCodec,
  gunzip,
  gzip,
  installZipCodec,
  isGzip,
  zlibDeflate,
  zlibInflate,
  type ZipCodec,
} from "@daft/core";
import { nodeZipCodec } from "./nodeZipCodec.js";

/** Whether two byte arrays hold the same bytes (vitest's deep equality walks large arrays slowly). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Bytes with long runs (like a label map) and noise (like an image), deterministic. */
function sample(length: number): Uint8Array {
  let seed = 777;
  return Uint8Array.from({ length }, (_, i) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return i % 900 < 600 ? 3 : seed >>> 24;
  });
}

// The containers gzip.ts writes over either codec, read by either codec and by zlib itself.
describe.each([
  ["fflate", fflateZipCodec],
  ["node:zlib", nodeZipCodec],
] as [string, ZipCodec][])("gzip.ts over %s", (_, codec) => {
  afterEach(() => installZipCodec(fflateZipCodec));

  it.each([0, 1, 5000, 300_000])(
    "gzip → gunzip gives the bytes back, as zlib and both codecs read them (%i bytes)",
    (n) => {
      installZipCodec(codec);
      const data = sample(n);
      for (const level of [1, 6, 9] as const) {
        const file = gzip(data, level);
        expect(isGzip(file)).toBe(true);
        expect(same(zlib.gunzipSync(file), data)).toBe(true);
        expect(same(fflateZipCodec.gunzip(file), data)).toBe(true);
        expect(same(nodeZipCodec.gunzip(file), data)).toBe(true);
        expect(same(gunzip(file), data)).toBe(true);
      }
    },
  );

  it("gzips parts as their concatenation (a header and a label map's bytes, not joined first)", () => {
    installZipCodec(codec);
    const header = sample(352);
    const body = sample(100_001);
    const joined = new Uint8Array(header.length + body.length);
    joined.set(header);
    joined.set(body, header.length);
    expect(same(zlib.gunzipSync(gzip([header, body], 1)), joined)).toBe(true);
    expect(new Uint8Array(zlib.gunzipSync(gzip([], 6)))).toEqual(new Uint8Array(0));
  });

  it("writes the same file for the same data (modification time 0)", () => {
    installZipCodec(codec);
    const data = sample(20_000);
    expect(same(gzip(data, 1), gzip(Uint8Array.from(data), 1))).toBe(true);
    expect(Array.from(gzip(data, 1).subarray(4, 8))).toEqual([0, 0, 0, 0]);
  });

  it("zlibDeflate → zlibInflate and zlib.inflateSync give the bytes back; the header checks out", () => {
    installZipCodec(codec);
    const data = sample(70_000);
    for (const level of [1, 3, 6, 9] as const) {
      const stream = zlibDeflate(data, level);
      expect(((stream[0]! << 8) | stream[1]!) % 31).toBe(0);
      expect(same(zlib.inflateSync(stream), data)).toBe(true);
      expect(same(zlibInflate(stream, data.length), data)).toBe(true);
    }
    const fromZlib = new Uint8Array(zlib.deflateSync(data));
    expect(same(zlibInflate(fromZlib, data.length), data)).toBe(true);
  });

  it("zlibInflate refuses a bad header, a preset dictionary and a wrong checksum", () => {
    installZipCodec(codec);
    const stream = zlibDeflate(sample(1000));
    const badHeader = stream.slice();
    badHeader[1] = badHeader[1]! ^ 1;
    expect(() => zlibInflate(badHeader, 1000)).toThrow(/not a zlib stream/);
    const dictionary = stream.slice();
    dictionary[1] = 0x20 | (31 - (((0x78 << 8) | 0x20) % 31));
    expect(() => zlibInflate(dictionary, 1000)).toThrow(/preset dictionary/);
    const badSum = stream.slice();
    badSum[badSum.length - 1] = badSum[badSum.length - 1]! ^ 0xff;
    expect(() => zlibInflate(badSum, 1000)).toThrow(/Adler-32 mismatch/);
  });
});

describe("adler32", () => {
  it("is RFC 1950's checksum, also over more than 5552 bytes of 255s (the block bound)", () => {
    expect(adler32(new TextEncoder().encode("Wikipedia"))).toBe(0x11e60398);
    expect(adler32(new Uint8Array(0))).toBe(1);
    const ff = new Uint8Array(20_000).fill(255);
    let a = 1;
    let b = 0;
    for (const v of ff) {
      a = (a + v) % 65521;
      b = (b + a) % 65521;
    }
    expect(adler32(ff)).toBe(((b << 16) | a) >>> 0);
  });
});

describe("nodeZipCodec.gunzip", () => {
  it("reads every member of a multi-member file (as bgzip and cat a.gz b.gz write), not only the last's size", () => {
    const a = sample(40_000);
    const b = sample(123);
    const file = Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)]);
    const joined = new Uint8Array(a.length + b.length);
    joined.set(a);
    joined.set(b, a.length);
    expect(same(nodeZipCodec.gunzip(file), joined)).toBe(true);
  });

  it("refuses truncated and corrupt data, and a CRC that does not match", () => {
    const file = new Uint8Array(zlib.gzipSync(sample(50_000)));
    expect(() => nodeZipCodec.gunzip(file.subarray(0, file.length >> 1))).toThrow();
    const badCrc = file.slice();
    badCrc[badCrc.length - 6] = badCrc[badCrc.length - 6]! ^ 0xff;
    expect(() => nodeZipCodec.gunzip(badCrc)).toThrow();
    expect(() => nodeZipCodec.gunzip(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3]))).toThrow();
  });
});
