/**
 * The raw DEFLATE and CRC-32 primitives under the .npz reader and writer, and gzip under every .nii.gz, .nrrd and
 * compressed .mha read and written (gzip.ts builds the containers on these primitives).
 *
 * The core's own codec is pure JavaScript (fflate) and runs anywhere. A platform may install a faster one once at
 * start-up: the Node adapter installs node:zlib's native code, several times faster on a 3D case's 75–150 MB
 * arrays. Any codec reads every standard archive and writes archives every reader inflates to the same bytes;
 * the choice changes speed, never the arrays.
 */
import { Deflate, gunzipSync, inflateSync } from "fflate";

export type DeflateLevel = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;

/**
 * Each operation takes the data as consecutive parts (e.g. an .npy header and a view of the array's bytes), so
 * a writer never has to concatenate a large array into a new buffer first.
 */
export interface ZipCodec {
  readonly name: string;
  /**
   * Raw DEFLATE (RFC 1951) data → its bytes, in a new array the caller owns (`size`: the expected length, a
   * bound). Throws on corrupt data.
   */
  inflateRaw(data: Uint8Array, size: number): Uint8Array;
  /** One raw DEFLATE stream of the parts' concatenation, at `level`. */
  deflateRaw(parts: readonly Uint8Array[], level: DeflateLevel): Uint8Array;
  /** The zip CRC-32 (IEEE 802.3) of the parts' concatenation. */
  crc32(parts: readonly Uint8Array[]): number;
  /**
   * A gzip file (RFC 1952) → its bytes, in a new array the caller owns. The size is not known up front (a .nii.gz
   * holds its header inside), hence a primitive of its own. Throws on corrupt data.
   */
  gunzip(data: Uint8Array): Uint8Array;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 by table lookup, one byte at a time; `previous` continues the CRC of the bytes before `data`. */
export function crc32Js(data: Uint8Array, previous = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The portable codec: fflate's inflate and streaming deflate, and a table CRC. */
export const fflateZipCodec: ZipCodec = {
  name: "fflate",
  inflateRaw: (data, size) => inflateSync(data, { out: new Uint8Array(size) }),
  deflateRaw(parts, level) {
    const chunks: Uint8Array[] = [];
    const stream = new Deflate({ level }, (chunk) => chunks.push(chunk));
    if (parts.length === 0) stream.push(new Uint8Array(0), true);
    parts.forEach((part, i) => stream.push(part, i === parts.length - 1));
    return concatBytes(chunks);
  },
  crc32: (parts) => parts.reduce((crc, part) => crc32Js(part, crc), 0),
  gunzip: (data) => gunzipSync(data),
};

/** The parts joined into one array (a single part is returned as it is). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

let installed: ZipCodec = fflateZipCodec;

/** Makes `codec` the one every later .npz read and write uses (a platform adapter calls this at start-up). */
export function installZipCodec(codec: ZipCodec): void {
  installed = codec;
}

/** The codec in use. */
export function zipCodec(): ZipCodec {
  return installed;
}
