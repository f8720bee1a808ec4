import { describe, expect, it } from "vitest";
import { readDicom } from "./dicom.js";
import {
  encodeDicomDataSet,
  encodeDicomFile,
  formatDecimalString,
  type DicomDataSet,
  type DicomElement,
} from "./dicomEncoder.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const encodeOne = (element: DicomElement) => hex(encodeDicomDataSet([element]));
const ascii = (s: string) => Buffer.from(s, "latin1").toString("hex");

describe("encodeDicomDataSet: one element, exact bytes", () => {
  it("US: tag, VR, 2-byte length, little-endian value", () => {
    expect(encodeOne({ tag: 0x00280010, vr: "US", value: [29] })).toBe("28001000" + "5553" + "0200" + "1d00");
  });

  it("text of odd length is padded with a space; UI with a NUL; even length is left alone", () => {
    expect(encodeOne({ tag: 0x00080060, vr: "CS", value: "SEG" })).toBe(
      "08006000" + "4353" + "0400" + ascii("SEG "),
    );
    expect(encodeOne({ tag: 0x0020000d, vr: "UI", value: "1.2.3" })).toBe(
      "20000d00" + "5549" + "0600" + ascii("1.2.3") + "00",
    );
    expect(encodeOne({ tag: 0x00100020, vr: "LO", value: "AB" })).toBe(
      "10002000" + "4c4f" + "0200" + ascii("AB"),
    );
  });

  it("several values are joined with a backslash", () => {
    expect(encodeOne({ tag: 0x00080008, vr: "CS", value: ["DERIVED", "PRIMARY"] })).toBe(
      "08000800" + "4353" + "1000" + ascii("DERIVED\\PRIMARY "),
    );
  });

  it("an empty value has length 0", () => {
    expect(encodeOne({ tag: 0x00100010, vr: "PN", value: "" })).toBe("10001000" + "504e" + "0000");
  });

  it("OB: 2 reserved bytes, a 4-byte length, odd data padded with a NUL", () => {
    expect(encodeOne({ tag: 0x7fe00010, vr: "OB", value: Uint8Array.of(1, 2, 3) })).toBe(
      "e07f1000" + "4f42" + "0000" + "04000000" + "01020300",
    );
  });

  it("UT takes the long header too", () => {
    expect(encodeOne({ tag: 0x00204000, vr: "UT", value: "ab" })).toBe(
      "20000040" + "5554" + "0000" + "02000000" + ascii("ab"),
    );
  });

  it("numbers: UL, SS, FD and AT (group then element)", () => {
    expect(encodeOne({ tag: 0x00209157, vr: "UL", value: [1, 0x01020304] })).toBe(
      "20005791" + "554c" + "0800" + "01000000" + "04030201",
    );
    expect(encodeOne({ tag: 0x00280106, vr: "SS", value: [-2] })).toBe("28000601" + "5353" + "0200" + "feff");
    expect(encodeOne({ tag: 0x00189087, vr: "FD", value: [1] })).toBe(
      "18008790" + "4644" + "0800" + "000000000000f03f",
    );
    expect(encodeOne({ tag: 0x00209165, vr: "AT", value: [0x0062000b] })).toBe(
      "20006591" + "4154" + "0400" + "62000b00",
    );
  });

  it("Latin-1 text is written byte for byte", () => {
    expect(encodeOne({ tag: 0x00100010, vr: "PN", value: "M\u00fcller" })).toBe(
      "10001000" + "504e" + "0600" + "4dfc6c6c6572",
    );
  });
});

describe("encodeDicomDataSet: order, sequences, lengths", () => {
  it("sorts elements by tag (group 0x7FE0 after 0x0008) and refuses a duplicate tag", () => {
    const bytes = encodeDicomDataSet([
      { tag: 0x7fe00010, vr: "OB", value: Uint8Array.of(0, 0) },
      { tag: 0x00080060, vr: "CS", value: "SR" },
    ]);
    expect(hex(bytes.subarray(0, 4))).toBe("08006000");
    expect(() =>
      encodeDicomDataSet([
        { tag: 0x00080060, vr: "CS", value: "SR" },
        { tag: 0x00080060, vr: "CS", value: "CT" },
      ]),
    ).toThrow(/\(0008,0060\) appears twice/);
  });

  it("a sequence has a defined length; each item is (FFFE,E000) with its defined length; items sort their elements", () => {
    const sequence: DicomElement = {
      tag: 0x00081115,
      vr: "SQ",
      value: [
        [
          { tag: 0x00081155, vr: "UI", value: "1.2" },
          { tag: 0x00081150, vr: "UI", value: "3.4" },
        ],
        [],
      ],
    };
    const first =
      "08005011" + "5549" + "0400" + ascii("3.4") + "00" + "08005511" + "5549" + "0400" + ascii("1.2") + "00";
    const items = "feff00e0" + "18000000" + first + "feff00e0" + "00000000";
    expect(encodeOne(sequence)).toBe("08001511" + "5351" + "0000" + "28000000" + items);
  });

  it("nested sequences add up their lengths", () => {
    const inner: DicomElement = { tag: 0x00080100, vr: "SH", value: "1234" };
    const nested: DicomElement = {
      tag: 0x00620003,
      vr: "SQ",
      value: [[{ tag: 0x00089215, vr: "SQ", value: [[inner]] }]],
    };
    const bytes = encodeDicomDataSet([nested]);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    // inner element 12 bytes; inner item 8 + 12; inner sequence 12 + 20; outer item 8 + 32; outer sequence 12 + 40.
    expect(bytes.length).toBe(52);
    expect(view.getUint32(8, true)).toBe(40);
    expect(view.getUint32(16, true)).toBe(32);
    expect(view.getUint32(28, true)).toBe(20);
    expect(view.getUint32(36, true)).toBe(12);
  });
});

describe("encodeDicomDataSet: values are checked against their VR", () => {
  const refused: [string, DicomElement, RegExp][] = [
    [
      "a UI with letters",
      { tag: 0x0020000d, vr: "UI", value: "1.2.a" },
      /\(0020,000D\).*not valid for VR UI/,
    ],
    [
      "a UI component with a leading zero",
      { tag: 0x0020000d, vr: "UI", value: "1.02" },
      /not valid for VR UI/,
    ],
    ["a lower-case CS", { tag: 0x00080060, vr: "CS", value: "seg" }, /not valid for VR CS/],
    [
      "an LO over 64 characters",
      { tag: 0x00100020, vr: "LO", value: "x".repeat(65) },
      /65 characters.*\(64\)/,
    ],
    [
      "a PN component group over 64",
      { tag: 0x00100010, vr: "PN", value: `${"a".repeat(65)}=b` },
      /65 characters/,
    ],
    ["a character beyond one byte", { tag: 0x00100010, vr: "PN", value: "\u4e2d" }, /beyond one byte/],
    ["a control character", { tag: 0x00100020, vr: "LO", value: "a\nb" }, /control character/],
    ["a US out of range", { tag: 0x00280010, vr: "US", value: [65536] }, /not an integer in 0\.\.65535/],
    ["a fractional UL", { tag: 0x00209157, vr: "UL", value: [1.5] }, /not an integer/],
    ["an odd OW", { tag: 0x7fe00010, vr: "OW", value: Uint8Array.of(1) }, /odd byte count/],
    ["two values for an ST", { tag: 0x00620006, vr: "ST", value: ["a", "b"] }, /takes one value/],
  ];
  for (const [name, element, message] of refused) {
    it(`refuses ${name}`, () => expect(() => encodeDicomDataSet([element])).toThrow(message));
  }

  it("counts no length for text in a multi-byte character set (bytes above 0x7F)", () => {
    expect(() =>
      encodeDicomDataSet([{ tag: 0x00100010, vr: "PN", value: "\u00e4".repeat(70) }]),
    ).not.toThrow();
  });

  it("a backslash is text in an ST, a value separator in an LO", () => {
    expect(() => encodeDicomDataSet([{ tag: 0x00620006, vr: "ST", value: "a\\b" }])).not.toThrow();
    expect(() => encodeDicomDataSet([{ tag: 0x00080060, vr: "CS", value: "A\\b" }])).toThrow(
      /"b" is not valid/,
    );
  });
});

describe("formatDecimalString", () => {
  it("keeps short numbers exact and rounds long ones into 16 characters", () => {
    expect(formatDecimalString(0.7)).toBe("0.7");
    expect(formatDecimalString(-120)).toBe("-120");
    expect(formatDecimalString(0.1 + 0.2)).toBe("0.3");
    expect(formatDecimalString(-120.00000000000001)).toBe("-120");
    expect(formatDecimalString(1e-20)).toBe("1e-20");
    const long = formatDecimalString(-0.17364817766693033);
    expect(long.length).toBeLessThanOrEqual(16);
    expect(Number(long)).toBeCloseTo(-0.17364817766693033, 12);
    expect(() => formatDecimalString(Number.NaN)).toThrow(/not a finite number/);
  });
});

describe("encodeDicomFile", () => {
  const meta = {
    mediaStorageSOPClassUID: "1.2.840.10008.5.1.4.1.1.66.4",
    mediaStorageSOPInstanceUID: "2.25.1234",
    implementationClassUID: "2.25.99",
    implementationVersionName: "DAFT_TEST",
  };
  const dataSet: DicomDataSet = [
    { tag: 0x00080005, vr: "CS", value: "ISO_IR 100" },
    { tag: 0x00080016, vr: "UI", value: meta.mediaStorageSOPClassUID },
    { tag: 0x00080018, vr: "UI", value: meta.mediaStorageSOPInstanceUID },
    { tag: 0x00080060, vr: "CS", value: "SEG" },
    { tag: 0x00100010, vr: "PN", value: "M\u00fcller^J\u00fcrgen" },
    { tag: 0x00100020, vr: "LO", value: "P1" },
    { tag: 0x00100030, vr: "DA", value: "19700101" },
    { tag: 0x00100040, vr: "CS", value: "F" },
    { tag: 0x0020000d, vr: "UI", value: "1.2.3" },
    { tag: 0x00200052, vr: "UI", value: "1.2.9" },
    { tag: 0x00081115, vr: "SQ", value: [[{ tag: 0x00080060, vr: "CS", value: "CT" }]] },
    { tag: 0x00280008, vr: "IS", value: "3" },
    { tag: 0x00280010, vr: "US", value: [3] },
    { tag: 0x00280011, vr: "US", value: [5] },
    { tag: 0x00280100, vr: "US", value: [1] },
    { tag: 0x7fe00010, vr: "OB", value: Uint8Array.of(0xff, 0x01, 0x7f) },
  ];

  it("writes the preamble, DICM and a meta group whose length counts its other elements", () => {
    const bytes = encodeDicomFile(meta, dataSet);
    expect(bytes.subarray(0, 128).every((b) => b === 0)).toBe(true);
    expect(Buffer.from(bytes.subarray(128, 132)).toString("latin1")).toBe("DICM");
    expect(hex(bytes.subarray(132, 140))).toBe("02000000" + "554c" + "0400");
    const groupLength = new DataView(bytes.buffer).getUint32(140, true);
    let end = 144;
    while (bytes[end] === 0x02 && bytes[end + 1] === 0x00) {
      const vr = Buffer.from(bytes.subarray(end + 4, end + 6)).toString("latin1");
      const view = new DataView(bytes.buffer);
      end += vr === "OB" ? 12 + view.getUint32(end + 8, true) : 8 + view.getUint16(end + 6, true);
    }
    expect(end - 144).toBe(groupLength);
    expect(hex(bytes.subarray(end, end + 4))).toBe("08000500"); // the data set starts right after
  });

  it("reads back through readDicom: transfer syntax, copied tags (Latin-1 kept), pixel data location", () => {
    const file = readDicom(encodeDicomFile(meta, dataSet), "seg.dcm");
    expect(file.transferSyntax.uid).toBe("1.2.840.10008.1.2.1");
    expect(file.mediaStorageSOPClassUID).toBe(meta.mediaStorageSOPClassUID);
    expect(file.tags).toEqual({
      specificCharacterSet: "ISO_IR 100",
      sopClassUID: meta.mediaStorageSOPClassUID,
      sopInstanceUID: "2.25.1234",
      modality: "SEG", // the CT inside the sequence does not leak out
      patientName: "M\u00fcller^J\u00fcrgen",
      patientID: "P1",
      patientBirthDate: "19700101",
      patientSex: "F",
      studyInstanceUID: "1.2.3",
      frameOfReferenceUID: "1.2.9",
      numberOfFrames: 3,
      rows: 3,
      columns: 5,
      bitsAllocated: 1,
    });
    expect(file.pixelData).toMatchObject({ length: 4, vr: "OB", encapsulated: false });
    expect(Array.from(file.bytes.subarray(file.pixelData!.offset, file.pixelData!.offset + 4))).toEqual([
      0xff, 0x01, 0x7f, 0x00,
    ]);
  });

  it("refuses File Meta elements in the data set", () => {
    expect(() => encodeDicomFile(meta, [{ tag: 0x00020010, vr: "UI", value: "1.2" }])).toThrow(
      /\(0002,0010\) does not belong in a data set/,
    );
  });
});
