/**
 * DICOM Part 10 reader on bytes (platform-neutral): 128-byte preamble + "DICM", the file meta group (always
 * Explicit VR Little Endian), then the data set in its transfer syntax — Implicit VR Little Endian, Explicit VR
 * Little Endian, Deflated Explicit VR Little Endian or Explicit VR Big Endian; any other (compressed) transfer
 * syntax is read as Explicit VR Little Endian with encapsulated pixel data, so its tags stay readable while
 * decodeDicomPixels (dicomPixels.ts, which holds the decompressors) refuses it with a one-line error naming the
 * transfer syntax. This module reads headers only, so scanning a folder or reading a DICOM-SEG loads no codec.
 *
 * Sequences of defined length are skipped by length; those of undefined length (and undefined-length items) are
 * walked to their delimiters. Only top-level elements are returned. Every problem is a DaftInputError.
 */
import { inflateSync } from "fflate";
import { DaftInputError } from "../errors.js";
import { swapWordsInPlace } from "./byteOrder.js";
import { walkFragmentItems } from "./dicomFragments.js";

export interface TransferSyntax {
  uid: string;
  name: string;
  explicitVR: boolean;
  littleEndian: boolean;
  /** The data set after the meta group is raw-deflated. */
  deflated: boolean;
  /** Pixel data is compressed (encapsulated); decodeDicomPixels decodes RLE, lossless JPEG and JPEG Baseline. */
  compressed: boolean;
}

/**
 * The tags routing and image assembly need, and those a derived object (DICOM-SEG) copies; absent tags are
 * undefined. Text is kept byte for byte (one character per byte), so text in the file's Specific Character Set
 * is copied unchanged.
 */
export interface DicomTags {
  specificCharacterSet?: string;
  sopClassUID?: string;
  sopInstanceUID?: string;
  modality?: string;
  studyDate?: string;
  studyTime?: string;
  accessionNumber?: string;
  referringPhysicianName?: string;
  seriesDescription?: string;
  patientName?: string;
  patientID?: string;
  patientBirthDate?: string;
  patientSex?: string;
  bodyPartExamined?: string;
  sliceThickness?: number;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  studyID?: string;
  instanceNumber?: number;
  imagePositionPatient?: [number, number, number];
  imageOrientationPatient?: [number, number, number, number, number, number];
  frameOfReferenceUID?: string;
  samplesPerPixel?: number;
  photometricInterpretation?: string;
  planarConfiguration?: number;
  numberOfFrames?: number;
  rows?: number;
  columns?: number;
  /** Row spacing, column spacing in mm. */
  pixelSpacing?: [number, number];
  bitsAllocated?: number;
  bitsStored?: number;
  highBit?: number;
  pixelRepresentation?: number;
  windowCenter?: number[];
  windowWidth?: number[];
  rescaleIntercept?: number;
  rescaleSlope?: number;
  /**
   * Enhanced multi-frame images (PS3.3 C.7.6.16): the Shared and Per-Frame Functional Groups, each flattened to the
   * placement and rescale attributes of its macros (Plane Position, Plane Orientation, Pixel Measures, Pixel Value
   * Transformation).
   */
  sharedFunctionalGroups?: FrameGroupTags;
  perFrameFunctionalGroups?: FrameGroupTags[];
  /** "00" or "01" (the image was lossy compressed at some point). */
  lossyImageCompression?: string;
  /** As stored, values separated by "\\". */
  lossyImageCompressionRatio?: string;
  lossyImageCompressionMethod?: string;
  /**
   * PALETTE COLOR (PS3.3 C.7.6.3.1.5–6): the Red, Green and Blue Palette Color Lookup Table Descriptors (0028,1101–1103:
   * entries, 0 meaning 65536; first mapped value; bits per entry) and Data (0028,1201–1203, as little-endian bytes).
   */
  redPaletteDescriptor?: number[];
  greenPaletteDescriptor?: number[];
  bluePaletteDescriptor?: number[];
  redPaletteData?: Uint8Array;
  greenPaletteData?: Uint8Array;
  bluePaletteData?: Uint8Array;
  /** Segmented palette lookup table data (0028,1221–1223) is present: not read. */
  segmentedPalette?: boolean;
  /** DICOM Segmentation (PS3.3 C.8.20.2): BINARY or FRACTIONAL, and the Segment Sequence's numbers and labels. */
  segmentationType?: string;
  maximumFractionalValue?: number;
  segments?: { number: number; label?: string }[];
  /** In a Segment item, and in a SEG frame's Segment Identification Sequence. */
  segmentNumber?: number;
  segmentLabel?: string;
  referencedSegmentNumber?: number;
  /** A SEG frame's source image (Derivation Image → Source Image Sequence). */
  referencedSOPInstanceUID?: string;
  referencedFrameNumber?: number;
}

/** What a functional group item says about a frame. */
export type FrameGroupTags = Pick<
  DicomTags,
  | "imagePositionPatient"
  | "imageOrientationPatient"
  | "pixelSpacing"
  | "sliceThickness"
  | "rescaleIntercept"
  | "rescaleSlope"
  | "referencedSegmentNumber"
  | "referencedSOPInstanceUID"
  | "referencedFrameNumber"
>;

export interface DicomPixelDataLocation {
  /** Byte offset of the value in `DicomFile.bytes`. */
  offset: number;
  /** Value length in bytes (for encapsulated data: up to and including the sequence delimiter). */
  length: number;
  vr: string;
  encapsulated: boolean;
}

export interface DicomFile {
  transferSyntax: TransferSyntax;
  mediaStorageSOPClassUID?: string;
  tags: DicomTags;
  pixelData: DicomPixelDataLocation | null;
  /** The bytes pixelData.offset refers to: the file, or the inflated data set of a deflated file. */
  bytes: Uint8Array;
}

const IMPLICIT_LE = "1.2.840.10008.1.2";
const EXPLICIT_LE = "1.2.840.10008.1.2.1";
const DEFLATED_LE = "1.2.840.10008.1.2.1.99";
const EXPLICIT_BE = "1.2.840.10008.1.2.2";

/** Names of well-known compressed transfer syntaxes, for error messages. */
const COMPRESSED_NAMES: Record<string, string> = {
  "1.2.840.10008.1.2.4.50": "JPEG Baseline (Process 1)",
  "1.2.840.10008.1.2.4.51": "JPEG Extended (Process 2 & 4)",
  "1.2.840.10008.1.2.4.57": "JPEG Lossless, Non-Hierarchical (Process 14)",
  "1.2.840.10008.1.2.4.70": "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 SV1)",
  "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
  "1.2.840.10008.1.2.4.81": "JPEG-LS Near-Lossless",
  "1.2.840.10008.1.2.4.90": "JPEG 2000 (Lossless Only)",
  "1.2.840.10008.1.2.4.91": "JPEG 2000",
  "1.2.840.10008.1.2.4.92": "JPEG 2000 Part 2 Multi-component (Lossless Only)",
  "1.2.840.10008.1.2.4.93": "JPEG 2000 Part 2 Multi-component",
  "1.2.840.10008.1.2.4.94": "JPIP Referenced",
  "1.2.840.10008.1.2.4.95": "JPIP Referenced Deflate",
  "1.2.840.10008.1.2.4.100": "MPEG2 Main Profile / Main Level",
  "1.2.840.10008.1.2.4.101": "MPEG2 Main Profile / High Level",
  "1.2.840.10008.1.2.4.102": "MPEG-4 AVC/H.264 High Profile / Level 4.1",
  "1.2.840.10008.1.2.4.103": "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1",
  "1.2.840.10008.1.2.4.104": "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video",
  "1.2.840.10008.1.2.4.105": "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video",
  "1.2.840.10008.1.2.4.106": "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2",
  "1.2.840.10008.1.2.4.107": "HEVC/H.265 Main Profile / Level 5.1",
  "1.2.840.10008.1.2.4.108": "HEVC/H.265 Main 10 Profile / Level 5.1",
  "1.2.840.10008.1.2.4.201": "High-Throughput JPEG 2000 (Lossless Only)",
  "1.2.840.10008.1.2.4.202": "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)",
  "1.2.840.10008.1.2.4.203": "High-Throughput JPEG 2000",
  "1.2.840.10008.1.2.5": "RLE Lossless",
};

export function transferSyntaxOf(uid: string): TransferSyntax {
  const native = (
    name: string,
    explicitVR: boolean,
    littleEndian: boolean,
    deflated = false,
  ): TransferSyntax => ({
    uid,
    name,
    explicitVR,
    littleEndian,
    deflated,
    compressed: false,
  });
  if (uid === IMPLICIT_LE) return native("Implicit VR Little Endian", false, true);
  if (uid === EXPLICIT_LE) return native("Explicit VR Little Endian", true, true);
  if (uid === DEFLATED_LE) return native("Deflated Explicit VR Little Endian", true, true, true);
  if (uid === EXPLICIT_BE) return native("Explicit VR Big Endian", true, false);
  // Every other transfer syntax encodes the data set as Explicit VR Little Endian with encapsulated pixel data.
  return {
    uid,
    name: COMPRESSED_NAMES[uid] ?? "unknown transfer syntax",
    explicitVR: true,
    littleEndian: true,
    deflated: false,
    compressed: true,
  };
}

/** "words": OW bytes, kept in little-endian order; "flag": only whether the element is there. */
type TagKind = "string" | "int" | "number" | "numbers" | "words" | "flag";
interface TagSpec {
  key: keyof DicomTags;
  vr: string;
  kind: TagKind;
  /** Required value multiplicity for "numbers" tags with a fixed count. */
  count?: number;
}

const tag = (group: number, element: number) => ((group << 16) | element) >>> 0;

const WANTED = new Map<number, TagSpec>([
  [tag(0x0008, 0x0005), { key: "specificCharacterSet", vr: "CS", kind: "string" }],
  [tag(0x0008, 0x0016), { key: "sopClassUID", vr: "UI", kind: "string" }],
  [tag(0x0008, 0x0018), { key: "sopInstanceUID", vr: "UI", kind: "string" }],
  [tag(0x0008, 0x0020), { key: "studyDate", vr: "DA", kind: "string" }],
  [tag(0x0008, 0x0030), { key: "studyTime", vr: "TM", kind: "string" }],
  [tag(0x0008, 0x0050), { key: "accessionNumber", vr: "SH", kind: "string" }],
  [tag(0x0008, 0x0060), { key: "modality", vr: "CS", kind: "string" }],
  [tag(0x0008, 0x0090), { key: "referringPhysicianName", vr: "PN", kind: "string" }],
  [tag(0x0008, 0x103e), { key: "seriesDescription", vr: "LO", kind: "string" }],
  [tag(0x0010, 0x0010), { key: "patientName", vr: "PN", kind: "string" }],
  [tag(0x0010, 0x0020), { key: "patientID", vr: "LO", kind: "string" }],
  [tag(0x0010, 0x0030), { key: "patientBirthDate", vr: "DA", kind: "string" }],
  [tag(0x0010, 0x0040), { key: "patientSex", vr: "CS", kind: "string" }],
  [tag(0x0018, 0x0015), { key: "bodyPartExamined", vr: "CS", kind: "string" }],
  [tag(0x0018, 0x0050), { key: "sliceThickness", vr: "DS", kind: "number" }],
  [tag(0x0020, 0x000d), { key: "studyInstanceUID", vr: "UI", kind: "string" }],
  [tag(0x0020, 0x000e), { key: "seriesInstanceUID", vr: "UI", kind: "string" }],
  [tag(0x0020, 0x0010), { key: "studyID", vr: "SH", kind: "string" }],
  [tag(0x0020, 0x0013), { key: "instanceNumber", vr: "IS", kind: "int" }],
  [tag(0x0020, 0x0032), { key: "imagePositionPatient", vr: "DS", kind: "numbers", count: 3 }],
  [tag(0x0020, 0x0037), { key: "imageOrientationPatient", vr: "DS", kind: "numbers", count: 6 }],
  [tag(0x0020, 0x0052), { key: "frameOfReferenceUID", vr: "UI", kind: "string" }],
  [tag(0x0028, 0x0002), { key: "samplesPerPixel", vr: "US", kind: "int" }],
  [tag(0x0028, 0x0004), { key: "photometricInterpretation", vr: "CS", kind: "string" }],
  [tag(0x0028, 0x0006), { key: "planarConfiguration", vr: "US", kind: "int" }],
  [tag(0x0028, 0x0008), { key: "numberOfFrames", vr: "IS", kind: "int" }],
  [tag(0x0028, 0x0010), { key: "rows", vr: "US", kind: "int" }],
  [tag(0x0028, 0x0011), { key: "columns", vr: "US", kind: "int" }],
  [tag(0x0028, 0x0030), { key: "pixelSpacing", vr: "DS", kind: "numbers", count: 2 }],
  [tag(0x0028, 0x0100), { key: "bitsAllocated", vr: "US", kind: "int" }],
  [tag(0x0028, 0x0101), { key: "bitsStored", vr: "US", kind: "int" }],
  [tag(0x0028, 0x0102), { key: "highBit", vr: "US", kind: "int" }],
  [tag(0x0028, 0x0103), { key: "pixelRepresentation", vr: "US", kind: "int" }],
  [tag(0x0028, 0x1050), { key: "windowCenter", vr: "DS", kind: "numbers" }],
  [tag(0x0028, 0x1051), { key: "windowWidth", vr: "DS", kind: "numbers" }],
  [tag(0x0028, 0x1052), { key: "rescaleIntercept", vr: "DS", kind: "number" }],
  [tag(0x0028, 0x1053), { key: "rescaleSlope", vr: "DS", kind: "number" }],
  [tag(0x0028, 0x2110), { key: "lossyImageCompression", vr: "CS", kind: "string" }],
  [tag(0x0028, 0x2112), { key: "lossyImageCompressionRatio", vr: "DS", kind: "string" }],
  [tag(0x0028, 0x2114), { key: "lossyImageCompressionMethod", vr: "CS", kind: "string" }],
  [tag(0x0028, 0x1101), { key: "redPaletteDescriptor", vr: "US", kind: "numbers", count: 3 }],
  [tag(0x0028, 0x1102), { key: "greenPaletteDescriptor", vr: "US", kind: "numbers", count: 3 }],
  [tag(0x0028, 0x1103), { key: "bluePaletteDescriptor", vr: "US", kind: "numbers", count: 3 }],
  [tag(0x0028, 0x1201), { key: "redPaletteData", vr: "OW", kind: "words" }],
  [tag(0x0028, 0x1202), { key: "greenPaletteData", vr: "OW", kind: "words" }],
  [tag(0x0028, 0x1203), { key: "bluePaletteData", vr: "OW", kind: "words" }],
  [tag(0x0028, 0x1221), { key: "segmentedPalette", vr: "OW", kind: "flag" }],
  [tag(0x0028, 0x1222), { key: "segmentedPalette", vr: "OW", kind: "flag" }],
  [tag(0x0028, 0x1223), { key: "segmentedPalette", vr: "OW", kind: "flag" }],
  [tag(0x0062, 0x0001), { key: "segmentationType", vr: "CS", kind: "string" }],
  [tag(0x0062, 0x000e), { key: "maximumFractionalValue", vr: "US", kind: "int" }],
  [tag(0x0062, 0x0004), { key: "segmentNumber", vr: "US", kind: "int" }],
  [tag(0x0062, 0x0005), { key: "segmentLabel", vr: "LO", kind: "string" }],
  [tag(0x0062, 0x000b), { key: "referencedSegmentNumber", vr: "US", kind: "int" }],
  [tag(0x0008, 0x1155), { key: "referencedSOPInstanceUID", vr: "UI", kind: "string" }],
  [tag(0x0008, 0x1160), { key: "referencedFrameNumber", vr: "IS", kind: "int" }],
]);

const PIXEL_DATA = tag(0x7fe0, 0x0010);
const SHARED_FUNCTIONAL_GROUPS = tag(0x5200, 0x9229);
const PER_FRAME_FUNCTIONAL_GROUPS = tag(0x5200, 0x9230);
const SEGMENT_SEQUENCE = tag(0x0062, 0x0002);
/** What a Segment Sequence item holds that a SEG reader needs. */
const SEGMENT_ITEM_KEYS = new Set<keyof DicomTags>(["segmentNumber", "segmentLabel"]);
/** The frame attributes a functional group item may hold, in its macros' sequences. */
const FRAME_GROUP_KEYS = new Set<keyof DicomTags>([
  "imagePositionPatient",
  "imageOrientationPatient",
  "pixelSpacing",
  "sliceThickness",
  "rescaleIntercept",
  "rescaleSlope",
  "referencedSegmentNumber",
  "referencedSOPInstanceUID",
  "referencedFrameNumber",
]);
/** Macro sequences that hold them (known by tag, also in implicit VR files). */
const FRAME_MACROS = new Set([
  tag(0x0020, 0x9113), // Plane Position Sequence
  tag(0x0020, 0x9116), // Plane Orientation Sequence
  tag(0x0028, 0x9110), // Pixel Measures Sequence
  tag(0x0028, 0x9145), // Pixel Value Transformation Sequence
  tag(0x0062, 0x000a), // Segment Identification Sequence
  tag(0x0008, 0x9124), // Derivation Image Sequence
  tag(0x0008, 0x2112), // Source Image Sequence (in a Derivation Image item)
]);
const ITEM = tag(0xfffe, 0xe000);
const ITEM_DELIMITER = tag(0xfffe, 0xe00d);
const SEQUENCE_DELIMITER = tag(0xfffe, 0xe0dd);
const UNDEFINED = 0xffffffff;
const MAX_DEPTH = 64;
/** VRs whose explicit header has 2 reserved bytes and a 4-byte length. */
const LONG_VRS = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]);
const STRING_VRS = new Set([
  "AE",
  "AS",
  "CS",
  "DA",
  "DS",
  "DT",
  "IS",
  "LO",
  "LT",
  "PN",
  "SH",
  "ST",
  "TM",
  "UC",
  "UI",
  "UR",
  "UT",
]);

const hex4 = (v: number) => v.toString(16).toUpperCase().padStart(4, "0");
const tagName = (t: number) => `(${hex4(t >>> 16)},${hex4(t & 0xffff)})`;

interface Syntax {
  explicitVR: boolean;
  littleEndian: boolean;
}

class Reader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly fail: (problem: string) => never,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(pos: number, n: number, what: string): void {
    if (pos + n > this.bytes.length) {
      this.fail(
        `truncated: ${what} at byte ${pos} needs ${n} bytes, only ${Math.max(0, this.bytes.length - pos)} remain`,
      );
    }
  }
  u16(pos: number, le: boolean): number {
    return this.view.getUint16(pos, le);
  }
  u32(pos: number, le: boolean): number {
    return this.view.getUint32(pos, le);
  }
  tagAt(pos: number, le: boolean): number {
    return ((this.u16(pos, le) << 16) | this.u16(pos + 2, le)) >>> 0;
  }
  ascii(pos: number, n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.bytes[pos + i]!);
    return s;
  }
}

interface ElementHeader {
  tag: number;
  vr: string;
  length: number;
  valueOffset: number;
}

function readHeader(r: Reader, pos: number, syntax: Syntax): ElementHeader {
  r.need(pos, 8, "element header");
  const le = syntax.littleEndian;
  const t = r.tagAt(pos, le);
  if (t >>> 16 === 0xfffe) return { tag: t, vr: "", length: r.u32(pos + 4, le), valueOffset: pos + 8 };
  if (!syntax.explicitVR) {
    const vr = WANTED.get(t)?.vr ?? (t === PIXEL_DATA ? "OW" : "UN");
    return { tag: t, vr, length: r.u32(pos + 4, le), valueOffset: pos + 8 };
  }
  const vr = r.ascii(pos + 4, 2);
  if (!/^[A-Z]{2}$/.test(vr))
    r.fail(`corrupt: invalid VR "${printable(vr)}" in element ${tagName(t)} at byte ${pos}`);
  if (LONG_VRS.has(vr)) {
    r.need(pos, 12, `element ${tagName(t)} header`);
    return { tag: t, vr, length: r.u32(pos + 8, le), valueOffset: pos + 12 };
  }
  return { tag: t, vr, length: r.u16(pos + 6, le), valueOffset: pos + 8 };
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?");
}

/** Reads a DICOM Part 10 file's transfer syntax, routing/image tags and the pixel data's location. */
export function readDicom(bytes: Uint8Array, source?: string): DicomFile {
  const fail = (problem: string): never => {
    throw new DaftInputError(problem, source);
  };
  if (bytes.length < 132)
    fail(`not a DICOM Part 10 file: ${bytes.length} bytes is too short for the 128-byte preamble and "DICM"`);
  const file = new Reader(bytes, fail);
  if (file.ascii(128, 4) !== "DICM") fail('not a DICOM Part 10 file: no "DICM" marker at byte 128');

  // File meta group (0002,xxxx): always Explicit VR Little Endian.
  const metaSyntax: Syntax = { explicitVR: true, littleEndian: true };
  let pos = 132;
  let transferUid: string | undefined;
  let mediaStorageSOPClassUID: string | undefined;
  while (pos + 4 <= bytes.length && file.u16(pos, true) === 0x0002) {
    const h = readHeader(file, pos, metaSyntax);
    if (h.length === UNDEFINED) fail(`corrupt: file meta element ${tagName(h.tag)} has undefined length`);
    file.need(h.valueOffset, h.length, `file meta element ${tagName(h.tag)}`);
    if (h.tag === tag(0x0002, 0x0010)) transferUid = cleanString(file.ascii(h.valueOffset, h.length));
    if (h.tag === tag(0x0002, 0x0002))
      mediaStorageSOPClassUID = cleanString(file.ascii(h.valueOffset, h.length));
    pos = h.valueOffset + h.length;
  }
  if (!transferUid) fail("corrupt: the file meta information has no Transfer Syntax UID (0002,0010)");
  const transferSyntax = transferSyntaxOf(transferUid!);

  let data = file;
  if (transferSyntax.deflated) {
    let inflated: Uint8Array;
    try {
      inflated = inflateSync(bytes.subarray(pos));
    } catch (e) {
      fail(`corrupt: the deflated data set does not inflate (${(e as Error).message})`);
    }
    data = new Reader(inflated!, fail);
    pos = 0;
  }

  const tags: DicomTags = {};
  const state = { pixelData: null as DicomPixelDataLocation | null, tags };
  walkDataset(data, pos, data.bytes.length, transferSyntax, 0, state);
  const out: DicomFile = { transferSyntax, tags, pixelData: state.pixelData, bytes: data.bytes };
  if (mediaStorageSOPClassUID) out.mediaStorageSOPClassUID = mediaStorageSOPClassUID;
  return out;
}

interface WalkState {
  pixelData: DicomPixelDataLocation | null;
  tags: DicomTags;
}

/**
 * Walks elements from `pos` up to `end`, or — when `untilItemEnd` — up to an Item Delimitation tag, and returns
 * the position after what it consumed. Only depth 0 records tags.
 */
function walkDataset(
  r: Reader,
  pos: number,
  end: number,
  syntax: Syntax,
  depth: number,
  state: WalkState | null,
  untilItemEnd = false,
): number {
  if (depth > MAX_DEPTH) r.fail(`corrupt: sequences nested deeper than ${MAX_DEPTH} levels`);
  while (pos < end) {
    const h = readHeader(r, pos, syntax);
    if (h.tag === ITEM_DELIMITER) {
      if (untilItemEnd) return h.valueOffset;
      r.fail(`corrupt: item delimiter outside an item at byte ${pos}`);
    }
    if (h.tag === ITEM || h.tag === SEQUENCE_DELIMITER) {
      r.fail(`corrupt: unexpected ${tagName(h.tag)} at byte ${pos}`);
    }
    if (
      state &&
      depth === 0 &&
      (h.tag === SHARED_FUNCTIONAL_GROUPS || h.tag === PER_FRAME_FUNCTIONAL_GROUPS)
    ) {
      const items = sequenceItems(r, h, syntax, depth + 1);
      const groups = items.items.map((item) => {
        const out: DicomTags = {};
        collectFrameGroup(r, item.start, item.end, syntax, out, depth + 2);
        return out as FrameGroupTags;
      });
      if (h.tag === SHARED_FUNCTIONAL_GROUPS) state.tags.sharedFunctionalGroups = groups[0] ?? {};
      else state.tags.perFrameFunctionalGroups = groups;
      pos = items.after;
      continue;
    }
    if (state && depth === 0 && h.tag === SEGMENT_SEQUENCE) {
      const items = sequenceItems(r, h, syntax, depth + 1);
      state.tags.segments = items.items.map((item) => {
        const out: DicomTags = {};
        collectFrameGroup(r, item.start, item.end, syntax, out, depth + 2, SEGMENT_ITEM_KEYS);
        return {
          number: out.segmentNumber ?? 0,
          ...(out.segmentLabel !== undefined ? { label: out.segmentLabel } : {}),
        };
      });
      pos = items.after;
      continue;
    }
    if (h.length === UNDEFINED) {
      if (h.tag === PIXEL_DATA) {
        const after = walkEncapsulated(r, h.valueOffset);
        if (state && depth === 0) {
          state.pixelData = {
            offset: h.valueOffset,
            length: after - h.valueOffset,
            vr: h.vr,
            encapsulated: true,
          };
        }
        pos = after;
      } else if (h.vr === "SQ" || h.vr === "UN" || !syntax.explicitVR) {
        // Undefined-length UN holds a sequence in Implicit VR Little Endian (PS3.5 6.2.2).
        const inner = h.vr === "UN" && syntax.explicitVR ? { explicitVR: false, littleEndian: true } : syntax;
        pos = walkSequence(r, h.valueOffset, inner, depth + 1);
      } else {
        r.fail(`corrupt: element ${tagName(h.tag)} (VR ${h.vr}) at byte ${pos} has undefined length`);
      }
      continue;
    }
    r.need(h.valueOffset, h.length, `value of element ${tagName(h.tag)}`);
    if (state && depth === 0) {
      if (h.tag === PIXEL_DATA) {
        state.pixelData = { offset: h.valueOffset, length: h.length, vr: h.vr, encapsulated: false };
      } else {
        const spec = WANTED.get(h.tag);
        if (spec) decodeWanted(r, h, spec, syntax, state.tags);
      }
    }
    pos = h.valueOffset + h.length;
  }
  if (untilItemEnd) r.fail(`truncated: an item of undefined length has no item delimiter before byte ${end}`);
  return pos;
}

/** Items of an undefined-length sequence up to its Sequence Delimitation tag; returns the position after it. */
function walkSequence(r: Reader, pos: number, syntax: Syntax, depth: number): number {
  if (depth > MAX_DEPTH) r.fail(`corrupt: sequences nested deeper than ${MAX_DEPTH} levels`);
  for (;;) {
    r.need(pos, 8, "sequence item header");
    const t = r.tagAt(pos, syntax.littleEndian);
    const length = r.u32(pos + 4, syntax.littleEndian);
    if (t === SEQUENCE_DELIMITER) return pos + 8;
    if (t !== ITEM)
      r.fail(`corrupt: expected an item (FFFE,E000) in a sequence at byte ${pos}, found ${tagName(t)}`);
    if (length === UNDEFINED) {
      pos = walkDataset(r, pos + 8, r.bytes.length, syntax, depth, null, true);
    } else {
      r.need(pos + 8, length, "sequence item");
      pos = pos + 8 + length;
    }
  }
}

/** The items of a sequence element as content ranges, and the position after the element. */
function sequenceItems(
  r: Reader,
  h: ElementHeader,
  syntax: Syntax,
  depth: number,
): { items: { start: number; end: number }[]; after: number } {
  if (depth > MAX_DEPTH) r.fail(`corrupt: sequences nested deeper than ${MAX_DEPTH} levels`);
  const items: { start: number; end: number }[] = [];
  const end = h.length === UNDEFINED ? r.bytes.length : h.valueOffset + h.length;
  if (h.length !== UNDEFINED) r.need(h.valueOffset, h.length, `value of element ${tagName(h.tag)}`);
  let pos = h.valueOffset;
  while (pos < end) {
    r.need(pos, 8, "sequence item header");
    const t = r.tagAt(pos, syntax.littleEndian);
    const length = r.u32(pos + 4, syntax.littleEndian);
    if (t === SEQUENCE_DELIMITER) return { items, after: pos + 8 };
    if (t !== ITEM)
      r.fail(
        `corrupt: expected an item (FFFE,E000) in ${tagName(h.tag)} at byte ${pos}, found ${tagName(t)}`,
      );
    if (length === UNDEFINED) {
      const after = walkDataset(r, pos + 8, r.bytes.length, syntax, depth, null, true);
      items.push({ start: pos + 8, end: after - 8 });
      pos = after;
    } else {
      r.need(pos + 8, length, "sequence item");
      items.push({ start: pos + 8, end: pos + 8 + length });
      pos += 8 + length;
    }
  }
  if (h.length === UNDEFINED) r.fail(`truncated: sequence ${tagName(h.tag)} has no sequence delimiter`);
  return { items, after: end };
}

/**
 * The frame attributes of a functional group item (and of the macro sequences inside it) into `out`; or, with
 * `keys`, those attributes of an item of another sequence (a Segment Sequence item).
 */
function collectFrameGroup(
  r: Reader,
  pos: number,
  end: number,
  syntax: Syntax,
  out: DicomTags,
  depth: number,
  keys: ReadonlySet<keyof DicomTags> = FRAME_GROUP_KEYS,
): void {
  while (pos < end) {
    const h = readHeader(r, pos, syntax);
    if (FRAME_MACROS.has(h.tag) || h.vr === "SQ") {
      const items = sequenceItems(r, h, syntax, depth + 1);
      if (FRAME_MACROS.has(h.tag)) {
        for (const item of items.items)
          collectFrameGroup(r, item.start, item.end, syntax, out, depth + 2, keys);
      }
      pos = items.after;
      continue;
    }
    if (h.length === UNDEFINED) {
      pos = walkSequence(
        r,
        h.valueOffset,
        syntax.explicitVR ? { explicitVR: false, littleEndian: true } : syntax,
        depth + 1,
      );
      continue;
    }
    r.need(h.valueOffset, h.length, `value of element ${tagName(h.tag)}`);
    const spec = WANTED.get(h.tag);
    if (spec && keys.has(spec.key)) decodeWanted(r, h, spec, syntax, out);
    pos = h.valueOffset + h.length;
  }
}

/** Fragments of encapsulated pixel data up to the Sequence Delimitation tag; returns the position after it. */
function walkEncapsulated(r: Reader, pos: number): number {
  return walkFragmentItems(r.bytes, pos, r.fail).after;
}

function cleanString(s: string): string {
  return s.replace(/[\0 ]+$/, "").replace(/^ +/, "");
}

function decodeWanted(r: Reader, h: ElementHeader, spec: TagSpec, syntax: Syntax, tags: DicomTags): void {
  // Explicit files state the VR; "UN" (unknown) values are decoded with the dictionary VR, little endian.
  const vr = h.vr === "UN" || !syntax.explicitVR ? spec.vr : h.vr;
  const le = h.vr === "UN" ? true : syntax.littleEndian;
  const where = `${tagName(h.tag)} ${spec.key}`;
  const target = tags as Record<string, unknown>;
  if (spec.kind === "flag") {
    target[spec.key] = true;
    return;
  }
  if (spec.kind === "words") {
    const bytes = r.bytes.slice(h.valueOffset, h.valueOffset + h.length);
    if (!le) swapWordsInPlace(bytes, 2);
    target[spec.key] = bytes;
    return;
  }
  let values: (string | number)[];
  if (STRING_VRS.has(vr)) {
    const text = cleanString(r.ascii(h.valueOffset, h.length));
    if (text === "") return;
    values = text.split("\\").map((v) => v.trim());
  } else {
    values = binaryValues(r, h.valueOffset, h.length, vr, le, where);
    if (values.length === 0) return;
  }
  if (spec.kind === "string") {
    target[spec.key] = values.join("\\");
    return;
  }
  const numbers = values.map((v) => {
    const n = typeof v === "number" ? v : Number(v);
    if (typeof v === "string" && (v === "" || !Number.isFinite(n))) {
      r.fail(`corrupt: ${where} has a value that is not a number: "${printable(v)}"`);
    }
    return n;
  });
  if (spec.kind === "int") {
    if (!Number.isInteger(numbers[0])) r.fail(`corrupt: ${where} is not an integer: ${numbers[0]}`);
    target[spec.key] = numbers[0];
  } else if (spec.kind === "number") {
    target[spec.key] = numbers[0];
  } else {
    if (spec.count !== undefined && numbers.length !== spec.count) {
      r.fail(`corrupt: ${where} needs ${spec.count} values, has ${numbers.length}`);
    }
    target[spec.key] = numbers;
  }
}

function binaryValues(
  r: Reader,
  pos: number,
  length: number,
  vr: string,
  le: boolean,
  where: string,
): number[] {
  const sizes: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8 };
  const size = sizes[vr];
  if (!size) r.fail(`corrupt: ${where} has VR ${vr}, expected a number or text`);
  if (length % size! !== 0)
    r.fail(`corrupt: ${where} has ${length} bytes, not a multiple of ${size} (VR ${vr})`);
  const out: number[] = [];
  for (let p = pos; p < pos + length; p += size!) {
    const v = r.view;
    out.push(
      vr === "US"
        ? v.getUint16(p, le)
        : vr === "SS"
          ? v.getInt16(p, le)
          : vr === "UL"
            ? v.getUint32(p, le)
            : vr === "SL"
              ? v.getInt32(p, le)
              : vr === "FL"
                ? v.getFloat32(p, le)
                : v.getFloat64(p, le),
    );
  }
  return out;
}
