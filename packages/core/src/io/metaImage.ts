/**
 * ITK's MetaImage format (MetaIO, https://itk.org/Wiki/ITK/MetaIO/Documentation) on bytes: the single-file `.mha`
 * that ITK, SimpleITK and grand-challenge.org read and write — a text header of `Key = Value` lines ending with
 * `ElementDataFile = LOCAL`, then the voxels, raw or zlib-compressed. Detached data (`.mhd` + `.raw`/`.zraw`, LIST,
 * slice patterns) is refused. Platform-neutral: zlib via fflate.
 *
 * Axis order is MetaIO's: `sizes` (DimSize) lists the fastest axis first, i.e. (x, y, z) for C-order (z, y, x)
 * data — the same memory as NRRD and NIfTI. Channels (ElementNumberOfChannels) are interleaved, fastest of all.
 *
 * Geometry is ITK's, in its LPS world frame:
 *   world = offset + Σ_i index_i · spacing_i · directions[i]
 * where directions[i], the unit vector of image axis i, is row i of the N×N TransformMatrix (values i·N … i·N+N−1).
 * Confirmed in ITK's Modules/IO/Meta/src/itkMetaImageIO.cxx: ReadImageInformation copies
 * `transformMatrix[ii * N + jj]` into `directionAxis[jj]` and calls `SetDirection(ii, directionAxis)`, and Write
 * fills `transformMatrix[ii * N + jj] = GetDirection(ii)[jj]` — rows of the matrix are axes, both ways.
 */
import { ChecksumMismatch, gunzip, isGzip, LABEL_MAP_LEVEL, zlibDeflate, zlibInflate } from "./gzip.js";
import { zipCodec } from "./zipCodec.js";
import { DaftInputError } from "../errors.js";
import { headerNumber, littleEndianBytes, toPlatformOrder } from "./byteOrder.js";

export type MetaElementType =
  "MET_UCHAR" | "MET_CHAR" | "MET_USHORT" | "MET_SHORT" | "MET_UINT" | "MET_INT" | "MET_FLOAT" | "MET_DOUBLE";

export type MetaImageData =
  Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export interface MetaImage {
  elementType: MetaElementType;
  /** Size of each axis, fastest first (DimSize). */
  sizes: number[];
  /** ElementNumberOfChannels (1 unless given); channels are interleaved, fastest of all. */
  channels: number;
  /** sizes[0] · … · sizes[N−1] · channels values. */
  data: MetaImageData;
  /** ElementSpacing per axis (default 1; ElementSize when only that is given). */
  spacing: number[];
  /** Offset (alias Origin, Position): world position of voxel 0, in ITK's LPS frame. */
  offset: number[];
  /**
   * Direction cosines of each axis: directions[i] is the unit vector of axis i (row i of TransformMatrix,
   * alias Rotation / Orientation; identity when none is given).
   */
  directions: number[][];
  /** AnatomicalOrientation as written (e.g. "RAI"), if any; ITK's all-unknown "???" counts as none. */
  anatomicalOrientation?: string;
  /** True when the data was zlib-compressed (CompressedData = True). */
  compressed: boolean;
}

/** What writeMetaImage needs: the voxels and their sizes; the rest defaults (1 channel, unit spacing, origin 0, identity). */
export type MetaImageInput = Pick<MetaImage, "sizes" | "data"> & Partial<Omit<MetaImage, "sizes" | "data">>;

interface TypedArrayOf {
  new (length: number): MetaImageData;
  new (buffer: ArrayBuffer): MetaImageData;
}

const TYPES: { type: MetaElementType; array: TypedArrayOf; bytes: number }[] = [
  { type: "MET_UCHAR", array: Uint8Array, bytes: 1 },
  { type: "MET_CHAR", array: Int8Array, bytes: 1 },
  { type: "MET_USHORT", array: Uint16Array, bytes: 2 },
  { type: "MET_SHORT", array: Int16Array, bytes: 2 },
  { type: "MET_UINT", array: Uint32Array, bytes: 4 },
  { type: "MET_INT", array: Int32Array, bytes: 4 },
  { type: "MET_FLOAT", array: Float32Array, bytes: 4 },
  { type: "MET_DOUBLE", array: Float64Array, bytes: 8 },
];

/** The header keys MetaIO itself reads or writes for an image (metaObject.cxx, metaImage.cxx). */
const METAIO_KEYS = new Set(
  [
    "ObjectType",
    "ObjectSubType",
    "FileFormatVersion",
    "Comment",
    "AcquisitionDate",
    "NDims",
    "Name",
    "ID",
    "ParentID",
    "CompressedData",
    "CompressedDataSize",
    "BinaryData",
    "ElementByteOrderMSB",
    "BinaryDataByteOrderMSB",
    "Color",
    "Position",
    "Origin",
    "Offset",
    "TransformMatrix",
    "Rotation",
    "Orientation",
    "CenterOfRotation",
    "DistanceUnits",
    "AnatomicalOrientation",
    "ElementSpacing",
    "DimSize",
    "HeaderSize",
    "Modality",
    "ImagePosition",
    "SequenceID",
    "ElementMin",
    "ElementMax",
    "ElementNumberOfChannels",
    "ElementSize",
    "ElementNBits",
    "ElementToIntensityFunctionSlope",
    "ElementToIntensityFunctionOffset",
    "ElementType",
    "ElementDataFile",
  ].map((key) => key.toLowerCase()),
);

/** How far the reader looks for the ElementDataFile line that ends the header. */
const MAX_HEADER_BYTES = 1 << 20;

function typeOfArray(data: MetaImageData): (typeof TYPES)[number] {
  const entry = TYPES.find((t) => data instanceof t.array);
  if (!entry) throw new Error("writeMetaImage: unsupported array type");
  return entry;
}

const num = (value: number) => headerNumber(value, "writeMetaImage");

/**
 * True when `bytes` start like a MetaImage header: a printable ASCII `Key = Value` line whose key is one MetaIO
 * uses (ObjectType, NDims, Comment, …). Looks at the first 512 bytes only.
 */
export function isMetaImage(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 512);
  let end = head.indexOf(0x0a);
  if (end < 0) end = head.length;
  let line = "";
  for (let i = 0; i < end; i++) {
    const c = head[i]!;
    if (c === 0x0d && i === end - 1) break;
    if (c !== 0x09 && (c < 0x20 || c > 0x7e)) return false;
    line += String.fromCharCode(c);
  }
  const match = /^\s*([A-Za-z]\w*)\s*=/.exec(line);
  return match !== null && METAIO_KEYS.has(match[1]!.toLowerCase());
}

/**
 * The header's fields (keys lower-cased, last one wins) and where the data starts: right after the newline of the
 * ElementDataFile line.
 */
function parseHeader(
  bytes: Uint8Array,
  fail: (problem: string) => never,
): { fields: Map<string, string>; dataStart: number } {
  if (bytes.length === 0) fail("not a MetaImage header (the file is empty)");
  const fields = new Map<string, string>();
  const decoder = new TextDecoder("latin1");
  const head = bytes.subarray(0, MAX_HEADER_BYTES);
  const tooLong = () => fail("not a MetaImage header (no ElementDataFile line in the first 1 MiB)");
  let start = 0;
  for (let lineNumber = 1; start < head.length; lineNumber++) {
    let end = head.indexOf(0x0a, start);
    if (end < 0 && head.length < bytes.length) tooLong();
    const next = end < 0 ? head.length : end + 1;
    if (end < 0) end = head.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    const raw = bytes.subarray(start, end);
    // Control bytes mean binary data; so does a first line that is not plain ASCII (later ones may hold Latin-1 or
    // UTF-8 text in a Comment or a DICOM field ITK copied).
    if (raw.some((c) => c !== 0x09 && (c < 0x20 || c === 0x7f || (fields.size === 0 && c > 0x7f)))) {
      fail(`not a MetaImage header (line ${lineNumber} is not text)`);
    }
    const line = decoder.decode(raw).trim();
    start = next;
    if (line === "") continue;
    const match = /^([^=]*[^=\s])\s*=\s*(.*)$/.exec(line);
    if (!match) {
      const shown = line.length > 40 ? `${line.slice(0, 40)}…` : line;
      fail(`not a MetaImage header (line ${lineNumber} is not "Key = Value": ${shown})`);
    }
    const key = match[1]!.toLowerCase();
    fields.set(key, match[2]!);
    if (key === "elementdatafile") return { fields, dataStart: next };
  }
  if (head.length < bytes.length) tooLong();
  if (!fields.has("ndims") && !fields.has("objecttype"))
    fail("not a MetaImage header (no NDims or ObjectType)");
  return fail("MetaImage header has no ElementDataFile line (it must end the header)");
}

const isTrue = (value: string) => /^[tT1]/.test(value);

/** Reads a single-file MetaImage (.mha, raw or compressed). Throws a one-line DaftInputError naming `source`. */
export function readMetaImage(bytes: Uint8Array, source: string): MetaImage {
  const fail = (problem: string): never => {
    throw new DaftInputError(problem, source);
  };
  const { fields, dataStart } = parseHeader(bytes, fail);
  const get = (key: string) => fields.get(key.toLowerCase());
  const objectType = get("ObjectType");
  const ndimsText = get("NDims");
  if (objectType === undefined && ndimsText === undefined)
    fail("not a MetaImage header (no NDims or ObjectType)");
  if (objectType !== undefined && objectType.toLowerCase() !== "image") {
    fail(`MetaImage ObjectType is "${objectType}", not Image`);
  }

  const dimSizeText = get("DimSize") ?? fail("MetaImage header has no DimSize");
  const sizes = dimSizeText.split(/\s+/).map(Number);
  const ndims = ndimsText === undefined ? sizes.length : Number(ndimsText);
  if (!Number.isInteger(ndims) || ndims < 1 || ndims > 4) {
    fail(`MetaImage NDims "${ndimsText}" is not supported (1 to 4 axes)`);
  }
  if (sizes.length !== ndims)
    fail(`MetaImage DimSize "${dimSizeText}" has ${sizes.length} values, NDims is ${ndims}`);
  if (sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    fail(`MetaImage DimSize "${dimSizeText}" must be positive integers`);
  }

  const typeName = get("ElementType") ?? fail("MetaImage header has no ElementType");
  const entry =
    TYPES.find((t) => t.type === typeName.toUpperCase()) ??
    fail(`MetaImage ElementType ${typeName} is not supported (${TYPES.map((t) => t.type).join(", ")})`);
  const channelsText = get("ElementNumberOfChannels");
  const channels = channelsText === undefined ? 1 : Number(channelsText);
  if (!Number.isInteger(channels) || channels < 1) {
    fail(`MetaImage ElementNumberOfChannels "${channelsText}" is not a positive integer`);
  }

  const dataFile = get("ElementDataFile")!;
  if (dataFile.toUpperCase() !== "LOCAL") {
    fail(
      `detached MetaImage data (ElementDataFile = ${dataFile}) is not read; save the image as a single .mha file`,
    );
  }
  // MetaImage::Clear() makes BinaryData true unless the header says otherwise.
  const binary = get("BinaryData");
  if (binary !== undefined && !isTrue(binary)) {
    fail("ASCII MetaImage data (BinaryData = False) is not read; save the image with binary data");
  }

  const vector = (key: string, length: number, what: string): number[] | undefined => {
    const text = get(key);
    if (text === undefined) return undefined;
    const values = text === "" ? [] : text.split(/\s+/).map(Number);
    if (values.length !== length) fail(`MetaImage ${key} "${text}" has ${values.length} values, ${what}`);
    if (values.some((v) => !Number.isFinite(v))) fail(`MetaImage ${key} "${text}" is not all finite numbers`);
    return values;
  };
  const spacingKey = get("ElementSpacing") !== undefined ? "ElementSpacing" : "ElementSize";
  const spacing = vector(spacingKey, ndims, `NDims is ${ndims}`) ?? sizes.map(() => 1);
  if (spacing.some((s) => s <= 0)) fail(`MetaImage ${spacingKey} "${get(spacingKey)}" must be positive`);
  // Precedence as in MetaObject::M_Read: TransformMatrix over Rotation over Orientation, Origin over Position over Offset.
  const offsetKey = ["Origin", "Position", "Offset"].find((key) => get(key) !== undefined);
  const offset = offsetKey ? vector(offsetKey, ndims, `NDims is ${ndims}`)! : sizes.map(() => 0);
  const matrixKey = ["TransformMatrix", "Rotation", "Orientation"].find((key) => get(key) !== undefined);
  const matrix = matrixKey
    ? vector(matrixKey, ndims * ndims, `${ndims}×${ndims} = ${ndims * ndims} expected`)!
    : sizes.flatMap((_, i) => sizes.map((__, j) => (i === j ? 1 : 0)));
  const directions = sizes.map((_, axis) => matrix.slice(axis * ndims, axis * ndims + ndims));

  const bigEndian = isTrue(get("BinaryDataByteOrderMSB") ?? get("ElementByteOrderMSB") ?? "False");
  const compressed = isTrue(get("CompressedData") ?? "False");
  const voxels = sizes.reduce((a, b) => a * b, 1) * channels;
  const expected = voxels * entry.bytes;
  const shape = `DimSize ${sizes.join("×")}${channels > 1 ? ` × ${channels} channels` : ""} of ${entry.type}`;

  // HeaderSize > 0: the data starts at that byte of the file; -1: the data is the file's last bytes (M_ReadElements).
  const headerSizeText = get("HeaderSize");
  const headerSize = headerSizeText === undefined ? 0 : Number(headerSizeText);
  if (!Number.isInteger(headerSize) || headerSize < -1) {
    fail(`MetaImage HeaderSize "${headerSizeText}" is not a byte count`);
  }
  let payload = bytes.subarray(dataStart);
  if (headerSize > 0) payload = bytes.subarray(Math.min(headerSize, bytes.length));
  if (headerSize === -1) {
    if (compressed) fail("MetaImage HeaderSize = -1 with compressed data is not supported");
    payload = bytes.subarray(Math.max(0, bytes.length - expected));
  }

  if (compressed) {
    const sizeText = get("CompressedDataSize");
    const compressedSize = sizeText === undefined ? 0 : Number(sizeText);
    if (!Number.isInteger(compressedSize) || compressedSize < 0) {
      fail(`MetaImage CompressedDataSize "${sizeText}" is not a byte count`);
    }
    if (compressedSize > 0) {
      if (payload.length < compressedSize) {
        fail(
          `MetaImage compressed data holds ${payload.length} bytes, CompressedDataSize says ${compressedSize}`,
        );
      }
      payload = payload.subarray(0, compressedSize);
    }
    payload = inflate(payload, expected, fail);
    if (payload.length < expected) {
      fail(`MetaImage data decompresses to ${payload.length} bytes, ${expected} expected for ${shape}`);
    }
  } else if (payload.length < expected) {
    fail(`MetaImage data holds ${payload.length} bytes, ${expected} expected for ${shape}`);
  }

  const stored = payload.slice(0, expected);
  toPlatformOrder(stored, entry.bytes, !bigEndian);
  const image: MetaImage = {
    elementType: entry.type,
    sizes,
    channels,
    data: new entry.array(stored.buffer),
    spacing,
    offset,
    directions,
    compressed,
  };
  const orientation = get("AnatomicalOrientation");
  if (orientation !== undefined && orientation !== "" && !/^\?+$/.test(orientation)) {
    image.anatomicalOrientation = orientation;
  }
  return image;
}

/**
 * The compressed data: a zlib stream as MetaIO writes it (deflateInit), or gzip, which MetaIO also reads
 * (inflateInit2 with 47 in MET_PerformUncompression); `expected` bytes at most. The trailing checksum is checked
 * whichever codec inflated it (the portable one does not).
 */
function inflate(payload: Uint8Array, expected: number, fail: (problem: string) => never): Uint8Array {
  const gzip = isGzip(payload);
  let out: Uint8Array;
  try {
    out = gzip ? gunzip(payload) : zlibInflate(payload, expected);
  } catch (error) {
    if (error instanceof ChecksumMismatch) fail(`corrupt compressed MetaImage data (${error.message})`);
    return fail(`corrupt or truncated compressed MetaImage data (${(error as Error).message})`);
  }
  const n = payload.length;
  if (gzip) {
    const stored =
      (payload[n - 8]! | (payload[n - 7]! << 8) | (payload[n - 6]! << 16) | (payload[n - 5]! << 24)) >>> 0;
    if (zipCodec().crc32([out]) !== stored) fail("corrupt compressed MetaImage data (gzip CRC-32 mismatch)");
  }
  return out;
}

/**
 * A single-file MetaImage (.mha): header fields in the order ITK's MetaIO writes them, little-endian data,
 * zlib-compressed unless `compress` is false. The element type is taken from the array (`image.elementType`, when
 * given, must agree with it); `image.compressed` is ignored.
 */
export function writeMetaImage(image: MetaImageInput, options: { compress?: boolean } = {}): Uint8Array {
  const { sizes, data } = image;
  const entry = typeOfArray(data);
  if (image.elementType !== undefined && image.elementType !== entry.type) {
    throw new Error(`writeMetaImage: elementType ${image.elementType} does not match a ${entry.type} array`);
  }
  const n = sizes.length;
  if (n < 1 || n > 4 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new Error(`writeMetaImage: sizes must be 1 to 4 positive integers, got ${sizes.join(" ")}`);
  }
  const channels = image.channels ?? 1;
  if (!Number.isInteger(channels) || channels < 1) {
    throw new Error(`writeMetaImage: channels must be a positive integer, got ${channels}`);
  }
  const values = sizes.reduce((a, b) => a * b, 1) * channels;
  if (values !== data.length) {
    throw new Error(
      `writeMetaImage: sizes ${sizes.join("×")} × ${channels} channels do not match ${data.length} values`,
    );
  }
  const spacing = image.spacing ?? sizes.map(() => 1);
  if (spacing.length !== n || spacing.some((s) => !(s > 0) || !Number.isFinite(s))) {
    throw new Error(`writeMetaImage: spacing must be ${n} positive finite numbers, got ${spacing.join(" ")}`);
  }
  const offset = image.offset ?? sizes.map(() => 0);
  if (offset.length !== n) throw new Error(`writeMetaImage: offset must have ${n} values`);
  const directions = image.directions ?? sizes.map((_, i) => sizes.map((__, j) => (i === j ? 1 : 0)));
  if (directions.length !== n || directions.some((d) => d.length !== n)) {
    throw new Error(`writeMetaImage: directions must be ${n} vectors of ${n} values`);
  }
  const orientation = image.anatomicalOrientation;
  if (orientation !== undefined && !/^[A-Za-z?]+$/.test(orientation)) {
    throw new Error(`writeMetaImage: anatomicalOrientation "${orientation}" must be letters such as RAI`);
  }
  const compress = options.compress ?? true;

  const raw = littleEndianBytes(data);
  const payload = compress ? zlibDeflate(raw, LABEL_MAP_LEVEL) : raw;

  // MetaObject::M_SetupWriteFields then MetaImage::M_SetupWriteFields; TransformMatrix rows are the axes.
  const lines = [
    "ObjectType = Image",
    `NDims = ${n}`,
    "BinaryData = True",
    "BinaryDataByteOrderMSB = False",
    `CompressedData = ${compress ? "True" : "False"}`,
  ];
  if (compress) lines.push(`CompressedDataSize = ${payload.length}`);
  lines.push(
    `TransformMatrix = ${directions.flat().map(num).join(" ")}`,
    `Offset = ${offset.map(num).join(" ")}`,
    `CenterOfRotation = ${sizes.map(() => "0").join(" ")}`,
  );
  if (orientation !== undefined) lines.push(`AnatomicalOrientation = ${orientation}`);
  lines.push(`ElementSpacing = ${spacing.map(num).join(" ")}`, `DimSize = ${sizes.join(" ")}`);
  if (channels > 1) lines.push(`ElementNumberOfChannels = ${channels}`);
  lines.push(`ElementType = ${entry.type}`, "ElementDataFile = LOCAL");
  const header = new TextEncoder().encode(`${lines.join("\n")}\n`);

  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  return out;
}
