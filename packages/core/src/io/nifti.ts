/**
 * NIfTI-1 and NIfTI-2 single-file (.nii, .nii.gz) reader and a NIfTI-1 writer, on bytes.
 * Platform-neutral: gzip through gzip.ts (native zlib on Node). Voxel data stays in NIfTI's (x, y, z) Fortran
 * order, which has the same memory layout as a C-order (z, y, x) array: `toZyxVolume` reinterprets it without
 * copying.
 */
import { gunzip, gzip } from "./gzip.js";
import { concatBytes, type DeflateLevel } from "./zipCodec.js";
import { DaftInputError } from "../errors.js";
import { littleEndianBytes, toPlatformOrder } from "./byteOrder.js";
import type { NdArray } from "../image/types.js";

/** Stored datatypes read; int64/uint64 (nibabel's default for int64 arrays) are read into float64 values. */
export type NiftiDatatype =
  "uint8" | "int8" | "int16" | "uint16" | "int32" | "uint32" | "float32" | "float64" | "int64" | "uint64";
export type NiftiData =
  Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

export interface NiftiImage {
  version: 1 | 2;
  littleEndian: boolean;
  /** Size of each axis, dim[1..dim[0]] (x first). */
  dims: number[];
  /**
   * Voxel size of each axis, pixdim[1..dim[0]]. NIfTI-1 stores float32: values are given as the shortest
   * decimal that round-trips (0.7, not 0.699999988), like Python's float(repr(np.float32(v))).
   */
  pixdim: number[];
  /** The stored datatype. */
  datatype: NiftiDatatype;
  /** scl_slope / scl_inter as stored (slope 0 or NaN means "no scaling"). */
  sclSlope: number;
  sclInter: number;
  /** True when `data` holds stored * slope + inter (as float32, or float64 for float64 files). */
  scaled: boolean;
  qformCode: number;
  sformCode: number;
  /** Voxel (i, j, k) → world (mm) 4x4 affine, row-major: sform if set, else qform, else pixdim scaling. */
  affine: number[][];
  /** Byte offset of the voxel data in the (uncompressed) file. */
  voxOffset: number;
  /** Free-text header fields (up to the first NUL, control bytes as spaces, trimmed): what routing reads. */
  text: NiftiHeaderText;
  /** Voxel values, x fastest (Fortran order over dims). */
  data: NiftiData;
}

const DATATYPES: Record<number, { name: NiftiDatatype; bytes: number }> = {
  2: { name: "uint8", bytes: 1 },
  4: { name: "int16", bytes: 2 },
  8: { name: "int32", bytes: 4 },
  16: { name: "float32", bytes: 4 },
  64: { name: "float64", bytes: 8 },
  256: { name: "int8", bytes: 1 },
  512: { name: "uint16", bytes: 2 },
  768: { name: "uint32", bytes: 4 },
  1024: { name: "int64", bytes: 8 },
  1280: { name: "uint64", bytes: 8 },
};

const UNSUPPORTED_DATATYPES: Record<number, string> = {
  1: "binary",
  32: "complex64",
  128: "RGB24",
  1536: "float128",
  1792: "complex128",
  2048: "complex256",
  2304: "RGBA32",
};

/** The header's free-text fields, by their NIfTI names. */
export interface NiftiHeaderText {
  /** descrip: 80 bytes (dcm2niix: "TE=..;Time=..", SPM: "TR=..ms/TE=..ms/FA=..deg", tools: free text). */
  descrip: string;
  /** intent_name: 16 bytes. */
  intent_name: string;
  /** aux_file: 24 bytes. */
  aux_file: string;
}

/** Byte offset and length of each text field: NIfTI-1, NIfTI-2. */
const TEXT_FIELDS: Record<keyof NiftiHeaderText, { v1: number; v2: number; length: number }> = {
  descrip: { v1: 148, v2: 240, length: 80 },
  aux_file: { v1: 228, v2: 320, length: 24 },
  intent_name: { v1: 328, v2: 508, length: 16 },
};

/** A fixed-size C string of the header: up to the first NUL, bytes as Latin-1, control bytes as spaces, trimmed. */
function headerString(bytes: Uint8Array, at: number, length: number): string {
  let out = "";
  for (let i = at; i < at + length && i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0) break;
    out += b < 0x20 || b === 0x7f ? " " : String.fromCharCode(b);
  }
  return out.trim();
}

/** True when `bytes` start like a NIfTI-1/2 header or a gzip stream (a .nii.gz). */
export function looksLikeNifti(bytes: Uint8Array): boolean {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return true;
  return headerVersion(bytes) !== undefined;
}

/**
 * Reads a .nii or .nii.gz file. Throws a one-line DaftInputError naming `name` for bad input. `owned`: the caller
 * hands `fileBytes` over (e.g. freshly decompressed, nobody else holds them), so the voxels may be a view into
 * them instead of a copy, as they are when this function decompresses the file itself (a CT volume's 150 MB).
 */
export function readNifti(fileBytes: Uint8Array, name: string, opts: { owned?: boolean } = {}): NiftiImage {
  let bytes = fileBytes;
  let owned = opts.owned ?? false;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzip(fileBytes);
      owned = true;
    } catch (error) {
      throw new DaftInputError(`corrupt or truncated gzip stream (${errorText(error)})`, name);
    }
  }
  const format = headerVersion(bytes);
  if (format === undefined) {
    throw new DaftInputError("not a NIfTI file (header size is neither 348 nor 540)", name);
  }
  try {
    return parseNifti(bytes, format.version, format.littleEndian, owned);
  } catch (error) {
    if (error instanceof DaftInputError) throw error.withSource(name);
    throw new DaftInputError(`corrupt NIfTI file (${errorText(error)})`, name);
  }
}

function headerVersion(bytes: Uint8Array): { version: 1 | 2; littleEndian: boolean } | undefined {
  if (bytes.length < 4) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === 348) return { version: 1, littleEndian };
    if (size === 540) return { version: 2, littleEndian };
  }
  return undefined;
}

function parseNifti(bytes: Uint8Array, version: 1 | 2, littleEndian: boolean, owned: boolean): NiftiImage {
  const headerSize = version === 1 ? 348 : 540;
  if (bytes.length < headerSize) throw new DaftInputError(`truncated NIfTI header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const i16 = (at: number) => view.getInt16(at, littleEndian);
  const i32 = (at: number) => view.getInt32(at, littleEndian);
  const f32 = (at: number) => view.getFloat32(at, littleEndian);
  const f64 = (at: number) => view.getFloat64(at, littleEndian);
  const i64 = (at: number) => Number(view.getBigInt64(at, littleEndian));
  const v1 = version === 1;

  const magic = String.fromCharCode(...bytes.subarray(v1 ? 344 : 4, v1 ? 347 : 7));
  if (magic === "ni1" || magic === "ni2") {
    throw new DaftInputError(
      "NIfTI header-only file (.hdr/.img pair) is not supported; use a single-file .nii",
    );
  }
  if (magic !== (v1 ? "n+1" : "n+2")) throw new DaftInputError(`bad NIfTI magic "${magic}"`);

  const rawDim = Array.from({ length: 8 }, (_, i) => (v1 ? i16(40 + 2 * i) : i64(16 + 8 * i)));
  const rank = rawDim[0]!;
  if (rank < 1 || rank > 7) throw new DaftInputError(`bad NIfTI dim[0] = ${rank}`);
  const dims = rawDim.slice(1, rank + 1);
  if (dims.some((size) => size < 1)) throw new DaftInputError(`bad NIfTI dimensions ${dims.join("x")}`);
  const rawPixdim = Array.from({ length: 8 }, (_, i) =>
    v1 ? shortestFloat32(f32(76 + 4 * i)) : f64(104 + 8 * i),
  );
  const pixdim = rawPixdim.slice(1, rank + 1);

  const code = v1 ? i16(70) : i16(12);
  const type = DATATYPES[code];
  if (!type) {
    const known = UNSUPPORTED_DATATYPES[code];
    throw new DaftInputError(
      `unsupported NIfTI datatype ${code}${known ? ` (${known})` : ""}; supported: uint8, int8, int16, uint16, int32, uint32, int64, uint64, float32, float64`,
    );
  }
  const sclSlope = v1 ? f32(112) : f64(176);
  const sclInter = v1 ? f32(116) : f64(184);
  const qformCode = v1 ? i16(252) : i32(344);
  const sformCode = v1 ? i16(254) : i32(348);
  const declaredOffset = v1 ? f32(108) : i64(168);
  const voxOffset = dataOffset(bytes, view, headerSize, Math.floor(declaredOffset), littleEndian);

  const voxels = dims.reduce((product, size) => product * size, 1);
  const end = voxOffset + voxels * type.bytes;
  if (end > bytes.length) {
    throw new DaftInputError(
      `truncated NIfTI data: ${dims.join("x")} ${type.name} needs ${end} bytes, file has ${bytes.length}`,
    );
  }
  // A view where the bytes are ours and the voxels aligned for their typed array; else a copy (also aligned).
  const adopt = owned && (bytes.byteOffset + voxOffset) % type.bytes === 0;
  const raw = adopt ? bytes.subarray(voxOffset, end) : bytes.slice(voxOffset, end);
  const stored = typedData(raw, type.name, type.bytes, littleEndian);
  const applyScaling =
    Number.isFinite(sclSlope) &&
    sclSlope !== 0 &&
    (sclSlope !== 1 || (Number.isFinite(sclInter) && sclInter !== 0));
  const data = applyScaling ? scale(stored, sclSlope, Number.isFinite(sclInter) ? sclInter : 0) : stored;

  const text = (field: keyof NiftiHeaderText) => {
    const { v1: at1, v2: at2, length } = TEXT_FIELDS[field];
    return headerString(bytes, v1 ? at1 : at2, length);
  };

  const quaternion = v1 ? [256, 260, 264, 268, 272, 276].map(f32) : [352, 360, 368, 376, 384, 392].map(f64);
  const srows = [0, 1, 2].map((row) =>
    [0, 1, 2, 3].map((col) => (v1 ? f32(280 + 16 * row + 4 * col) : f64(400 + 32 * row + 8 * col))),
  );
  const affine =
    sformCode > 0
      ? [...srows, [0, 0, 0, 1]]
      : qformCode > 0
        ? qformAffine(quaternion, rawPixdim)
        : [
            [rawPixdim[1] ?? 1, 0, 0, 0],
            [0, rawPixdim[2] ?? 1, 0, 0],
            [0, 0, rawPixdim[3] ?? 1, 0],
            [0, 0, 0, 1],
          ];

  return {
    version,
    littleEndian,
    dims,
    pixdim,
    datatype: type.name,
    sclSlope,
    sclInter,
    scaled: applyScaling,
    qformCode,
    sformCode,
    affine,
    voxOffset,
    text: { descrip: text("descrip"), intent_name: text("intent_name"), aux_file: text("aux_file") },
    data,
  };
}

/**
 * Where the voxel data starts. A single-file NIfTI whose vox_offset is unset (0) or too small gets the
 * minimum offset (header + 4-byte extender + extensions), as nibabel does.
 */
function dataOffset(
  bytes: Uint8Array,
  view: DataView,
  headerSize: number,
  declared: number,
  littleEndian: boolean,
): number {
  const minimum = headerSize + 4;
  if (declared >= minimum) return declared;
  let at = minimum;
  if (bytes[headerSize] !== 0) {
    // Extensions: repeated (esize int32, ecode int32, data), esize a multiple of 16.
    while (at + 8 <= bytes.length) {
      const size = view.getInt32(at, littleEndian);
      if (size < 16 || size % 16 !== 0 || at + size > bytes.length) break;
      at += size;
    }
  }
  return at;
}

function typedData(
  raw: Uint8Array,
  datatype: NiftiDatatype,
  bytesPerVoxel: number,
  littleEndian: boolean,
): NiftiData {
  toPlatformOrder(raw, bytesPerVoxel, littleEndian);
  const buffer = raw.buffer as ArrayBuffer;
  const at = raw.byteOffset;
  const count = raw.byteLength / bytesPerVoxel;
  switch (datatype) {
    case "uint8":
      return raw;
    case "int8":
      return new Int8Array(buffer, at, count);
    case "int16":
      return new Int16Array(buffer, at, count);
    case "uint16":
      return new Uint16Array(buffer, at, count);
    case "int32":
      return new Int32Array(buffer, at, count);
    case "uint32":
      return new Uint32Array(buffer, at, count);
    case "float32":
      return new Float32Array(buffer, at, count);
    case "float64":
      return new Float64Array(buffer, at, count);
    case "int64":
      return Float64Array.from(new BigInt64Array(buffer, at, count), Number);
    case "uint64":
      return Float64Array.from(new BigUint64Array(buffer, at, count), Number);
  }
}

function scale(stored: NiftiData, slope: number, inter: number): Float32Array | Float64Array {
  const out =
    stored instanceof Float64Array ? new Float64Array(stored.length) : new Float32Array(stored.length);
  for (let i = 0; i < stored.length; i++) out[i] = stored[i]! * slope + inter;
  return out;
}

/** NIfTI method 2: rotation from quaternion (b, c, d), pixdim scaling with qfac = pixdim[0], offsets. */
function qformAffine(quaternion: number[], rawPixdim: number[]): number[][] {
  const [b = 0, c = 0, d = 0, x = 0, y = 0, z = 0] = quaternion;
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const rotation = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const qfac = rawPixdim[0] === -1 ? -1 : 1;
  const zooms = [rawPixdim[1] ?? 1, rawPixdim[2] ?? 1, (rawPixdim[3] ?? 1) * qfac];
  const offsets = [x, y, z];
  return [
    ...rotation.map((row, r) => [...row.map((value, col) => value * zooms[col]!), offsets[r]!]),
    [0, 0, 0, 1],
  ];
}

const DTYPE_OF_ARRAY: [new (...args: never[]) => NiftiData, NiftiDatatype][] = [
  [Uint8Array, "uint8"],
  [Int8Array, "int8"],
  [Int16Array, "int16"],
  [Uint16Array, "uint16"],
  [Int32Array, "int32"],
  [Uint32Array, "uint32"],
  [Float32Array, "float32"],
  [Float64Array, "float64"],
];

/** A 3D volume as a C-order (D, H, W) = (z, y, x) array and its spacing (z, y, x) from pixdim. */
export interface ZyxVolume {
  array: NdArray<NiftiData>;
  spacing: [number, number, number];
}

/**
 * The volume in C order (z, y, x). The bytes are not moved: x-fastest Fortran data over (x, y, z) is
 * C-order data over (z, y, x). Accepts 3D images and higher ranks whose extra axes have size 1;
 * a 2D image becomes depth 1.
 */
export function toZyxVolume(nifti: NiftiImage, name = "NIfTI"): ZyxVolume {
  const extra = nifti.dims.slice(3);
  if (extra.some((size) => size !== 1)) {
    throw new DaftInputError(`expected a 3D volume, got dimensions ${nifti.dims.join("x")}`, name);
  }
  const [nx = 1, ny = 1, nz = 1] = nifti.dims;
  const [px = 1, py = 1, pz = 1] = nifti.pixdim;
  const dtype =
    nifti.data instanceof Float32Array
      ? "float32"
      : nifti.data instanceof Float64Array
        ? "float64"
        : nifti.datatype;
  return {
    array: { data: nifti.data, shape: [nz, ny, nx], dtype },
    spacing: [Math.abs(pz), Math.abs(py), Math.abs(px)],
  };
}

export interface WriteNiftiOptions {
  /** Voxel size per axis (x, y, z); default: the affine's column lengths, or 1. */
  pixdim?: number[];
  /** 4x4 voxel → world affine (row-major); default: diagonal pixdim. Stored as sform (code 1). */
  affine?: number[][];
  /** gzip the result (.nii.gz). */
  gzip?: boolean;
  /** Its deflate level (default 6; label maps: LABEL_MAP_LEVEL). */
  gzipLevel?: DeflateLevel;
  /** Header text fields (ASCII; cut to 79 / 15 / 23 bytes so a NUL ends each). */
  text?: Partial<NiftiHeaderText>;
}

/** Writes a little-endian NIfTI-1 single file (vox_offset 352) for data in (x, y, z) Fortran order. */
export function writeNifti(data: NiftiData, dims: number[], options: WriteNiftiOptions = {}): Uint8Array {
  const parts = niftiParts(data, dims, options);
  return options.gzip ? gzip(parts, options.gzipLevel) : concatBytes(parts);
}

/**
 * writeNifti's file as two parts, its 352-byte header and its voxels (a view of `data`'s bytes on a little-endian
 * machine), for a writer that changes header fields and deflates the parts without joining them first.
 */
export function niftiParts(
  data: NiftiData,
  dims: number[],
  options: Omit<WriteNiftiOptions, "gzip" | "gzipLevel"> = {},
): [header: Uint8Array, body: Uint8Array] {
  const entry = DTYPE_OF_ARRAY.find(([ArrayType]) => data instanceof ArrayType);
  if (!entry) throw new DaftInputError("unsupported array type for NIfTI");
  const datatype = entry[1];
  const code = Number(Object.keys(DATATYPES).find((key) => DATATYPES[Number(key)]!.name === datatype));
  const bytesPerVoxel = DATATYPES[code]!.bytes;
  const voxels = dims.reduce((product, size) => product * size, 1);
  if (dims.length < 1 || dims.length > 7 || voxels !== data.length) {
    throw new DaftInputError(`NIfTI dims ${dims.join("x")} do not match ${data.length} values`);
  }
  // Without explicit pixdim, the voxel size of a spatial axis is the length of its affine column.
  const columnNorm = (col: number) =>
    options.affine ? Math.hypot(...[0, 1, 2].map((row) => options.affine?.[row]?.[col] ?? 0)) : 1;
  const pixdim = dims.map((_, i) => options.pixdim?.[i] ?? (i < 3 ? columnNorm(i) : 1));
  const affine = options.affine ?? [
    [pixdim[0] ?? 1, 0, 0, 0],
    [0, pixdim[1] ?? 1, 0, 0],
    [0, 0, pixdim[2] ?? 1, 0],
    [0, 0, 0, 1],
  ];
  const out = new Uint8Array(352);
  const view = new DataView(out.buffer);
  view.setInt32(0, 348, true);
  view.setInt16(40, dims.length, true);
  dims.forEach((size, i) => view.setInt16(42 + 2 * i, size, true));
  for (let i = dims.length; i < 7; i++) view.setInt16(42 + 2 * i, 1, true);
  view.setInt16(70, code, true);
  view.setInt16(72, bytesPerVoxel * 8, true);
  view.setFloat32(76, 1, true); // qfac
  pixdim.forEach((size, i) => view.setFloat32(80 + 4 * i, size, true));
  view.setFloat32(108, 352, true);
  view.setFloat32(112, 1, true);
  view.setFloat32(116, 0, true);
  view.setUint8(123, 2); // xyzt_units: mm
  view.setInt16(252, 0, true); // qform_code: unknown
  view.setInt16(254, 1, true); // sform_code: scanner
  for (let row = 0; row < 3; row++) {
    for (let col = 0; col < 4; col++)
      view.setFloat32(280 + 16 * row + 4 * col, affine[row]?.[col] ?? 0, true);
  }
  for (const [field, value] of Object.entries(options.text ?? {}) as [keyof NiftiHeaderText, string][]) {
    const { v1, length } = TEXT_FIELDS[field];
    for (let i = 0; i < Math.min(value.length, length - 1); i++) out[v1 + i] = value.charCodeAt(i) & 0xff;
  }
  out.set([0x6e, 0x2b, 0x31, 0], 344); // "n+1\0"
  return [out, littleEndianBytes(data)];
}

/** The float64 of the shortest decimal that reads back as the same float32. */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
