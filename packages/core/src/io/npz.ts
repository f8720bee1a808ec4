/**
 * numpy .npz archives (np.savez / np.savez_compressed): a zip of .npy files.
 *
 * Reading uses our own small central-directory parser (ZIP64 aware, CRC-checked, stored + deflate), so a bad
 * file gives one clear line and only the requested arrays are ever inflated. Writing lays out the zip itself.
 * Both inflate, deflate and CRC through the installed ZipCodec (zipCodec.ts: fflate anywhere, native zlib on
 * Node).
 */
import { strFromU8, strToU8 } from "fflate";
import { DaftInputError } from "../errors.js";
import type { NdArray } from "../image/types.js";
import { encodeNpyParts, parseNpy } from "./npy.js";
import { zipCodec, type DeflateLevel } from "./zipCodec.js";

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
        // An inflated member is a new array nobody else holds: a large one is decoded in place.
        return parseNpy(extract(bytes, entry), key, { adopt: entry.method === 8 });
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
  opts: { compress: boolean; level?: DeflateLevel },
): Uint8Array {
  const codec = zipCodec();
  const members: ZipMember[] = [];
  for (const [key, arr] of arrays instanceof Map ? arrays : Object.entries(arrays)) {
    if (key === "") throw new Error("writeNpz: array names must not be empty");
    const npy = encodeNpyParts(arr);
    const name = `${key}.npy`;
    members.push({
      name: strToU8(name),
      utf8: /[^\x20-\x7e]/.test(name),
      method: opts.compress ? 8 : 0,
      crc: codec.crc32(npy),
      size: npy[0].length + npy[1].length,
      data: opts.compress ? [codec.deflateRaw(npy, opts.level ?? 6)] : npy,
    });
  }
  return zipArchive(members);
}

/**
 * One archive member as written: `data` (consecutive parts) is the npy stored (method 0) or deflated (8); `size`
 * and `crc` are the npy's.
 */
interface ZipMember {
  name: Uint8Array;
  utf8: boolean;
  method: number;
  crc: number;
  size: number;
  data: Uint8Array[];
}

/**
 * A zip of already compressed members: local header + data each, then the central directory and its end record.
 * No ZIP64 records, so every size and offset must fit in 32 bits; the fixed timestamp (1980-01-01 00:00) keeps
 * the archive a pure function of the arrays.
 */
function zipArchive(members: ZipMember[]): Uint8Array {
  const DOS_DATE_1980_01_01 = (1 << 5) | 1;
  const dataLength = (m: ZipMember): number => m.data.reduce((n, part) => n + part.length, 0);
  const localSize = members.reduce((n, m) => n + 30 + m.name.length + dataLength(m), 0);
  const directorySize = members.reduce((n, m) => n + 46 + m.name.length, 0);
  const total = localSize + directorySize + 22;
  if (members.some((m) => m.size >= 0xffffffff) || total >= 0xffffffff) {
    throw new Error("writeNpz: arrays too large for a non-ZIP64 .npz (4 GiB)");
  }
  if (members.length > 0xffff) throw new Error("writeNpz: more than 65535 arrays for a non-ZIP64 .npz");
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  // The fields local header and directory entry share, from "version needed" to "name length".
  const common = (at: number, m: ZipMember): void => {
    view.setUint16(at, 20, true); // version needed: 2.0 (deflate)
    view.setUint16(at + 2, m.utf8 ? 0x800 : 0, true);
    view.setUint16(at + 4, m.method, true);
    view.setUint16(at + 6, 0, true); // time 00:00
    view.setUint16(at + 8, DOS_DATE_1980_01_01, true);
    view.setUint32(at + 10, m.crc >>> 0, true);
    view.setUint32(at + 14, dataLength(m), true);
    view.setUint32(at + 18, m.size, true);
    view.setUint16(at + 22, m.name.length, true);
  };
  const offsets: number[] = [];
  let at = 0;
  for (const m of members) {
    offsets.push(at);
    view.setUint32(at, 0x04034b50, true);
    common(at + 4, m);
    out.set(m.name, at + 30);
    at += 30 + m.name.length;
    for (const part of m.data) {
      out.set(part, at);
      at += part.length;
    }
  }
  members.forEach((m, i) => {
    view.setUint32(at, 0x02014b50, true);
    view.setUint16(at + 4, 20, true); // made by: version 2.0, MS-DOS attributes
    common(at + 6, m);
    view.setUint32(at + 42, offsets[i]!, true); // extra, comment, disk, attributes stay 0
    out.set(m.name, at + 46);
    at += 46 + m.name.length;
  });
  view.setUint32(at, 0x06054b50, true);
  view.setUint16(at + 8, members.length, true);
  view.setUint16(at + 10, members.length, true);
  view.setUint32(at + 12, directorySize, true);
  view.setUint32(at + 16, localSize, true);
  return out;
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
      data = zipCodec().inflateRaw(stored, entry.uncompressedSize);
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
  if (zipCodec().crc32([data]) !== entry.crc32)
    fail(`entry '${entry.name}' fails its CRC check (corrupt data)`);
  return data;
}
