/**
 * gzip (RFC 1952) and zlib (RFC 1950) containers over the installed ZipCodec (zipCodec.ts): on Node its native
 * zlib (a 150 MB CT .nii.gz inflates in 0.6–0.9× fflate's time, and label maps deflate natively), in the browser
 * fflate. The container bytes are written here, so both codecs write the same header and trailer; reading a gzip
 * file is the codec's own primitive (a file may hold several members).
 */
import { zipCodec, type DeflateLevel } from "./zipCodec.js";

/** Level for label maps: long runs of one value compress nearly as well at 1 as at 6, several times faster. */
export const LABEL_MAP_LEVEL: DeflateLevel = 1;

/** A gzip file → its bytes (every member). Throws on corrupt data. */
export function gunzip(data: Uint8Array): Uint8Array {
  return zipCodec().gunzip(data);
}

/** True when `data` starts with the gzip magic. */
export function isGzip(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

/**
 * One gzip member holding `data` (or its parts' concatenation, e.g. a header and a view of a label map's bytes,
 * which then need not be joined first): no file name, modification time 0 (so equal data give equal files), OS
 * unknown.
 */
export function gzip(data: Uint8Array | readonly Uint8Array[], level: DeflateLevel = 6): Uint8Array {
  const codec = zipCodec();
  const parts = data instanceof Uint8Array ? [data] : data;
  const size = parts.reduce((n, part) => n + part.length, 0);
  const body = codec.deflateRaw(parts, level);
  const out = new Uint8Array(10 + body.length + 8);
  // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL (2: slowest, 4: fastest) OS=255 (unknown)
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 9 ? 2 : level === 1 ? 4 : 0, 255]);
  out.set(body, 10);
  const trailer = new DataView(out.buffer, out.byteOffset + 10 + body.length, 8);
  trailer.setUint32(0, codec.crc32(parts), true);
  trailer.setUint32(4, size >>> 0, true);
  return out;
}

/** A zlib stream holding `data` (as MetaIO writes compressed MetaImage data). */
export function zlibDeflate(data: Uint8Array, level: DeflateLevel = 6): Uint8Array {
  const body = zipCodec().deflateRaw([data], level);
  const out = new Uint8Array(2 + body.length + 4);
  // CMF: deflate, 32 KiB window; FLG: the level's hint, and a check so that CMF·256 + FLG is a multiple of 31.
  const cmf = 0x78;
  const hint = level === 1 ? 0 : level < 6 ? 1 : level === 6 ? 2 : 3;
  const flg = (hint << 6) | (31 - (((cmf << 8) | (hint << 6)) % 31));
  out[0] = cmf;
  out[1] = flg;
  out.set(body, 2);
  new DataView(out.buffer, out.byteOffset + 2 + body.length, 4).setUint32(0, adler32(data), false);
  return out;
}

/**
 * A zlib stream → its bytes, `maxSize` at most (the size its container promised, e.g. a MetaImage's DimSize ×
 * element size; the caller checks what came). Throws on a bad header, corrupt data or an Adler-32 mismatch.
 */
export function zlibInflate(data: Uint8Array, maxSize: number): Uint8Array {
  if (data.length < 6 || (data[0]! & 0x0f) !== 8 || ((data[0]! << 8) | data[1]!) % 31 !== 0)
    throw new Error("not a zlib stream (bad header)");
  if (data[1]! & 0x20) throw new Error("zlib stream needs a preset dictionary");
  const out = zipCodec().inflateRaw(data.subarray(2, data.length - 4), maxSize);
  const n = data.length;
  const stored = ((data[n - 4]! << 24) | (data[n - 3]! << 16) | (data[n - 2]! << 8) | data[n - 1]!) >>> 0;
  if (adler32(out) !== stored) throw new ChecksumMismatch("zlib Adler-32 mismatch");
  return out;
}

/** The data inflated, but not to what the stream's checksum says: corrupt rather than truncated. */
export class ChecksumMismatch extends Error {}

/** Adler-32 (RFC 1950), in blocks short enough that the sums cannot overflow before the modulo. */
export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length;) {
    const end = Math.min(i + 5552, data.length);
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
