/**
 * DICOM Part 10 writer on bytes (platform-neutral), the counterpart of dicom.ts's reader, for the objects DAFT
 * creates (DICOM-SEG): Explicit VR Little Endian (1.2.840.10008.1.2.1) only.
 *
 *  - file: 128 zero bytes, "DICM", the File Meta group (0002,xxxx) led by its group length (0002,0000), then the
 *    data set;
 *  - elements sorted by tag (a duplicate tag is an error), every value of even length: text padded with a space,
 *    UI and OB with a NUL;
 *  - header: tag, VR, then a 2-byte length, or — for OB, OW, SQ, UC, UR, UT — 2 reserved bytes and a 4-byte length;
 *  - sequences and their items always have defined lengths (no delimitation items).
 *
 * Values are checked against their VR (character repertoire, maximum length, number range), so a wrong value
 * fails here with the element's tag instead of giving a file that validators refuse. Text is one byte per
 * character (char codes up to 0xFF): text read from a DICOM file is written back byte for byte. Length limits
 * count characters, so they are checked for ASCII text only (multi-byte character sets cannot be counted
 * without decoding).
 */

export type DicomTextVR =
  | "AE"
  | "AS"
  | "CS"
  | "DA"
  | "DS"
  | "DT"
  | "IS"
  | "LO"
  | "LT"
  | "PN"
  | "SH"
  | "ST"
  | "TM"
  | "UC"
  | "UI"
  | "UR"
  | "UT";
export type DicomNumberVR = "US" | "SS" | "UL" | "SL" | "FL" | "FD";

/** One element. Text with several values is an array (or one string with "\" between the values). */
export type DicomElement =
  | { tag: number; vr: DicomTextVR; value: string | readonly string[] }
  | { tag: number; vr: DicomNumberVR; value: readonly number[] }
  /** Attribute tags, each as (group << 16 | element). */
  | { tag: number; vr: "AT"; value: readonly number[] }
  | { tag: number; vr: "OB" | "OW"; value: Uint8Array }
  | { tag: number; vr: "SQ"; value: readonly DicomDataSet[] };

export type DicomDataSet = readonly DicomElement[];

export const EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1";

export interface DicomFileMeta {
  mediaStorageSOPClassUID: string;
  mediaStorageSOPInstanceUID: string;
  implementationClassUID: string;
  /** Up to 16 characters. */
  implementationVersionName?: string;
}

/** "(GGGG,EEEE)". */
export function dicomTagName(tag: number): string {
  const hex = (v: number) => v.toString(16).toUpperCase().padStart(4, "0");
  return `(${hex(tag >>> 16)},${hex(tag & 0xffff)})`;
}

/** A Part 10 file: preamble, "DICM", File Meta group (Explicit VR Little Endian), then `dataSet`. */
export function encodeDicomFile(meta: DicomFileMeta, dataSet: DicomDataSet): Uint8Array {
  for (const e of dataSet) {
    const group = e.tag >>> 16;
    if (group <= 0x0002 || group === 0xfffe) {
      throw new Error(`DICOM encoder: element ${dicomTagName(e.tag)} does not belong in a data set`);
    }
  }
  const metaElements: DicomElement[] = [
    { tag: 0x00020001, vr: "OB", value: Uint8Array.of(0x00, 0x01) },
    { tag: 0x00020002, vr: "UI", value: meta.mediaStorageSOPClassUID },
    { tag: 0x00020003, vr: "UI", value: meta.mediaStorageSOPInstanceUID },
    { tag: 0x00020010, vr: "UI", value: EXPLICIT_VR_LITTLE_ENDIAN },
    { tag: 0x00020012, vr: "UI", value: meta.implementationClassUID },
  ];
  if (meta.implementationVersionName) {
    metaElements.push({ tag: 0x00020013, vr: "SH", value: meta.implementationVersionName });
  }
  const metaBody = new Chunks();
  encodeInto(metaElements, metaBody);
  const file = new Chunks();
  file.push(new Uint8Array(128));
  file.push(Uint8Array.of(0x44, 0x49, 0x43, 0x4d));
  encodeInto([{ tag: 0x00020000, vr: "UL", value: [metaBody.length] }], file);
  file.append(metaBody);
  encodeInto(dataSet, file);
  return file.concat();
}

/** A data set alone (no preamble, no meta group), Explicit VR Little Endian. */
export function encodeDicomDataSet(dataSet: DicomDataSet): Uint8Array {
  const out = new Chunks();
  encodeInto(dataSet, out);
  return out.concat();
}

/** A number as a Decimal String value: the shortest exact form, else rounded to fit 16 characters. */
export function formatDecimalString(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`DICOM encoder: ${value} is not a finite number`);
  const exact = String(value);
  if (exact.length <= 16) return exact;
  for (let digits = 15; digits >= 1; digits--) {
    const rounded = String(Number(value.toPrecision(digits)));
    if (rounded.length <= 16) return rounded;
  }
  throw new Error(`DICOM encoder: ${value} does not fit a Decimal String`);
}

/** Bytes built from pieces, concatenated once at the end. */
class Chunks {
  readonly parts: Uint8Array[] = [];
  length = 0;
  push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }
  append(other: Chunks): void {
    for (const part of other.parts) this.push(part);
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

/** VRs with 2 reserved bytes and a 4-byte length in the Explicit VR header. */
const LONG_HEADER = new Set(["OB", "OW", "SQ", "UC", "UR", "UT"]);
const MAX_LONG_LENGTH = 0xfffffffe;
const MAX_SHORT_LENGTH = 0xfffe;

interface TextRule {
  /** Maximum characters per value (per component group for PN); undefined: unlimited. */
  max?: number;
  /** The only characters allowed, when the VR restricts them. */
  repertoire?: RegExp;
  /** Whether "\" separates values (false: "\" is ordinary text). */
  multiple: boolean;
}

const TEXT_RULES: Record<DicomTextVR, TextRule> = {
  AE: { max: 16, multiple: true },
  AS: { max: 4, repertoire: /^[0-9DWMY]*$/, multiple: true },
  CS: { max: 16, repertoire: /^[A-Z0-9 _]*$/, multiple: true },
  DA: { max: 8, repertoire: /^[0-9]*$/, multiple: true },
  DS: { max: 16, repertoire: /^[0-9+\-Ee. ]*$/, multiple: true },
  DT: { max: 26, repertoire: /^[0-9+\-. ]*$/, multiple: true },
  IS: { max: 12, repertoire: /^[0-9+\- ]*$/, multiple: true },
  LO: { max: 64, multiple: true },
  LT: { max: 10240, multiple: false },
  PN: { max: 64, multiple: true },
  SH: { max: 16, multiple: true },
  ST: { max: 1024, multiple: false },
  TM: { max: 14, repertoire: /^[0-9. ]*$/, multiple: true },
  UC: { multiple: true },
  UI: { max: 64, repertoire: /^$|^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/, multiple: true },
  UR: { multiple: false },
  UT: { multiple: false },
};

const NUMBER_SIZES: Record<DicomNumberVR | "AT", number> = {
  US: 2,
  SS: 2,
  UL: 4,
  SL: 4,
  FL: 4,
  FD: 8,
  AT: 4,
};
const INTEGER_RANGES: Partial<Record<DicomNumberVR, [number, number]>> = {
  US: [0, 0xffff],
  SS: [-0x8000, 0x7fff],
  UL: [0, 0xffffffff],
  SL: [-0x80000000, 0x7fffffff],
};

function encodeInto(dataSet: DicomDataSet, out: Chunks): void {
  const sorted = [...dataSet].sort((a, b) => (a.tag >>> 0) - (b.tag >>> 0));
  sorted.forEach((element, i) => {
    if (i > 0 && sorted[i - 1]!.tag === element.tag) {
      throw new Error(`DICOM encoder: element ${dicomTagName(element.tag)} appears twice in one data set`);
    }
    encodeElement(element, out);
  });
}

function encodeElement(element: DicomElement, out: Chunks): void {
  const where = `element ${dicomTagName(element.tag)} (${element.vr})`;
  if (element.vr === "SQ") {
    const items = new Chunks();
    for (const item of element.value) {
      const body = new Chunks();
      encodeInto(item, body);
      items.push(itemHeader(0xe000, body.length, where));
      items.append(body);
    }
    out.push(header(element.tag, "SQ", items.length, where));
    out.append(items);
    return;
  }
  const value = valueBytes(element, where);
  out.push(header(element.tag, element.vr, value.length, where));
  out.push(value);
}

function header(tag: number, vr: string, length: number, where: string): Uint8Array {
  const long = LONG_HEADER.has(vr);
  if (length > (long ? MAX_LONG_LENGTH : MAX_SHORT_LENGTH)) {
    throw new Error(`DICOM encoder: ${where} is ${length} bytes long, more than VR ${vr} can hold`);
  }
  const bytes = new Uint8Array(long ? 12 : 8);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, tag >>> 16, true);
  view.setUint16(2, tag & 0xffff, true);
  bytes[4] = vr.charCodeAt(0);
  bytes[5] = vr.charCodeAt(1);
  if (long) view.setUint32(8, length, true);
  else view.setUint16(6, length, true);
  return bytes;
}

function itemHeader(element: number, length: number, where: string): Uint8Array {
  if (length > MAX_LONG_LENGTH) throw new Error(`DICOM encoder: an item of ${where} is too long`);
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 0xfffe, true);
  view.setUint16(2, element, true);
  view.setUint32(4, length, true);
  return bytes;
}

function valueBytes(element: Exclude<DicomElement, { vr: "SQ" }>, where: string): Uint8Array {
  switch (element.vr) {
    case "OB":
      return element.value.length % 2 === 0 ? element.value : padded(element.value, 0);
    case "OW":
      if (element.value.length % 2 !== 0) throw new Error(`DICOM encoder: ${where} has an odd byte count`);
      return element.value;
    case "US":
    case "SS":
    case "UL":
    case "SL":
    case "FL":
    case "FD":
    case "AT":
      return numberBytes(element.vr, element.value, where);
    default:
      return textBytes(element.vr, element.value, where);
  }
}

function padded(bytes: Uint8Array, pad: number): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = pad;
  return out;
}

function numberBytes(vr: DicomNumberVR | "AT", values: readonly number[], where: string): Uint8Array {
  const size = NUMBER_SIZES[vr];
  const bytes = new Uint8Array(values.length * size);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    const at = i * size;
    if (vr === "FL" || vr === "FD") {
      if (!Number.isFinite(v)) throw new Error(`DICOM encoder: ${where} value ${v} is not finite`);
      if (vr === "FL") view.setFloat32(at, v, true);
      else view.setFloat64(at, v, true);
      return;
    }
    const [min, max] = vr === "AT" ? [0, 0xffffffff] : INTEGER_RANGES[vr]!;
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new Error(`DICOM encoder: ${where} value ${v} is not an integer in ${min}..${max}`);
    }
    if (vr === "AT") {
      view.setUint16(at, v >>> 16, true);
      view.setUint16(at + 2, v & 0xffff, true);
    } else if (vr === "US") view.setUint16(at, v, true);
    else if (vr === "SS") view.setInt16(at, v, true);
    else if (vr === "UL") view.setUint32(at, v, true);
    else view.setInt32(at, v, true);
  });
  return bytes;
}

function textBytes(vr: DicomTextVR, value: string | readonly string[], where: string): Uint8Array {
  const rule = TEXT_RULES[vr];
  if (typeof value !== "string" && !rule.multiple && value.length > 1) {
    throw new Error(`DICOM encoder: ${where} takes one value, got ${value.length}`);
  }
  const text = typeof value === "string" ? value : value.join("\\");
  const values = rule.multiple ? text.split("\\") : [text];
  for (const v of values) checkTextValue(vr, rule, v, where);
  const length = text.length + (text.length % 2);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  if (text.length % 2) bytes[text.length] = vr === "UI" ? 0x00 : 0x20;
  return bytes;
}

function checkTextValue(vr: DicomTextVR, rule: TextRule, value: string, where: string): void {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code > 0xff) {
      throw new Error(`DICOM encoder: ${where} has a character beyond one byte: "${value}"`);
    }
    const textControl =
      (vr === "LT" || vr === "ST" || vr === "UT") && [0x09, 0x0a, 0x0c, 0x0d].includes(code);
    if (code < 0x20 && code !== 0x1b && !textControl) {
      throw new Error(`DICOM encoder: ${where} has a control character (code ${code})`);
    }
  }
  if (rule.repertoire && !rule.repertoire.test(value)) {
    throw new Error(`DICOM encoder: ${where} value "${value}" is not valid for VR ${vr}`);
  }
  if (rule.max === undefined || [...value].some((c) => c.charCodeAt(0) > 0x7f)) return;
  const longest = vr === "PN" ? Math.max(...value.split("=").map((group) => group.length)) : value.length;
  if (longest > rule.max) {
    throw new Error(
      `DICOM encoder: ${where} value "${value}" has ${longest} characters, more than VR ${vr} allows (${rule.max})`,
    );
  }
}
