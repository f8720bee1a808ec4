/**
 * numpy .npz archives (np.savez / np.savez_compressed): a zip of .npy files.
 *
 * Reading uses our own small central-directory parser (ZIP64 aware, CRC-checked, stored + deflate via fflate's
 * inflateSync), so a bad file gives one clear line and only the requested arrays are ever inflated.
 * Writing uses fflate's zipSync.
 */
import { inflateSync, strFromU8, zipSync, type Zippable } from "fflate";
import { DaftInputError } from "../errors.js";
import type { NdArray } from "../image/types.js";
import { encodeNpy, parseNpy } from "./npy.js";

/** An opened .npz: the directory is read at once, an array only when asked for. */
export interface NpzArchive {
  /** Array names, without the ".npy" suffix, in archive order. */
  readonly keys: string[];
  has(key: string): boolean;
  /** Inflates, CRC-checks and decodes one array. Throws DaftInputError for unknown keys or bad data. */
  read(key: string): NdArray;
}

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const NOT_NPZ = "not a valid .npz (zip) file";

/** Opens an .npz lazily. `source` (the file name) is attached to every error. */
export function openNpz(bytes: Uint8Array, source?: string): NpzArchive {
  const entries = new Map<string, ZipEntry>();
  try {
    for (const entry of readCentralDirectory(bytes)) {
      if (!entry.name.endsWith(".npy")) continue; // np.load also treats other members as non-arrays
      const key = entry.name.slice(0, -".npy".length);
      if (entries.has(key)) throw new DaftInputError(`${NOT_NPZ}: array '${key}' appears twice`);
      entries.set(key, entry);
    }
  } catch (e) {
    throw withSource(e, source);
  }
  const keys = [...entries.keys()];
  return {
    keys,
    has: (key) => entries.has(key),
    read(key) {
      const entry = entries.get(key);
      if (!entry) {
        throw new DaftInputError(`no array '${key}' (arrays present: ${keys.join(", ") || "none"})`, source);
      }
      try {
        return parseNpy(extract(bytes, entry), key);
      } catch (e) {
        throw withSource(e, source);
      }
    },
  };
}

/** Reads every array of an .npz. Keys are the array names without ".npy". */
export function readNpz(bytes: Uint8Array, source?: string): Map<string, NdArray> {
  const archive = openNpz(bytes, source);
  return new Map(archive.keys.map((key) => [key, archive.read(key)]));
}

/**
 * Writes arrays as an .npz numpy's np.load reads; `compress` deflates (level 6 like np.savez_compressed unless
 * `level` says otherwise: label maps compress nearly as well at level 1, several times faster).
 */
export function writeNpz(
  arrays: Record<string, NdArray> | Map<string, NdArray>,
  opts: { compress: boolean; level?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 },
): Uint8Array {
  const files: Zippable = {};
  let totalBytes = 0;
  for (const [key, arr] of arrays instanceof Map ? arrays : Object.entries(arrays)) {
    if (key === "") throw new Error("writeNpz: array names must not be empty");
    const npy = encodeNpy(arr);
    totalBytes += npy.length;
    // fflate writes no ZIP64 records, so sizes and offsets must fit in 32 bits.
    if (totalBytes >= 0xffffffff) throw new Error("writeNpz: arrays too large for a non-ZIP64 .npz (4 GiB)");
    files[`${key}.npy`] = [npy, { level: opts.compress ? (opts.level ?? 6) : 0 }];
  }
  // A fixed timestamp keeps the output a pure function of the arrays.
  return zipSync(files, { mtime: new Date(1980, 0, 1) });
}

function withSource(e: unknown, source: string | undefined): unknown {
  return e instanceof DaftInputError && source !== undefined ? e.withSource(source) : e;
}

function fail(problem: string): never {
  throw new DaftInputError(`${NOT_NPZ}: ${problem}`);
}

/** Reads the end-of-central-directory record (ZIP64 aware) and every central directory entry. */
function readCentralDirectory(bytes: Uint8Array): ZipEntry[] {
  if (bytes.length === 0) fail("the file is empty");
  if (bytes[0] === 0x93 && strFromU8(bytes.subarray(1, 6), true) === "NUMPY") {
    fail("this is a single .npy array, not an .npz archive");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number): number => view.getUint16(at, true);
  const u32 = (at: number): number => view.getUint32(at, true);
  const u64 = (at: number): number => {
    const value = u32(at) + u32(at + 4) * 2 ** 32;
    if (!Number.isSafeInteger(value)) fail(`a 64-bit size or offset is too large (${value})`);
    return value;
  };

  // The EOCD record is the last 22 bytes plus a comment of up to 65535 bytes.
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (u32(at) === 0x06054b50 && at + 22 + u16(at + 20) <= bytes.length) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) {
    fail(bytes[0] === 0x50 && bytes[1] === 0x4b ? "the file is truncated" : "no zip directory found");
  }
  let entryCount = u16(eocd + 10);
  let directorySize = u32(eocd + 12);
  let directoryOffset = u32(eocd + 16);
  if (eocd >= 20 && u32(eocd - 20) === 0x07064b50) {
    const zip64Eocd = u64(eocd - 12);
    if (zip64Eocd + 56 > bytes.length || u32(zip64Eocd) !== 0x06064b50) fail("broken ZIP64 end record");
    entryCount = u64(zip64Eocd + 32);
    directorySize = u64(zip64Eocd + 40);
    directoryOffset = u64(zip64Eocd + 48);
  }
  if (directoryOffset + directorySize > bytes.length)
    fail("the file is truncated (zip directory out of range)");

  const entries: ZipEntry[] = [];
  let at = directoryOffset;
  for (let i = 0; i < entryCount; i++) {
    if (at + 46 > bytes.length || u32(at) !== 0x02014b50) fail(`zip directory entry ${i} is corrupt`);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > bytes.length) fail(`zip directory entry ${i} is truncated`);
    const flags = u16(at + 8);
    const entry: ZipEntry = {
      name: strFromU8(bytes.subarray(at + 46, at + 46 + nameLength), (flags & 0x800) === 0),
      method: u16(at + 10),
      flags,
      crc32: u32(at + 16),
      compressedSize: u32(at + 20),
      uncompressedSize: u32(at + 24),
      localHeaderOffset: u32(at + 42),
    };
    // ZIP64 extra field (id 1): 64-bit values for exactly those fields stored as 0xFFFFFFFF, in this order.
    const extraEnd = at + 46 + nameLength + extraLength;
    for (let x = at + 46 + nameLength; x + 4 <= extraEnd; x += 4 + u16(x + 2)) {
      if (u16(x) !== 1) continue;
      let field = x + 4;
      const next = (): number => {
        if (field + 8 > extraEnd) fail(`zip entry '${entry.name}' has a truncated ZIP64 field`);
        field += 8;
        return u64(field - 8);
      };
      if (entry.uncompressedSize === 0xffffffff) entry.uncompressedSize = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next();
    }
    entries.push(entry);
    at = end;
  }
  return entries;
}

/** The uncompressed, CRC-checked bytes of one entry. */
function extract(bytes: Uint8Array, entry: ZipEntry): Uint8Array {
  const at = entry.localHeaderOffset;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (at + 30 > bytes.length || view.getUint32(at, true) !== 0x04034b50) {
    fail(`entry '${entry.name}' has no local header (the file is truncated or corrupt)`);
  }
  if (entry.flags & 1) fail(`entry '${entry.name}' is encrypted`);
  const dataStart = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > bytes.length) fail(`entry '${entry.name}' is truncated`);
  const stored = bytes.subarray(dataStart, dataEnd);

  let data: Uint8Array;
  if (entry.method === 0) {
    data = stored;
  } else if (entry.method === 8) {
    try {
      data = inflateSync(stored, { out: new Uint8Array(entry.uncompressedSize) });
    } catch (e) {
      return fail(`entry '${entry.name}' has corrupt compressed data (${(e as Error).message})`);
    }
  } else {
    return fail(
      `entry '${entry.name}' uses zip compression method ${entry.method}; only stored and deflate are supported`,
    );
  }
  if (data.length !== entry.uncompressedSize) {
    fail(
      `entry '${entry.name}' inflates to ${data.length} bytes, the directory says ${entry.uncompressedSize}`,
    );
  }
  if (crc32(data) !== entry.crc32) fail(`entry '${entry.name}' fails its CRC check (corrupt data)`);
  return data;
}

let crcTable: Uint32Array | undefined;

function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
