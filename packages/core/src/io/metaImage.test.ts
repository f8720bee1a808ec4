import { gzipSync, unzlibSync, zlibSync } from "fflate";
import { describe, expect, it } from "vitest";
import { DaftInputError } from "../errors.js";
import {
  isMetaImage,
  readMetaImage,
  writeMetaImage,
  type MetaElementType,
  type MetaImage,
  type MetaImageData,
} from "./metaImage.js";

const text = (s: string) => new TextEncoder().encode(s);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Header lines and data of a written .mha (the data follows the ElementDataFile line). */
function split(bytes: Uint8Array): { header: string[]; payload: Uint8Array } {
  const marker = text("ElementDataFile = LOCAL\n");
  for (let i = 0; i + marker.length <= bytes.length; i++) {
    if (marker.every((b, k) => bytes[i + k] === b)) {
      const end = i + marker.length;
      return {
        header: new TextDecoder().decode(bytes.subarray(0, end - 1)).split("\n"),
        payload: bytes.subarray(end),
      };
    }
  }
  throw new Error("no ElementDataFile line");
}

/** The DaftInputError `read` throws; fails the test if it throws anything else or nothing. */
function errorOf(read: () => unknown): DaftInputError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(DaftInputError);
    return error as DaftInputError;
  }
  throw new Error("expected a DaftInputError");
}

/** Asserts the one-line message `source: …problem…`. */
function expectProblem(bytes: Uint8Array, problem: string | RegExp, source = "case.mha"): void {
  const error = errorOf(() => readMetaImage(bytes, source));
  expect(error.source).toBe(source);
  const line = error.oneLine();
  expect(line.startsWith(`${source}: `)).toBe(true);
  expect(line).not.toContain("\n");
  if (typeof problem === "string") expect(line).toContain(problem);
  else expect(line).toMatch(problem);
}

/** A header in ITK's field order, with `fields` replacing or adding (value undefined: removing) fields. */
function header(fields: Record<string, string | undefined> = {}): string {
  const base: Record<string, string | undefined> = {
    ObjectType: "Image",
    NDims: "3",
    BinaryData: "True",
    BinaryDataByteOrderMSB: "False",
    CompressedData: "False",
    TransformMatrix: "1 0 0 0 1 0 0 0 1",
    Offset: "0 0 0",
    CenterOfRotation: "0 0 0",
    AnatomicalOrientation: "RAI",
    ElementSpacing: "1 1 1",
    DimSize: "4 3 2",
    ElementType: "MET_SHORT",
  };
  const merged = { ...base, ...fields };
  const lines = Object.entries(merged)
    .filter(([key, value]) => value !== undefined && key !== "ElementDataFile")
    .map(([key, value]) => `${key} = ${value}`);
  if (!("ElementDataFile" in fields) || fields.ElementDataFile !== undefined) {
    lines.push(`ElementDataFile = ${fields.ElementDataFile ?? "LOCAL"}`);
  }
  return `${lines.join("\n")}\n`;
}

const shortData = (count: number) => new Uint8Array(count * 2).map((_, i) => i);

const SAMPLES: Record<MetaElementType, (n: number) => MetaImageData> = {
  MET_UCHAR: (n) => Uint8Array.from({ length: n }, (_, i) => [0, 255, 1, 128][i % 4]! + (i % 3)),
  MET_CHAR: (n) =>
    Int8Array.from({ length: n }, (_, i) => [-128, 127, -1, 0][i % 4]! + (i % 2) * (i % 4 === 1 ? -1 : 1)),
  MET_USHORT: (n) => Uint16Array.from({ length: n }, (_, i) => [0, 65535, 258, 40000][i % 4]! - (i % 2)),
  MET_SHORT: (n) => Int16Array.from({ length: n }, (_, i) => [-32768, 32767, -2, 258][i % 4]!),
  MET_UINT: (n) => Uint32Array.from({ length: n }, (_, i) => [0, 4294967295, 16909060, 3000000000][i % 4]!),
  MET_INT: (n) => Int32Array.from({ length: n }, (_, i) => [-2147483648, 2147483647, -16909060, i][i % 4]!),
  MET_FLOAT: (n) => Float32Array.from({ length: n }, (_, i) => [0.1, -1e-30, 3.4e38, -i][i % 4]!),
  MET_DOUBLE: (n) => Float64Array.from({ length: n }, (_, i) => [0.1, -1e-300, Math.PI, -i, NaN][i % 5]!),
};

describe("writeMetaImage → readMetaImage", () => {
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  const geometry3 = {
    spacing: [0.7, 0.8125, 2.5],
    offset: [-120.5, 33.25, 0.1],
    directions: [
      [c, s, 0],
      [-s, c, 0],
      [0, 0, -1],
    ],
  };
  const geometry2 = {
    spacing: [0.3, 1.1],
    offset: [12.5, -7],
    directions: [
      [c, s],
      [-s, c],
    ],
  };

  for (const type of Object.keys(SAMPLES) as MetaElementType[]) {
    for (const sizes of [
      [5, 3],
      [4, 3, 2],
    ]) {
      for (const compress of [true, false]) {
        it(`round-trips ${type} ${sizes.length}D ${compress ? "compressed" : "raw"}`, () => {
          const data = SAMPLES[type](sizes.reduce((a, b) => a * b, 1));
          const geometry = sizes.length === 3 ? geometry3 : geometry2;
          const written: MetaImage = {
            elementType: type,
            sizes,
            channels: 1,
            data,
            ...geometry,
            compressed: compress,
            ...(sizes.length === 3 ? { anatomicalOrientation: "LPS" } : {}),
          };
          const bytes = writeMetaImage(written, { compress });
          expect(isMetaImage(bytes)).toBe(true);
          const read = readMetaImage(bytes, "round.mha");
          expect(read).toEqual(written);
          expect(read.data).toBeInstanceOf(data.constructor);
          expect(read.data.buffer.byteLength).toBe(data.byteLength);
        });
      }
    }
  }

  it("round-trips a 2D RGB image (3 interleaved channels), compressed and not", () => {
    const data = Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => (i * 37) % 256);
    for (const compress of [true, false]) {
      const written: MetaImage = {
        elementType: "MET_UCHAR",
        sizes: [4, 3],
        channels: 3,
        data,
        ...geometry2,
        compressed: compress,
      };
      const bytes = writeMetaImage(written, { compress });
      expect(split(bytes).header).toContain("ElementNumberOfChannels = 3");
      expect(readMetaImage(bytes, "rgb.mha")).toEqual(written);
    }
  });

  it("defaults geometry, channels and compression when only sizes and data are given", () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const read = readMetaImage(writeMetaImage({ sizes: [3, 2], data }), "min.mha");
    expect(read).toEqual({
      elementType: "MET_FLOAT",
      sizes: [3, 2],
      channels: 1,
      data,
      spacing: [1, 1],
      offset: [0, 0],
      directions: [
        [1, 0],
        [0, 1],
      ],
      compressed: true,
    });
  });
});

describe("writeMetaImage", () => {
  const data = new Int16Array([1, -2, 3, -4, 5, -6]);
  const image = {
    sizes: [3, 2, 1],
    data,
    spacing: [0.5, 0.1, 3],
    offset: [-1.5, 2, 1e-7],
    directions: [
      [0, 1, 0],
      [-1, 0, 0],
      [0, 0, 1],
    ],
    anatomicalOrientation: "RAI",
  };

  it("writes the fields in ITK's order, ElementDataFile last, numbers as short exact text", () => {
    const bytes = writeMetaImage(image, { compress: false });
    const { header, payload } = split(bytes);
    expect(header).toEqual([
      "ObjectType = Image",
      "NDims = 3",
      "BinaryData = True",
      "BinaryDataByteOrderMSB = False",
      "CompressedData = False",
      "TransformMatrix = 0 1 0 -1 0 0 0 0 1",
      "Offset = -1.5 2 1e-7",
      "CenterOfRotation = 0 0 0",
      "AnatomicalOrientation = RAI",
      "ElementSpacing = 0.5 0.1 3",
      "DimSize = 3 2 1",
      "ElementType = MET_SHORT",
      "ElementDataFile = LOCAL",
    ]);
    const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    expect(payload.length).toBe(12);
    for (let i = 0; i < data.length; i++) expect(view.getInt16(2 * i, true)).toBe(data[i]);
  });

  it("compresses with zlib (RFC 1950, as MetaIO's deflateInit) and records CompressedDataSize", () => {
    const bytes = writeMetaImage(image);
    const { header, payload } = split(bytes);
    expect(header).toContain("CompressedData = True");
    expect(header).toContain(`CompressedDataSize = ${payload.length}`);
    expect(header.indexOf(`CompressedDataSize = ${payload.length}`)).toBe(
      header.indexOf("CompressedData = True") + 1,
    );
    expect(payload[0]! & 0x0f).toBe(8); // zlib CMF: deflate
    expect(new Int16Array(unzlibSync(payload).buffer)).toEqual(data);
  });

  it("refuses a wrong element type, a size mismatch and bad geometry", () => {
    expect(() => writeMetaImage({ ...image, elementType: "MET_FLOAT" })).toThrow(
      /MET_FLOAT does not match a MET_SHORT/,
    );
    expect(() => writeMetaImage({ ...image, sizes: [3, 3, 1] })).toThrow(/do not match 6 values/);
    expect(() => writeMetaImage({ ...image, channels: 2 })).toThrow(/do not match 6 values/);
    expect(() => writeMetaImage({ ...image, spacing: [1, 0, 1] })).toThrow(/spacing/);
    expect(() => writeMetaImage({ ...image, spacing: [1, 1] })).toThrow(/spacing/);
    expect(() => writeMetaImage({ ...image, offset: [0, NaN, 0] })).toThrow(/not a finite number/);
    expect(() => writeMetaImage({ ...image, directions: [[1, 0, 0]] })).toThrow(/directions/);
    expect(() => writeMetaImage({ ...image, anatomicalOrientation: "RAI\nDimSize = 1" })).toThrow(
      /anatomical/,
    );
    expect(() => writeMetaImage({ sizes: [1, 1, 1, 1, 1], data: new Uint8Array(1) })).toThrow(/1 to 4/);
  });
});

describe("readMetaImage on headers as ITK writes them", () => {
  it("decodes a big-endian (BinaryDataByteOrderMSB = True) MET_SHORT image to the exact values", () => {
    const head = text(
      [
        "ObjectType = Image",
        "NDims = 3",
        "BinaryData = True",
        "BinaryDataByteOrderMSB = True",
        "CompressedData = False",
        "TransformMatrix = 1 0 0 0 1 0 0 0 1",
        "Offset = -10.5 20 30.25",
        "CenterOfRotation = 0 0 0",
        "AnatomicalOrientation = RAI",
        "ElementSpacing = 0.5 0.75 2",
        "DimSize = 2 2 1",
        "ElementType = MET_SHORT",
        "ElementDataFile = LOCAL",
        "",
      ].join("\n"),
    );
    // 258 = 0x0102, -2 = 0xFFFE, 32767 = 0x7FFF, -32768 = 0x8000, most significant byte first.
    const body = new Uint8Array([0x01, 0x02, 0xff, 0xfe, 0x7f, 0xff, 0x80, 0x00]);
    const read = readMetaImage(concat(head, body), "itk.mha");
    expect(read.elementType).toBe("MET_SHORT");
    expect(read.data).toBeInstanceOf(Int16Array);
    expect(Array.from(read.data)).toEqual([258, -2, 32767, -32768]);
    expect(read.sizes).toEqual([2, 2, 1]);
    expect(read.spacing).toEqual([0.5, 0.75, 2]);
    expect(read.offset).toEqual([-10.5, 20, 30.25]);
    expect(read.directions).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(read.anatomicalOrientation).toBe("RAI");
    expect(read.channels).toBe(1);
    expect(read.compressed).toBe(false);
  });

  it("decodes big-endian MET_FLOAT and MET_DOUBLE, compressed", () => {
    const floats = new Uint8Array(8);
    new DataView(floats.buffer).setFloat32(0, 1.5, false);
    new DataView(floats.buffer).setFloat32(4, -0.25, false);
    const f = readMetaImage(
      concat(
        text(
          header({
            NDims: "1",
            DimSize: "2",
            ElementType: "MET_FLOAT",
            BinaryDataByteOrderMSB: "True",
            CompressedData: "True",
            TransformMatrix: "1",
            Offset: "0",
            CenterOfRotation: "0",
            ElementSpacing: "1",
            AnatomicalOrientation: undefined,
          }),
        ),
        zlibSync(floats),
      ),
      "f.mha",
    );
    expect(Array.from(f.data)).toEqual([1.5, -0.25]);
    const doubles = new Uint8Array(16);
    new DataView(doubles.buffer).setFloat64(0, Math.PI, false);
    new DataView(doubles.buffer).setFloat64(8, -1e300, false);
    const d = readMetaImage(
      concat(
        text(
          header({
            DimSize: "2 1 1",
            ElementType: "MET_DOUBLE",
            ElementByteOrderMSB: "True",
            BinaryDataByteOrderMSB: undefined,
          }),
        ),
        doubles,
      ),
      "d.mha",
    );
    expect(Array.from(d.data)).toEqual([Math.PI, -1e300]);
  });

  it("reads rows of TransformMatrix as the axes' directions (itkMetaImageIO.cxx ReadImageInformation)", () => {
    // ITK, Modules/IO/Meta/src/itkMetaImageIO.cxx, MetaImageIO::ReadImageInformation:
    //   directionAxis[jj] = transformMatrix[ii * this->GetNumberOfDimensions() + jj];
    //   this->SetDirection(ii, directionAxis);
    // i.e. values ii·N … ii·N+N−1 (row ii) are the direction of image axis ii; Write does the inverse.
    const head = header({
      TransformMatrix: "0 1 0 -1 0 0 0 0 1",
      Offset: "100 -50 7",
      ElementSpacing: "0.5 2 3",
      DimSize: "2 2 2",
      ElementType: "MET_UCHAR",
    });
    const read = readMetaImage(concat(text(head), new Uint8Array(8)), "rot.mha");
    expect(read.directions).toEqual([
      [0, 1, 0],
      [-1, 0, 0],
      [0, 0, 1],
    ]);
    // World (LPS) of voxel (1, 1, 1) = Offset + Σ_i index_i · spacing_i · directions[i].
    const world = [0, 1, 2].map(
      (k) =>
        read.offset[k]! +
        [0, 1, 2].reduce((sum, i) => sum + 1 * read.spacing[i]! * read.directions[i]![k]!, 0),
    );
    expect(world).toEqual([100 - 2, -50 + 0.5, 7 + 3]);
  });

  it("accepts MetaIO's aliases: Origin / Position, Rotation / Orientation, ElementSize, ElementByteOrderMSB", () => {
    const body = new Uint8Array(4 * 3 * 2 * 2);
    const viaOrigin = readMetaImage(
      concat(
        text(
          header({
            Offset: undefined,
            Origin: "1 2 3",
            TransformMatrix: undefined,
            Rotation: "0 0 1 0 1 0 1 0 0",
          }),
        ),
        body,
      ),
      "a.mha",
    );
    expect(viaOrigin.offset).toEqual([1, 2, 3]);
    expect(viaOrigin.directions).toEqual([
      [0, 0, 1],
      [0, 1, 0],
      [1, 0, 0],
    ]);
    const viaPosition = readMetaImage(
      concat(
        text(
          header({
            Offset: undefined,
            Position: "4 5 6",
            TransformMatrix: undefined,
            Orientation: "1 0 0 0 0 1 0 1 0",
          }),
        ),
        body,
      ),
      "b.mha",
    );
    expect(viaPosition.offset).toEqual([4, 5, 6]);
    expect(viaPosition.directions[1]).toEqual([0, 0, 1]);
    const viaElementSize = readMetaImage(
      concat(text(header({ ElementSpacing: undefined, ElementSize: "0.25 0.5 4" })), body),
      "c.mha",
    );
    expect(viaElementSize.spacing).toEqual([0.25, 0.5, 4]);
    // ElementSpacing wins over ElementSize; no geometry at all gives unit spacing, origin 0, identity.
    const both = readMetaImage(concat(text(header({ ElementSize: "9 9 9" })), body), "d.mha");
    expect(both.spacing).toEqual([1, 1, 1]);
    const bare = readMetaImage(
      concat(text("NDims = 3\nDimSize = 4 3 2\nElementType = MET_SHORT\nElementDataFile = LOCAL\n"), body),
      "e.mha",
    );
    expect(bare.spacing).toEqual([1, 1, 1]);
    expect(bare.offset).toEqual([0, 0, 0]);
    expect(bare.directions).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(bare.anatomicalOrientation).toBeUndefined();
  });

  it("reads CRLF lines, any key case, no spaces around '=', comments and unknown (ITK metadata) keys", () => {
    const head =
      "Comment = exported by 3D Slicer\r\nobjecttype=Image\r\nNDIMS=2\r\n0008|0060 = CT\r\n0010|0010 = Müller^Jörg\r\nITK_InputFilterName = MetaImageIO\r\n" +
      "binarydata=true\r\ndimsize=2 2\r\nelementtype=MET_USHORT\r\nAnatomicalOrientation = ??\r\nelementdatafile=local\r\n";
    const read = readMetaImage(concat(text(head), new Uint8Array([1, 0, 2, 0, 3, 0, 4, 1])), "crlf.mha");
    expect(Array.from(read.data)).toEqual([1, 2, 3, 260]);
    expect(read.sizes).toEqual([2, 2]);
    expect(read.anatomicalOrientation).toBeUndefined();
    expect(isMetaImage(text(head))).toBe(true);
  });

  it("reads gzip-compressed data too (MetaIO inflates with zlib or gzip headers)", () => {
    const body = shortData(24);
    const read = readMetaImage(concat(text(header({ CompressedData: "True" })), gzipSync(body)), "gz.mha");
    expect(new Uint8Array(read.data.buffer)).toEqual(body);
    expect(read.compressed).toBe(true);
  });

  it("uses CompressedDataSize to ignore bytes after the zlib stream", () => {
    const body = shortData(24);
    const z = zlibSync(body);
    const bytes = concat(
      text(header({ CompressedData: "True", CompressedDataSize: String(z.length) })),
      z,
      text("junk"),
    );
    expect(new Uint8Array(readMetaImage(bytes, "z.mha").data.buffer)).toEqual(body);
  });

  it("honours HeaderSize (data at that byte) and HeaderSize = -1 (data at the end)", () => {
    const body = shortData(24);
    const head = text(header({ HeaderSize: "0" }));
    const padded = text(header({ HeaderSize: String(head.length + 16) }));
    const at = readMetaImage(concat(padded, new Uint8Array(head.length + 16 - padded.length), body), "h.mha");
    expect(new Uint8Array(at.data.buffer)).toEqual(body);
    const end = readMetaImage(concat(text(header({ HeaderSize: "-1" })), new Uint8Array(5), body), "e.mha");
    expect(new Uint8Array(end.data.buffer)).toEqual(body);
  });

  it("ignores bytes after the expected data and takes an ElementDataFile line without a final newline", () => {
    const body = shortData(24);
    expect(
      new Uint8Array(readMetaImage(concat(text(header()), body, new Uint8Array(3)), "x.mha").data.buffer),
    ).toEqual(body);
    const noNewline = text(header({ DimSize: "1 1 1" }).trimEnd());
    expectProblem(noNewline, "MetaImage data holds 0 bytes, 2 expected");
  });
});

describe("readMetaImage errors", () => {
  const body = shortData(24);
  const withBody = (fields: Record<string, string | undefined>) => concat(text(header(fields)), body);

  it("refuses what is not a MetaImage header", () => {
    expectProblem(new Uint8Array(0), "not a MetaImage header (the file is empty)");
    expectProblem(
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      "not a MetaImage header (line 1 is not text)",
    );
    expectProblem(
      text("NRRD0004\ntype: short\n\n"),
      'not a MetaImage header (line 1 is not "Key = Value": NRRD0004)',
    );
    expectProblem(
      text("hello = world\nfoo = bar\nElementDataFile = LOCAL\n"),
      "not a MetaImage header (no NDims or ObjectType)",
    );
    expectProblem(text("NDims"), 'line 1 is not "Key = Value"');
    const endless = concat(
      text("ObjectType = Image\nComment = "),
      new Uint8Array(1 << 20).fill(0x61),
      text("\n"),
    );
    expectProblem(endless, "not a MetaImage header (no ElementDataFile line in the first 1 MiB)");
    const manyLines = text(`ObjectType = Image\n${"Comment = x\n".repeat(100_000)}ElementDataFile = LOCAL\n`);
    expectProblem(manyLines, "no ElementDataFile line in the first 1 MiB");
  });

  it("refuses a header without DimSize, ElementType or ElementDataFile, and other object types", () => {
    expectProblem(withBody({ DimSize: undefined }), "MetaImage header has no DimSize");
    expectProblem(withBody({ ElementType: undefined }), "MetaImage header has no ElementType");
    expectProblem(
      text(header({ ElementDataFile: undefined })),
      "MetaImage header has no ElementDataFile line",
    );
    expectProblem(text("ObjectType = Image\nNDims = 3\n"), "MetaImage header has no ElementDataFile line");
    expectProblem(withBody({ ObjectType: "Tube" }), 'MetaImage ObjectType is "Tube", not Image');
  });

  it("refuses bad NDims, DimSize and ElementNumberOfChannels", () => {
    expectProblem(withBody({ DimSize: "4 3" }), 'MetaImage DimSize "4 3" has 2 values, NDims is 3');
    expectProblem(withBody({ DimSize: "4 3 2 1" }), "has 4 values, NDims is 3");
    expectProblem(withBody({ DimSize: "4 0 2" }), 'MetaImage DimSize "4 0 2" must be positive integers');
    expectProblem(withBody({ DimSize: "4 2.5 2" }), "must be positive integers");
    expectProblem(withBody({ DimSize: "4 x 2" }), "must be positive integers");
    expectProblem(
      withBody({ NDims: "5", DimSize: "1 1 1 1 1" }),
      'MetaImage NDims "5" is not supported (1 to 4 axes)',
    );
    expectProblem(withBody({ NDims: "three" }), 'NDims "three" is not supported');
    expectProblem(
      withBody({ ElementNumberOfChannels: "0" }),
      'ElementNumberOfChannels "0" is not a positive integer',
    );
  });

  it("refuses element types other than the eight scalar ones, naming them", () => {
    expectProblem(
      withBody({ ElementType: "MET_LONG_LONG" }),
      /ElementType MET_LONG_LONG is not supported \(MET_UCHAR, .*MET_DOUBLE\)/,
    );
    expectProblem(
      withBody({ ElementType: "MET_FLOAT_ARRAY" }),
      "ElementType MET_FLOAT_ARRAY is not supported",
    );
    expectProblem(withBody({ ElementType: "banana" }), "ElementType banana is not supported");
  });

  it("refuses detached data (.mhd with .raw/.zraw, LIST, slice patterns) and ASCII data", () => {
    const mhd = text(header({ ElementDataFile: "case.raw" }));
    expectProblem(
      mhd,
      "detached MetaImage data (ElementDataFile = case.raw) is not read; save the image as a single .mha file",
      "case.mhd",
    );
    expectProblem(
      text(header({ CompressedData: "True", ElementDataFile: "case.zraw" })),
      "(ElementDataFile = case.zraw)",
    );
    expectProblem(text(header({ ElementDataFile: "LIST 2D" })), "(ElementDataFile = LIST 2D) is not read");
    expectProblem(text(header({ ElementDataFile: "slice%03d.raw 1 2 1" })), "detached MetaImage data");
    expectProblem(withBody({ BinaryData: "False" }), "ASCII MetaImage data (BinaryData = False) is not read");
  });

  it("refuses truncated data, saying how many bytes there are and how many were expected", () => {
    expectProblem(
      concat(text(header()), body.subarray(0, 10)),
      "MetaImage data holds 10 bytes, 48 expected for DimSize 4×3×2 of MET_SHORT",
    );
    const rgb = header({
      NDims: "2",
      DimSize: "4 3",
      ElementNumberOfChannels: "3",
      ElementType: "MET_UCHAR",
      TransformMatrix: "1 0 0 1",
      Offset: "0 0",
      CenterOfRotation: "0 0",
      ElementSpacing: "1 1",
    });
    expectProblem(
      concat(text(rgb), new Uint8Array(35)),
      "holds 35 bytes, 36 expected for DimSize 4×3 × 3 channels of MET_UCHAR",
    );
    const z = zlibSync(body.subarray(0, 40));
    expectProblem(
      concat(text(header({ CompressedData: "True" })), z),
      "MetaImage data decompresses to 40 bytes, 48 expected for DimSize 4×3×2 of MET_SHORT",
    );
    const full = zlibSync(body);
    expectProblem(
      concat(
        text(header({ CompressedData: "True", CompressedDataSize: String(full.length) })),
        full.subarray(0, 20),
      ),
      `MetaImage compressed data holds 20 bytes, CompressedDataSize says ${full.length}`,
    );
    expectProblem(
      concat(text(header({ HeaderSize: "100000" })), body),
      "MetaImage data holds 0 bytes, 48 expected",
    );
  });

  it("refuses a corrupt or truncated zlib stream", () => {
    const random = Uint8Array.from({ length: 4000 }, (_, i) => (i * 7919 + ((i * i) % 251)) & 0xff);
    const z = zlibSync(random);
    const head = text(header({ DimSize: "20 20 10", ElementType: "MET_UCHAR", CompressedData: "True" }));
    expect(Array.from(readMetaImage(concat(head, z), "ok.mha").data)).toEqual(Array.from(random));
    const badHeader = z.slice();
    badHeader[0] = 0x00;
    expectProblem(concat(head, badHeader), /corrupt or truncated compressed MetaImage data \(.+\)/);
    expectProblem(
      concat(head, z.subarray(0, z.length >> 1)),
      "corrupt or truncated compressed MetaImage data",
    );
    const badChecksum = z.slice();
    badChecksum[badChecksum.length - 1] = badChecksum[badChecksum.length - 1]! ^ 0xff;
    expectProblem(concat(head, badChecksum), "corrupt compressed MetaImage data (zlib Adler-32 mismatch)");
    const badBody = z.slice();
    for (let i = 20; i < 60; i++) badBody[i] = badBody[i]! ^ 0x5a;
    expectProblem(concat(head, badBody), /corrupt (or truncated )?compressed MetaImage data/);
    const gz = gzipSync(random);
    gz[gz.length - 6] = gz[gz.length - 6]! ^ 0xff;
    expectProblem(concat(head, gz), "corrupt compressed MetaImage data (gzip CRC-32 mismatch)");
    expectProblem(
      concat(head, text("not compressed at all")),
      "corrupt or truncated compressed MetaImage data",
    );
  });

  it("refuses non-finite or non-positive spacing and wrongly sized geometry", () => {
    expectProblem(
      withBody({ ElementSpacing: "1 nan 1" }),
      'MetaImage ElementSpacing "1 nan 1" is not all finite numbers',
    );
    expectProblem(withBody({ ElementSpacing: "1 1 inf" }), "is not all finite numbers");
    expectProblem(withBody({ ElementSpacing: "1 Infinity 1" }), "is not all finite numbers");
    expectProblem(withBody({ ElementSpacing: "1 0 1" }), 'MetaImage ElementSpacing "1 0 1" must be positive');
    expectProblem(withBody({ ElementSpacing: "1 -0.5 1" }), "must be positive");
    expectProblem(
      withBody({ ElementSpacing: "1 1" }),
      'MetaImage ElementSpacing "1 1" has 2 values, NDims is 3',
    );
    expectProblem(
      withBody({ ElementSpacing: undefined, ElementSize: "0 1 1" }),
      'MetaImage ElementSize "0 1 1" must be positive',
    );
    expectProblem(
      withBody({ TransformMatrix: "1 0 0 1" }),
      'MetaImage TransformMatrix "1 0 0 1" has 4 values, 3×3 = 9 expected',
    );
    expectProblem(
      withBody({ TransformMatrix: "1 0 0 0 1 0 0 0 x" }),
      'TransformMatrix "1 0 0 0 1 0 0 0 x" is not all finite numbers',
    );
    expectProblem(withBody({ Offset: "1 2" }), 'MetaImage Offset "1 2" has 2 values, NDims is 3');
    expectProblem(withBody({ Offset: "1 2 nan" }), 'Offset "1 2 nan" is not all finite numbers');
  });

  it("refuses bad HeaderSize and CompressedDataSize", () => {
    expectProblem(withBody({ HeaderSize: "-2" }), 'MetaImage HeaderSize "-2" is not a byte count');
    expectProblem(
      withBody({ HeaderSize: "-1", CompressedData: "True" }),
      "HeaderSize = -1 with compressed data is not supported",
    );
    expectProblem(
      withBody({ CompressedData: "True", CompressedDataSize: "ten" }),
      'CompressedDataSize "ten" is not a byte count',
    );
  });
});

describe("isMetaImage", () => {
  it("recognises a MetaIO header by its first key, looking only at the start", () => {
    expect(isMetaImage(writeMetaImage({ sizes: [2, 2], data: new Uint8Array(4) }))).toBe(true);
    expect(isMetaImage(text("NDims = 3\n"))).toBe(true);
    expect(isMetaImage(text("Comment = hello\r\nObjectType = Image\r\n"))).toBe(true);
    expect(isMetaImage(text("objecttype=Image"))).toBe(true);
    expect(isMetaImage(new Uint8Array(0))).toBe(false);
    expect(isMetaImage(text("NRRD0004\ntype: short\n"))).toBe(false);
    expect(isMetaImage(text("hello = world\nNDims = 3\n"))).toBe(false);
    expect(isMetaImage(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(false);
    expect(isMetaImage(concat(new Uint8Array(128), text("DICM")))).toBe(false);
    expect(isMetaImage(gzipSync(text("NDims = 3\n")))).toBe(false);
    expect(isMetaImage(text(`ObjectType = ${"x".repeat(5000)}`))).toBe(true);
  });
});
