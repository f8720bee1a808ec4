/**
 * NRRD (teem's "nearly raw raster data", http://teem.sourceforge.net/nrrd/format.html) on bytes: a writer for
 * label maps (the MONAI Label result format, and the label map of an NRRD input) and a reader for what 3D Slicer,
 * ITK and teem write (attached data, raw, gzip or text encoding; `none` space directions for a colour axis).
 * Platform-neutral: gzip through gzip.ts (native zlib on Node). Written data are label maps: deflate level 1.
 *
 * Axis order is NRRD's: `sizes` lists the fastest axis first, i.e. (x, y, z) for C-order (z, y, x) data — the same
 * memory as a NIfTI's voxel array.
 */
import { gunzip, gzip as gzipBytes, LABEL_MAP_LEVEL } from "./gzip.js";
import { DaftInputError } from "../errors.js";
import { headerNumber, littleEndianBytes, toPlatformOrder } from "./byteOrder.js";

export type NrrdType = "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float" | "double";
export type NrrdData =
  Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** NRRD's names of the two patient frames a medical image lives in. */
export type NrrdSpace = "right-anterior-superior" | "left-posterior-superior";

export interface NrrdImage {
  type: NrrdType;
  /** Size of each axis, fastest first. */
  sizes: number[];
  data: NrrdData;
  /** Physical frame; with it, `spaceDirections` (one vector per axis) and `spaceOrigin` place the voxels. */
  space?: NrrdSpace;
  /** One 3-vector per axis; `null` (written `none`) for an axis that is not in space, e.g. RGB components. */
  spaceDirections?: (number[] | null)[];
  spaceOrigin?: number[];
  /** Voxel size per axis, for images that have no physical frame. */
  spacings?: number[];
  /** Per axis: "domain", "space", "RGB-color", "vector", … (written "domain" for every axis when absent). */
  kinds?: string[];
  /** Free text for the `content` field. */
  content?: string;
  /**
   * Key/value pairs (`key:=value` lines), in order: metadata that is not an NRRD field, e.g. 3D Slicer's
   * `Segment0_Name`. Keys may not hold ":=" or a line break; values may not hold a line break.
   */
  keyValues?: [string, string][];
  /** How the data was stored (reader only). */
  encoding?: "raw" | "gzip" | "text";
}

interface TypedArrayOf {
  new (length: number): NrrdData;
  new (buffer: ArrayBuffer): NrrdData;
}

const TYPES: { type: NrrdType; array: TypedArrayOf; bytes: number; aliases: string[] }[] = [
  { type: "uint8", array: Uint8Array, bytes: 1, aliases: ["uchar", "unsigned char", "uint8", "uint8_t"] },
  { type: "int8", array: Int8Array, bytes: 1, aliases: ["signed char", "int8", "int8_t"] },
  {
    type: "uint16",
    array: Uint16Array,
    bytes: 2,
    aliases: ["ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t"],
  },
  {
    type: "int16",
    array: Int16Array,
    bytes: 2,
    aliases: ["short", "short int", "signed short", "int16", "int16_t"],
  },
  { type: "uint32", array: Uint32Array, bytes: 4, aliases: ["uint", "unsigned int", "uint32", "uint32_t"] },
  { type: "int32", array: Int32Array, bytes: 4, aliases: ["int", "signed int", "int32", "int32_t"] },
  { type: "float", array: Float32Array, bytes: 4, aliases: ["float"] },
  { type: "double", array: Float64Array, bytes: 8, aliases: ["double"] },
];

function typeOfArray(data: NrrdData): (typeof TYPES)[number] {
  const entry = TYPES.find((t) => data instanceof t.array);
  if (!entry) throw new Error("writeNrrd: unsupported array type");
  return entry;
}

const num = (value: number) => headerNumber(value, "writeNrrd");

const vector = (values: readonly number[]) => `(${values.map(num).join(",")})`;

/**
 * An NRRD0004 file with the header and the data in one file (little-endian), gzip-encoded unless `gzip` is false.
 * The type is taken from the array (`image.type` must agree with it).
 */
export function writeNrrd(image: NrrdImage, options: { gzip?: boolean } = {}): Uint8Array {
  const { sizes, data } = image;
  const entry = typeOfArray(data);
  if (entry.type !== image.type)
    throw new Error(`writeNrrd: type ${image.type} does not match a ${entry.type} array`);
  if (sizes.length < 1 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new Error(`writeNrrd: sizes must be positive integers, got ${sizes.join(" ")}`);
  }
  const voxels = sizes.reduce((a, b) => a * b, 1);
  if (voxels !== data.length)
    throw new Error(`writeNrrd: sizes ${sizes.join("×")} do not match ${data.length} values`);
  const gzip = options.gzip ?? true;
  const lines = [
    "NRRD0004",
    "# Complete NRRD file format specification at:",
    "# http://teem.sourceforge.net/nrrd/format.html",
  ];
  if (image.content) lines.push(`content: ${image.content.replace(/[\r\n]+/g, " ")}`);
  lines.push(`type: ${image.type}`, `dimension: ${sizes.length}`);
  if (image.space) {
    const directions = image.spaceDirections;
    if (
      !directions ||
      directions.length !== sizes.length ||
      directions.some((d) => d !== null && d.length !== 3)
    ) {
      throw new Error("writeNrrd: a space needs one 3-vector (or null) in spaceDirections per axis");
    }
    if (image.spaceOrigin && image.spaceOrigin.length !== 3)
      throw new Error("writeNrrd: spaceOrigin must be a 3-vector");
    lines.push(`space: ${image.space}`, `sizes: ${sizes.join(" ")}`);
    lines.push(`space directions: ${directions.map((d) => (d ? vector(d) : "none")).join(" ")}`);
  } else {
    lines.push(`sizes: ${sizes.join(" ")}`);
    if (image.spacings) {
      if (image.spacings.length !== sizes.length) throw new Error("writeNrrd: one spacing per axis");
      lines.push(`spacings: ${image.spacings.map(num).join(" ")}`);
    }
  }
  if (image.kinds && image.kinds.length !== sizes.length) throw new Error("writeNrrd: one kind per axis");
  lines.push(`kinds: ${(image.kinds ?? sizes.map(() => "domain")).join(" ")}`);
  if (entry.bytes > 1) lines.push("endian: little");
  lines.push(`encoding: ${gzip ? "gzip" : "raw"}`);
  if (image.space && image.spaceOrigin) lines.push(`space origin: ${vector(image.spaceOrigin)}`);
  for (const [key, value] of image.keyValues ?? []) {
    if (key === "" || key.includes(":=") || /[\r\n]/.test(key) || /[\r\n]/.test(value))
      throw new Error(`writeNrrd: key/value pair "${key}" cannot be written on one line`);
    lines.push(`${key}:=${value}`);
  }
  const header = new TextEncoder().encode(`${lines.join("\n")}\n\n`);

  const raw = littleEndianBytes(data);
  const payload = gzip ? gzipBytes(raw, LABEL_MAP_LEVEL) : raw;
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  return out;
}

/** Reads an NRRD file with attached data (raw or gzip). Throws a one-line DaftInputError naming `source`. */
export function readNrrd(bytes: Uint8Array, source: string): NrrdImage {
  const fail = (problem: string): never => {
    throw new DaftInputError(problem, source);
  };
  const magic = new TextDecoder("latin1").decode(bytes.subarray(0, 8));
  if (!/^NRRD000[1-5]$/.test(magic)) fail("not an NRRD file (no NRRD000x magic)");
  const end = headerEnd(bytes);
  if (end < 0) fail("NRRD header has no blank line before the data (detached data files are not read)");
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, end));
  const fields = new Map<string, string>();
  const keyValues: [string, string][] = [];
  for (const line of text.split(/\r?\n/).slice(1)) {
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon > 0 && line[colon + 1] === "=") {
      keyValues.push([line.slice(0, colon), line.slice(colon + 2)]);
      continue;
    }
    const match = /^([^:]+):\s?(.*)$/.exec(line);
    if (!match) fail(`NRRD header line is not "field: value" or "key:=value": ${line}`);
    fields.set(match![1]!.trim().toLowerCase(), match![2]!.trim());
  }
  const get = (name: string) => fields.get(name);
  const typeName = (get("type") ?? fail("NRRD header has no type")).toLowerCase();
  const entry =
    TYPES.find((t) => t.aliases.includes(typeName) || t.type === typeName) ??
    fail(`NRRD type "${typeName}" is not supported`);
  const dimension = Number(get("dimension"));
  const sizes = (get("sizes") ?? fail("NRRD header has no sizes")).split(/\s+/).map(Number);
  if (
    !Number.isInteger(dimension) ||
    sizes.length !== dimension ||
    sizes.some((s) => !Number.isInteger(s) || s < 1)
  ) {
    fail(`NRRD sizes "${get("sizes")}" do not match dimension ${get("dimension")}`);
  }
  if (get("data file") !== undefined || get("datafile") !== undefined)
    fail("detached NRRD data files (.nhdr + data file) are not read; save the image as a single .nrrd file");
  for (const skip of ["line skip", "lineskip", "byte skip", "byteskip"]) {
    const value = get(skip);
    if (value !== undefined && Number(value) !== 0) fail(`NRRD "${skip}: ${value}" is not supported`);
  }
  const encoding = (get("encoding") ?? fail("NRRD header has no encoding")).toLowerCase();
  const voxels = sizes.reduce((a, b) => a * b, 1);
  let data: NrrdData;
  let stored: "raw" | "gzip" | "text" = "raw";
  if (encoding === "text" || encoding === "txt" || encoding === "ascii") {
    stored = "text";
    data = readTextValues(bytes.subarray(end + 2), voxels, entry, fail);
  } else {
    let payload = bytes.subarray(end + 2);
    if (encoding === "gzip" || encoding === "gz") {
      stored = "gzip";
      try {
        payload = gunzip(payload);
      } catch (error) {
        fail(`corrupt or truncated gzip data (${(error as Error).message})`);
      }
    } else if (encoding !== "raw") fail(`NRRD encoding "${encoding}" is not supported (raw, gzip or text)`);
    if (payload.length < voxels * entry.bytes) {
      fail(
        `NRRD data holds ${payload.length} bytes, ${voxels * entry.bytes} expected for sizes ${sizes.join("×")}`,
      );
    }
    const raw = payload.slice(0, voxels * entry.bytes);
    const little = (get("endian") ?? "little").toLowerCase() !== "big";
    toPlatformOrder(raw, entry.bytes, little);
    data = new entry.array(raw.buffer);
  }
  const image: NrrdImage = { type: entry.type, sizes, data, encoding: stored };
  const space = get("space");
  if (space === "right-anterior-superior" || space === "RAS") image.space = "right-anterior-superior";
  else if (space === "left-posterior-superior" || space === "LPS") image.space = "left-posterior-superior";
  else if (space !== undefined) fail(`NRRD space "${space}" is not supported (RAS or LPS)`);
  else if (get("space dimension") !== undefined)
    fail("NRRD space dimension without a named space is not supported (RAS or LPS)");
  const directions = get("space directions");
  if (directions !== undefined) {
    image.spaceDirections = parseDirections(directions, source);
    if (image.spaceDirections.length !== dimension)
      fail(`NRRD has ${image.spaceDirections.length} space directions for ${dimension} axes`);
  }
  const kinds = get("kinds");
  if (kinds !== undefined) {
    image.kinds = kinds.split(/\s+/);
    if (image.kinds.length !== dimension) fail(`NRRD has ${image.kinds.length} kinds for ${dimension} axes`);
  }
  const origin = get("space origin");
  if (origin !== undefined) image.spaceOrigin = parseVectors(origin, source)[0]!;
  const spacings = get("spacings");
  if (spacings !== undefined) image.spacings = spacings.split(/\s+/).map(Number);
  const content = get("content");
  if (content !== undefined) image.content = content;
  if (keyValues.length > 0) image.keyValues = keyValues;
  return image;
}

/** Index of the "\n\n" that ends the header, or -1. */
function headerEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] === 0x0a && bytes[i + 1] === 0x0a) return i;
    if (bytes[i] === 0x0a && bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return i + 1;
  }
  return -1;
}

/** `(x,y,z) none (x,y,z)`: one vector or `none` per axis. */
function parseDirections(text: string, source: string): (number[] | null)[] {
  const tokens = text.match(/\([^)]*\)|none/g) ?? [];
  const directions = tokens.map((token) => (token === "none" ? null : parseVectors(token, source)[0]!));
  if (directions.length === 0)
    throw new DaftInputError(`NRRD space directions are not "(x,y,z) …": ${text}`, source);
  return directions;
}

/** `encoding: text`: whitespace-separated numbers, exactly `voxels` of them. */
function readTextValues(
  payload: Uint8Array,
  voxels: number,
  entry: (typeof TYPES)[number],
  fail: (problem: string) => never,
): NrrdData {
  const tokens = new TextDecoder("latin1")
    .decode(payload)
    .trim()
    .split(/[\s,]+/)
    .filter((t) => t !== "");
  if (tokens.length < voxels) fail(`NRRD text data holds ${tokens.length} values, ${voxels} expected`);
  const data = new entry.array(voxels);
  for (let i = 0; i < voxels; i++) {
    const value = Number(tokens[i]);
    if (Number.isNaN(value) && !/^nan$/i.test(tokens[i]!))
      fail(`NRRD text value "${tokens[i]}" is not a number`);
    data[i] = value;
  }
  return data;
}

function parseVectors(text: string, source: string): number[][] {
  const vectors = [...text.matchAll(/\(([^)]*)\)/g)].map((m) =>
    m[1]!.split(",").map((v) => Number(v.trim())),
  );
  if (vectors.length === 0 || vectors.some((v) => v.some((x) => !Number.isFinite(x)))) {
    throw new DaftInputError(`NRRD vectors are not "(x,y,z) …": ${text}`, source);
  }
  return vectors;
}
