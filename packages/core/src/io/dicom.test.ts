import { readFileSync } from "node:fs";
import { deflateSync } from "fflate";
import { describe, expect, it } from "vitest";
import { inputErrorLine } from "../testing/inputErrors.js";
import { readDicom } from "./dicom.js";
import { decodeDicomPixels } from "./dicomPixels.js";

/** Byte builder for hand-made DICOM files. */
interface Syntax {
  explicit: boolean;
  little: boolean;
}
const LONG = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]);
const UNDEF = 0xffffffff;

function u16(v: number, little: boolean): number[] {
  return little ? [v & 0xff, v >> 8] : [v >> 8, v & 0xff];
}
function u32(v: number, little: boolean): number[] {
  const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
  return little ? b : b.reverse();
}
function text(s: string): number[] {
  const bytes = [...s].map((c) => c.charCodeAt(0));
  if (bytes.length % 2) bytes.push(0x20);
  return bytes;
}
function element(
  group: number,
  el: number,
  vr: string,
  value: number[],
  sx: Syntax,
  length?: number,
): number[] {
  const len = length ?? value.length;
  const head = [...u16(group, sx.little), ...u16(el, sx.little)];
  if (!sx.explicit || group === 0xfffe) return [...head, ...u32(len, sx.little), ...value];
  const vrBytes = [vr.charCodeAt(0), vr.charCodeAt(1)];
  return LONG.has(vr)
    ? [...head, ...vrBytes, 0, 0, ...u32(len, sx.little), ...value]
    : [...head, ...vrBytes, ...u16(len, sx.little), ...value];
}
const item = (content: number[], sx: Syntax, undefinedLength = false): number[] =>
  undefinedLength
    ? [...element(0xfffe, 0xe000, "", content, sx, UNDEF), ...element(0xfffe, 0xe00d, "", [], sx)]
    : element(0xfffe, 0xe000, "", content, sx);
const seqEnd = (sx: Syntax) => element(0xfffe, 0xe0dd, "", [], sx);

function part10(transferSyntax: string, dataset: number[]): Uint8Array {
  const meta: Syntax = { explicit: true, little: true };
  const metaBody = [
    ...element(0x0002, 0x0001, "OB", [0, 1], meta),
    ...element(0x0002, 0x0002, "UI", text("1.2.840.10008.5.1.4.1.1.2\0"), meta),
    ...element(
      0x0002,
      0x0010,
      "UI",
      text(transferSyntax.length % 2 ? `${transferSyntax}\0` : transferSyntax),
      meta,
    ),
  ];
  const groupLength = element(0x0002, 0x0000, "UL", u32(metaBody.length, true), meta);
  const out = new Uint8Array(132 + groupLength.length + metaBody.length + dataset.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128);
  out.set(groupLength, 132);
  out.set(metaBody, 132 + groupLength.length);
  out.set(dataset, 132 + groupLength.length + metaBody.length);
  return out;
}

/** A small data set with a nested sequence of each length kind, then 2×3 16-bit signed pixels. */
function dataset(sx: Syntax, pixels = [-5, 0, 7, 100, -1000, 32767]): number[] {
  const nestedItem = element(0x0008, 0x0060, "CS", text("MR"), sx); // a Modality inside a sequence: ignored
  const pixelBytes = pixels.flatMap((p) => u16(p & 0xffff, sx.little));
  return [
    ...element(0x0008, 0x0016, "UI", text("1.2.840.10008.5.1.4.1.1.128\0"), sx),
    ...element(0x0008, 0x0060, "CS", text("PT"), sx),
    // defined-length sequence holding one defined-length item
    ...element(0x0008, 0x1140, "SQ", item(nestedItem, sx), sx),
    // undefined-length sequence: an undefined-length item holding another undefined-length sequence
    ...element(
      0x0008,
      0x1115,
      "SQ",
      [
        ...item(
          [...element(0x0008, 0x114a, "SQ", [...item(nestedItem, sx, true), ...seqEnd(sx)], sx, UNDEF)],
          sx,
          true,
        ),
        ...seqEnd(sx),
      ],
      sx,
      UNDEF,
    ),
    ...element(0x0018, 0x0050, "DS", text("2.5"), sx),
    ...element(0x0020, 0x000d, "UI", text("1.2.3.4\0"), sx),
    ...element(0x0020, 0x000e, "UI", text("1.2.3.4.5\0"), sx),
    ...element(0x0020, 0x0013, "IS", text("17"), sx),
    ...element(0x0020, 0x0032, "DS", text("-10.5\\20\\3.25"), sx),
    ...element(0x0020, 0x0037, "DS", text("1\\0\\0\\0\\1\\0"), sx),
    ...element(0x0028, 0x0002, "US", u16(1, sx.little), sx),
    ...element(0x0028, 0x0004, "CS", text("MONOCHROME2"), sx),
    ...element(0x0028, 0x0010, "US", u16(2, sx.little), sx),
    ...element(0x0028, 0x0011, "US", u16(3, sx.little), sx),
    ...element(0x0028, 0x0030, "DS", text("0.75\\0.5"), sx),
    ...element(0x0028, 0x0100, "US", u16(16, sx.little), sx),
    ...element(0x0028, 0x0101, "US", u16(16, sx.little), sx),
    ...element(0x0028, 0x0103, "US", u16(1, sx.little), sx),
    ...element(0x0028, 0x1050, "DS", text("40\\400"), sx),
    ...element(0x0028, 0x1051, "DS", text("80\\1500"), sx),
    ...element(0x0028, 0x1052, "DS", text("-1024"), sx),
    ...element(0x0028, 0x1053, "DS", text("2"), sx),
    ...element(0x7fe0, 0x0010, "OW", pixelBytes, sx),
  ];
}

function message(action: () => unknown): string {
  const line = inputErrorLine(action);
  expect(line).not.toContain("\n");
  return line;
}

const SYNTAXES: [string, string, Syntax][] = [
  ["Implicit VR Little Endian", "1.2.840.10008.1.2", { explicit: false, little: true }],
  ["Explicit VR Little Endian", "1.2.840.10008.1.2.1", { explicit: true, little: true }],
  ["Explicit VR Big Endian", "1.2.840.10008.1.2.2", { explicit: true, little: false }],
];

describe("readDicom on hand-built files", () => {
  for (const [name, uid, sx] of SYNTAXES) {
    it(`reads tags, skips nested sequences and decodes pixels: ${name}`, () => {
      const file = readDicom(part10(uid, dataset(sx)), "x.dcm");
      expect(file.transferSyntax).toMatchObject({ uid, name, compressed: false });
      expect(file.mediaStorageSOPClassUID).toBe("1.2.840.10008.5.1.4.1.1.2");
      expect(file.tags).toEqual({
        sopClassUID: "1.2.840.10008.5.1.4.1.1.128",
        modality: "PT",
        sliceThickness: 2.5,
        studyInstanceUID: "1.2.3.4",
        seriesInstanceUID: "1.2.3.4.5",
        instanceNumber: 17,
        imagePositionPatient: [-10.5, 20, 3.25],
        imageOrientationPatient: [1, 0, 0, 0, 1, 0],
        samplesPerPixel: 1,
        photometricInterpretation: "MONOCHROME2",
        rows: 2,
        columns: 3,
        pixelSpacing: [0.75, 0.5],
        bitsAllocated: 16,
        bitsStored: 16,
        pixelRepresentation: 1,
        windowCenter: [40, 400],
        windowWidth: [80, 1500],
        rescaleIntercept: -1024,
        rescaleSlope: 2,
      });
      expect(file.pixelData).toMatchObject({ length: 12, encapsulated: false });
      const px = decodeDicomPixels(file);
      expect([...px.values]).toEqual([-5, 0, 7, 100, -1000, 32767].map((v) => v * 2 - 1024));
      expect(px).toMatchObject({ rows: 2, columns: 3, frames: 1, samplesPerPixel: 1 });
      // Into a series' scratch array (larger than one slice): the same values, in the scratch's memory.
      const scratch = new Float32Array(8).fill(99);
      const into = decodeDicomPixels(file, undefined, { scratch });
      expect([...into.values]).toEqual([...px.values]);
      expect(into.values.buffer).toBe(scratch.buffer);
    });
  }

  it("reads a Deflated Explicit VR Little Endian data set", () => {
    const raw = dataset({ explicit: true, little: true });
    const deflated = deflateSync(new Uint8Array(raw));
    const file = readDicom(part10("1.2.840.10008.1.2.1.99", [...deflated]));
    expect(file.tags.modality).toBe("PT");
    expect(decodeDicomPixels(file).values[1]).toBe(-1024);
  });

  it("masks BitsStored and sign-extends 12-bit signed values", () => {
    const sx = { explicit: true, little: true };
    const body = [
      ...element(0x0028, 0x0010, "US", u16(1, true), sx),
      ...element(0x0028, 0x0011, "US", u16(2, true), sx),
      ...element(0x0028, 0x0100, "US", u16(16, true), sx),
      ...element(0x0028, 0x0101, "US", u16(12, true), sx),
      ...element(0x0028, 0x0103, "US", u16(1, true), sx),
      // 0xF800 has garbage above bit 11; its 12-bit value 0x800 is -2048. 0x07FF is 2047.
      ...element(0x7fe0, 0x0010, "OW", [...u16(0xf800, true), ...u16(0x07ff, true)], sx),
    ];
    expect([...decodeDicomPixels(readDicom(part10("1.2.840.10008.1.2.1", body))).values]).toEqual([
      -2048, 2047,
    ]);
  });

  it("keeps tags of a compressed (encapsulated) file readable but refuses its pixel data by name", () => {
    const sx = { explicit: true, little: true };
    const fragments = [...item([], sx), ...item([0xff, 0xd8, 0xff, 0xd9], sx), ...seqEnd(sx)];
    const body = [
      ...element(0x0008, 0x0060, "CS", text("CT"), sx),
      ...element(0x0028, 0x0010, "US", u16(4, true), sx),
      ...element(0x7fe0, 0x0010, "OB", fragments, sx, UNDEF),
    ];
    const file = readDicom(part10("1.2.840.10008.1.2.4.92", body), "jpeg.dcm");
    expect(file.tags).toEqual({ modality: "CT", rows: 4 });
    expect(file.transferSyntax).toMatchObject({
      compressed: true,
      name: "JPEG 2000 Part 2 Multi-component (Lossless Only)",
    });
    expect(file.pixelData).toMatchObject({ encapsulated: true, length: fragments.length });
    expect(message(() => decodeDicomPixels(file, "jpeg.dcm"))).toBe(
      "jpeg.dcm: pixel data not supported: transfer syntax JPEG 2000 Part 2 Multi-component (Lossless Only) " +
        "(1.2.840.10008.1.2.4.92) is compressed; uncompressed pixel data, RLE Lossless, JPEG Lossless (Process 14), " +
        "JPEG Lossless SV1, JPEG Baseline (8-bit), JPEG Extended (8/12-bit), JPEG-LS, JPEG-LS near-lossless, " +
        "JPEG 2000 (Lossless Only), JPEG 2000, HTJ2K (Lossless Only), HTJ2K with RPCL Options (Lossless Only), " +
        "HTJ2K can be read",
    );
  });

  // fixtures/formats/compressed (make_compressed_dicom.sh): pydicom writes the native files, dcmtk compresses them.
  const compressed = new URL("../../../../fixtures/formats/compressed/", import.meta.url);
  const pixels = (name: string) =>
    decodeDicomPixels(
      readDicom(new Uint8Array(readFileSync(new URL(`${name}.dcm`, compressed))), name),
      name,
    );
  const pairs: [string, string][] = [
    ["ct_native", "ct_jpeg_sv1"],
    ["ct_native", "ct_rle"],
    ...[2, 3, 4, 5, 6, 7].map((sv): [string, string] => ["ct_native", `ct_jpeg_p14_sv${sv}`]),
    ["mr12_native", "mr12_jpeg_sv1"],
    ["mr12_native", "mr12_rle"],
    ["mr12_pt2_decoded_native", "mr12_jpeg_p14_sv1_pt2"],
    ["us_rgb_native", "us_rgb_jpeg_sv1"],
    ["us_rgb_native", "us_rgb_rle"],
    ["ct_native", "ct_jpeg_ls"],
    ["mr12_native", "mr12_jpeg_ls"],
    ["us_grey_native", "us_grey_jpeg_ls"],
    ["mr12_jpeg_ls_near2_dcmtk_decoded", "mr12_jpeg_ls_near2"],
    // Colour JPEG-LS, interleave modes none (ILV 0), line (1) and sample (2).
    ...[0, 1, 2].flatMap((ilv): [string, string][] => [
      ["us_rgb_native", `us_rgb_jpeg_ls_ilv${ilv}`],
      ["us_overlay_rgb_native", `us_overlay_rgb_jpeg_ls_ilv${ilv}`],
      [`us_smooth_rgb_jpeg_ls_near2_ilv${ilv}_dcmtk_decoded`, `us_smooth_rgb_jpeg_ls_near2_ilv${ilv}`],
    ]),
    // JPEG Extended through libjpeg's own integer IDCT: exactly as dcmtk decodes it, 12-bit (with 16-bit
    // quantisation tables at quality 5) and 8-bit.
    ...[
      "mr12_jpeg_extended",
      "mr12_jpeg_extended_q5",
      "ct_jpeg_extended",
      "us_grey_jpeg_extended",
      "us_smooth_rgb_jpeg_extended_rgb",
    ].map((name): [string, string] => [`${name}_dcmtk_decoded`, name]),
  ];
  for (const [native, packed] of pairs) {
    it(`decodes dcmtk's ${packed} to exactly the native pixels`, () => {
      const want = pixels(native);
      const got = pixels(packed);
      expect({ ...got, values: undefined }).toEqual({ ...want, values: undefined });
      expect(got.values).toEqual(want.values);
    });
  }

  for (const [name, maxDiff, maxMean] of [
    ["us_grey_jpeg_baseline", 1, 0.1],
    ["us_smooth_rgb_jpeg_baseline_rgb", 1, 0.1],
    // YBR_FULL_422: chroma upsampled by two decoders in two ways (jpeg-js: replication; libjpeg: smoothing).
    ["us_smooth_rgb_jpeg_baseline_ybr", 8, 2.5],
    ["us_smooth_rgb_jpeg_extended_ybr", 8, 2.5],
  ] as const) {
    it(`decodes dcmtk's lossy ${name} as dcmtk's own decoder does, within IDCT rounding`, () => {
      const want = pixels(`${name}_dcmtk_decoded`);
      const got = pixels(name);
      expect([got.rows, got.columns, got.samplesPerPixel]).toEqual([
        want.rows,
        want.columns,
        want.samplesPerPixel,
      ]);
      let max = 0;
      let sum = 0;
      got.values.forEach((v, i) => {
        const d = Math.abs(v - want.values[i]!);
        max = Math.max(max, d);
        sum += d;
      });
      expect(max).toBeLessThanOrEqual(maxDiff);
      expect(sum / got.values.length).toBeLessThanOrEqual(maxMean);
      if (name.endsWith("ybr")) expect(got.photometricInterpretation).toBe("RGB");
    });
  }

  // PALETTE COLOR (pydicom's fixtures, its apply_color_lut output as reference): 16-bit entries are scaled to 8 bits
  // by >> 8; 8-bit entries (packed, or one to a 16-bit word) are kept.
  for (const [name, shift] of [
    ["pal_lut16", 8],
    ["pal_lut8", 0],
    ["pal_lut8_in_words", 0],
    ["pal_index16", 8],
  ] as const) {
    for (const stored of name === "pal_lut16" ? ["native", "rle"] : ["native"]) {
      it(`looks up PALETTE COLOR ${name}_${stored} as pydicom's apply_color_lut does`, () => {
        const want = pixels(`${name}_pydicom_rgb_native`);
        const got = pixels(`${name}_${stored}`);
        expect({ ...got, values: undefined }).toEqual({
          ...want,
          values: undefined,
          photometricInterpretation: "RGB",
        });
        expect(got.values).toEqual(want.values.map((v) => v >> shift));
      });
    }
  }

  it("names a corrupt compressed frame and a frame that does not match the header", () => {
    const bytes = new Uint8Array(readFileSync(new URL("ct_jpeg_sv1.dcm", compressed)));
    const cut = readDicom(bytes, "cut.dcm");
    // Corrupt the entropy-coded data's Huffman table id: the scan names a table that is not there.
    const sos = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xda);
    const broken = bytes.slice();
    broken[sos + 6] = 0x30;
    expect(message(() => decodeDicomPixels(readDicom(broken, "x.dcm"), "x.dcm"))).toBe(
      "x.dcm: lossless JPEG: no Huffman table 3",
    );
    const wrongRows = { ...cut, tags: { ...cut.tags, rows: 40 } };
    expect(message(() => decodeDicomPixels(wrongRows, "cut.dcm"))).toMatch(
      /^cut\.dcm: lossless JPEG frame is 64×48×1, but the DICOM header says 64×40×1/,
    );
  });

  it("reads Shared and Per-Frame Functional Groups, defined and undefined lengths, explicit and implicit VR", () => {
    for (const sx of [
      { explicit: true, little: true },
      { explicit: false, little: true },
    ]) {
      const uid = sx.explicit ? "1.2.840.10008.1.2.1" : "1.2.840.10008.1.2";
      const ds = (tagEl: [number, number], values: number[]) =>
        element(tagEl[0], tagEl[1], "DS", text(values.join("\\")), sx);
      // A macro sequence holding one item; `open` writes undefined lengths for the sequence and its item.
      const macro = (el: [number, number], content: number[], open: boolean) =>
        open
          ? element(el[0], el[1], "SQ", [...item(content, sx, true), ...seqEnd(sx)], sx, UNDEF)
          : element(el[0], el[1], "SQ", item(content, sx), sx);
      const frame = (z: number, slope: number, open: boolean) => [
        ...macro([0x0020, 0x9113], ds([0x0020, 0x0032], [-10, 5, z]), open),
        // Something else nested, to skip: a Frame Content Sequence with an unrelated attribute.
        ...macro([0x0020, 0x9111], element(0x0020, 0x9157, "UL", u32(z, true), sx), open),
        ...macro(
          [0x0028, 0x9145],
          [...ds([0x0028, 0x1052], [-1024]), ...ds([0x0028, 0x1053], [slope])],
          open,
        ),
      ];
      const shared = [
        ...macro([0x0020, 0x9116], ds([0x0020, 0x0037], [1, 0, 0, 0, 1, 0]), false),
        ...macro(
          [0x0028, 0x9110],
          [...ds([0x0018, 0x0050], [2.5]), ...ds([0x0028, 0x0030], [0.8, 0.7])],
          true,
        ),
      ];
      const body = [
        ...element(0x0028, 0x0008, "IS", text("2"), sx),
        ...element(0x5200, 0x9229, "SQ", item(shared, sx), sx),
        ...element(
          0x5200,
          0x9230,
          "SQ",
          [...item(frame(5, 2, true), sx, true), ...item(frame(2.5, 1, false), sx), ...seqEnd(sx)],
          sx,
          UNDEF,
        ),
      ];
      const tags = readDicom(part10(uid, body), "mf.dcm").tags;
      expect(tags.numberOfFrames).toBe(2);
      expect(tags.sharedFunctionalGroups).toEqual({
        imageOrientationPatient: [1, 0, 0, 0, 1, 0],
        sliceThickness: 2.5,
        pixelSpacing: [0.8, 0.7],
      });
      expect(tags.perFrameFunctionalGroups).toEqual([
        { imagePositionPatient: [-10, 5, 5], rescaleIntercept: -1024, rescaleSlope: 2 },
        { imagePositionPatient: [-10, 5, 2.5], rescaleIntercept: -1024, rescaleSlope: 1 },
      ]);
      // Nested attributes never reach the top level.
      expect(tags.imagePositionPatient).toBeUndefined();
    }
  });

  it("parses an undefined-length UN element as an implicit VR sequence", () => {
    const sx = { explicit: true, little: true };
    const implicit = { explicit: false, little: true };
    const inner = [
      ...item(element(0x0008, 0x0060, "CS", text("US"), implicit), implicit, true),
      ...seqEnd(implicit),
    ];
    const body = [
      ...element(0x0009, 0x1010, "UN", inner, sx, UNDEF),
      ...element(0x0008, 0x0060, "CS", text("MG"), sx),
    ];
    // Elements after a private UN sequence must still be found (and the nested Modality ignored).
    expect(readDicom(part10("1.2.840.10008.1.2.1", body)).tags.modality).toBe("MG");
  });

  it("gives one-line errors for non-DICOM, truncated and corrupt files", () => {
    expect(message(() => readDicom(new Uint8Array(40), "a.dcm"))).toBe(
      'a.dcm: not a DICOM Part 10 file: 40 bytes is too short for the 128-byte preamble and "DICM"',
    );
    expect(message(() => readDicom(new Uint8Array(200), "b.dcm"))).toBe(
      'b.dcm: not a DICOM Part 10 file: no "DICM" marker at byte 128',
    );
    const good = part10("1.2.840.10008.1.2.1", dataset({ explicit: true, little: true }));
    expect(message(() => readDicom(good.subarray(0, good.length - 5), "c.dcm"))).toMatch(
      /^c\.dcm: truncated: value of element \(7FE0,0010\) at byte \d+ needs 12 bytes, only 7 remain$/,
    );
    const noSyntax = part10("1.2.840.10008.1.2.1", []);
    // Rename the (0002,0010) tag to (0002,0011) so no transfer syntax remains.
    const at = [...noSyntax].findIndex(
      (_, i) => noSyntax[i] === 2 && noSyntax[i + 2] === 0x10 && noSyntax[i + 4] === 0x55,
    );
    noSyntax[at + 2] = 0x11;
    expect(message(() => readDicom(noSyntax, "d.dcm"))).toBe(
      "d.dcm: corrupt: the file meta information has no Transfer Syntax UID (0002,0010)",
    );
    const badVr = part10("1.2.840.10008.1.2.1", [8, 0, 0x60, 0, 0x01, 0x02, 2, 0, 0x43, 0x54]);
    expect(message(() => readDicom(badVr, "e.dcm"))).toMatch(
      /^e\.dcm: corrupt: invalid VR "\?\?" in element \(0008,0060\)/,
    );
    const sx = { explicit: true, little: true };
    const unterminated = [...element(0x0008, 0x1115, "SQ", item([], sx), sx, UNDEF)];
    expect(message(() => readDicom(part10("1.2.840.10008.1.2.1", unterminated), "f.dcm"))).toMatch(
      /^f\.dcm: truncated: sequence item header at byte \d+ needs 8 bytes, only 0 remain$/,
    );
    const badNumber = element(0x0028, 0x0030, "DS", text("0.5\\abc"), sx);
    expect(message(() => readDicom(part10("1.2.840.10008.1.2.1", badNumber), "g.dcm"))).toBe(
      'g.dcm: corrupt: (0028,0030) pixelSpacing has a value that is not a number: "abc"',
    );
  });

  /** A PALETTE COLOR image: Red, Green, Blue descriptors and data (as 16-bit words), 8- or 16-bit indices. */
  function paletteFile(
    uid: string,
    sx: Syntax,
    descriptors: number[][],
    words: number[][],
    indices: number[],
    indexBits: 8 | 16,
    extra: number[] = [],
  ): Uint8Array {
    const pixelBytes = indexBits === 8 ? indices : indices.flatMap((v) => u16(v, sx.little));
    return part10(uid, [
      ...element(0x0028, 0x0002, "US", u16(1, sx.little), sx),
      ...element(0x0028, 0x0004, "CS", text("PALETTE COLOR"), sx),
      ...element(0x0028, 0x0010, "US", u16(2, sx.little), sx),
      ...element(0x0028, 0x0011, "US", u16(indices.length / 2, sx.little), sx),
      ...element(0x0028, 0x0100, "US", u16(indexBits, sx.little), sx),
      ...element(0x0028, 0x0101, "US", u16(indexBits, sx.little), sx),
      ...element(0x0028, 0x1053, "DS", text("2"), sx),
      ...descriptors.flatMap((d, c) =>
        element(
          0x0028,
          0x1101 + c,
          "US",
          d.flatMap((v) => u16(v, sx.little)),
          sx,
        ),
      ),
      ...words.flatMap((w, c) =>
        element(
          0x0028,
          0x1201 + c,
          "OW",
          w.flatMap((v) => u16(v, sx.little)),
          sx,
        ),
      ),
      ...extra,
      ...element(0x7fe0, 0x0010, indexBits === 8 ? "OB" : "OW", pixelBytes, sx),
    ]);
  }

  it("looks up PALETTE COLOR indices through 8- and 16-bit tables to 8-bit RGB, in every syntax", () => {
    for (const [name, uid, sx] of SYNTAXES) {
      const bytes = paletteFile(
        uid,
        sx,
        [
          [4, 1, 8],
          [4, 1, 16],
          [4, 1, 8],
        ],
        [
          [10 | (20 << 8), 30 | (40 << 8)], // 8-bit entries, two to a word (as PS3.3 C.7.6.3.1.6 says)
          [0x1000, 0x2000, 0x30ff, 0xff00], // 16-bit entries: >> 8
          [5, 6, 7, 8], // 8-bit entries one to a 16-bit word (a known writer error)
        ],
        [0, 1, 2, 3, 4, 200],
        8,
      );
      const pixels = decodeDicomPixels(readDicom(bytes, name), name);
      // Below the first mapped value (1) → the first entry, past the last → the last; no rescale of indices.
      expect({ ...pixels, values: [...pixels.values] }, name).toEqual({
        frames: 1,
        rows: 2,
        columns: 3,
        samplesPerPixel: 3,
        photometricInterpretation: "RGB",
        values: [10, 16, 5, 10, 16, 5, 20, 32, 6, 30, 48, 7, 40, 255, 8, 40, 255, 8],
      });
    }
  });

  it("reads a 65536-entry palette (descriptor 0) for 16-bit indices", () => {
    const sx = { explicit: true, little: true };
    const ramp = Array.from({ length: 65536 }, (_, i) => i);
    const bytes = paletteFile(
      "1.2.840.10008.1.2.1",
      sx,
      [
        [0, 0, 16],
        [0, 0, 16],
        [0, 0, 16],
      ],
      [ramp, ramp, ramp],
      [0, 255, 256, 65535],
      16,
    );
    expect([...decodeDicomPixels(readDicom(bytes)).values]).toEqual([
      0, 0, 0, 0, 0, 0, 1, 1, 1, 255, 255, 255,
    ]);
  });

  it("refuses broken and segmented PALETTE COLOR tables by name", () => {
    const sx = { explicit: true, little: true };
    const good = [4, 0, 8];
    const lut = [1, 2];
    const attempt = (descriptors: number[][], words: number[][], extra: number[] = []) =>
      message(() =>
        decodeDicomPixels(
          readDicom(paletteFile("1.2.840.10008.1.2.1", sx, descriptors, words, [0, 1], 8, extra)),
          "p.dcm",
        ),
      );
    expect(attempt([[4, 0, 12], good, good], [lut, lut, lut])).toBe(
      "p.dcm: Red Palette Color Lookup Table Descriptor gives 12 bits per entry (8 or 16)",
    );
    expect(attempt([good, good], [lut, lut, lut])).toBe(
      "p.dcm: PALETTE COLOR without a Blue Palette Color Lookup Table Descriptor (0028,1103)",
    );
    expect(attempt([good, good, good], [lut, [1], lut])).toBe(
      "p.dcm: Green Palette Color Lookup Table Data has 2 bytes, too few for 4 entries of 8 bits",
    );
    expect(attempt([good, good, good], [lut, lut, lut], element(0x0028, 0x1221, "OW", [0, 0], sx))).toBe(
      "p.dcm: PALETTE COLOR with segmented lookup tables (0028,1221–1223) is not supported",
    );
  });

  it("reports pixel data shorter than Rows × Columns needs", () => {
    const sx = { explicit: true, little: true };
    const body = [
      ...element(0x0028, 0x0010, "US", u16(4, true), sx),
      ...element(0x0028, 0x0011, "US", u16(4, true), sx),
      ...element(0x0028, 0x0100, "US", u16(8, true), sx),
      ...element(0x7fe0, 0x0010, "OB", [1, 2, 3, 4], sx),
    ];
    expect(message(() => decodeDicomPixels(readDicom(part10("1.2.840.10008.1.2.1", body)), "h.dcm"))).toBe(
      "h.dcm: truncated pixel data: 4×4×1 samples × 1 frames × 8 bits needs 16 bytes, found 4",
    );
  });
});
