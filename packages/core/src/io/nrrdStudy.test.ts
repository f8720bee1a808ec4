import { gzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { DaftInputError } from "../errors.js";
import { decodeStudyFile } from "./decodeStudy.js";
import { readNrrd } from "./nrrd.js";
import { decodeNrrdStudy } from "./nrrdStudy.js";
import { encodeStudyLabels } from "./studyLabels.js";

/** An NRRD file from header lines and data bytes, as 3D Slicer / ITK write it (header, blank line, data). */
function nrrdFile(lines: string[], data: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(
    `NRRD0004\n# written by hand for the test\n${lines.join("\n")}\n\n`,
  );
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

/** int16 values big-endian. */
function bigEndianInt16(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setInt16(2 * i, v, false));
  return out;
}

function littleEndianInt16(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setInt16(2 * i, v, true));
  return out;
}

// x fastest: 3 columns, 2 rows, 2 slices.
const VALUES = [-1000, -500, 0, 40, 80, 120, 200, 300, 400, 1000, 1500, 2000];

const SLICER_HEADER = [
  "type: short",
  "dimension: 3",
  "space: left-posterior-superior",
  "sizes: 3 2 2",
  "space directions: (0.75,0,0) (0,0.75,0) (0,0.5,2.5)",
  "kinds: domain domain domain",
  "endian: little",
  "encoding: gzip",
  "space origin: (-120.5,-90,30)",
];

describe("decodeNrrdStudy", () => {
  it("reads a Slicer-style gzip volume: values in C order (z, y, x), LPS affine, spacing from the directions", () => {
    const bytes = nrrdFile(SLICER_HEADER, gzipSync(littleEndianInt16(VALUES)));
    const study = decodeNrrdStudy(bytes, "ct.nrrd");
    expect(study.format).toBe("nrrd");
    expect([study.dimension, study.width, study.height, study.depth, study.channels]).toEqual([
      3, 3, 2, 2, 1,
    ]);
    expect(Array.from(study.values)).toEqual(VALUES);
    expect(study.values).toBeInstanceOf(Int16Array);
    expect(study.eightBit).toBe(false);
    expect(study.geometry).toEqual({
      affine: [
        [0.75, 0, 0, -120.5],
        [0, 0.75, 0.5, -90],
        [0, 0, 2.5, 30],
        [0, 0, 0, 1],
      ],
      space: "LPS",
      positioned: true,
    });
    expect(study.spacing![0]).toBeCloseTo(Math.hypot(0.5, 2.5), 12);
    expect(study.spacing!.slice(1)).toEqual([0.75, 0.75]);
    expect(study.description).toMatch(
      /^NRRD 3×2×2 int16, gzip encoding, spacing .* space left-posterior-superior$/,
    );
  });

  it("big-endian raw data and text encoding give the same values", () => {
    const raw = nrrdFile(
      SLICER_HEADER.map((l) =>
        l === "endian: little" ? "endian: big" : l === "encoding: gzip" ? "encoding: raw" : l,
      ),
      bigEndianInt16(VALUES),
    );
    expect(Array.from(decodeNrrdStudy(raw, "big.nrrd").values)).toEqual(VALUES);
    const text = nrrdFile(
      SLICER_HEADER.filter((l) => !l.startsWith("endian")).map((l) =>
        l === "encoding: gzip" ? "encoding: text" : l,
      ),
      new TextEncoder().encode(VALUES.join(" ") + "\n"),
    );
    expect(Array.from(decodeNrrdStudy(text, "text.nrrd").values)).toEqual(VALUES);
  });

  it("writes the label map back in the input's grid and space, uint16, gzip only when the input was", async () => {
    for (const encoding of ["gzip", "raw"] as const) {
      const lines = SLICER_HEADER.map((l) => (l === "encoding: gzip" ? `encoding: ${encoding}` : l));
      const data = littleEndianInt16(VALUES);
      const study = decodeNrrdStudy(nrrdFile(lines, encoding === "gzip" ? gzipSync(data) : data), "ct.nrrd");
      const labels = Uint16Array.from(VALUES, (v) => (v > 100 ? 2 : v > 0 ? 1 : 0));
      const out = await encodeStudyLabels(study, labels);
      expect(out.extension).toBe(".nrrd");
      const back = readNrrd(out.bytes, "labels.nrrd");
      expect(back).toMatchObject({
        type: "uint16",
        sizes: [3, 2, 2],
        space: "left-posterior-superior",
        spaceDirections: [
          [0.75, 0, 0],
          [0, 0.75, 0],
          [0, 0.5, 2.5],
        ],
        spaceOrigin: [-120.5, -90, 30],
        encoding,
      });
      expect(Array.from(back.data)).toEqual(Array.from(labels));
      expect(back.content).toMatch(/daft segment label map/);
    }
  });

  it("an RGB(A) image with a `none` component axis is a 2D colour study; alpha is dropped", async () => {
    const rgba = Uint8Array.from({ length: 4 * 4 * 2 }, (_, i) => (i % 4 === 3 ? 255 : i));
    const bytes = nrrdFile(
      [
        "type: uchar",
        "dimension: 3",
        "space: left-posterior-superior",
        "sizes: 4 4 2",
        "space directions: none (0.5,0,0) (0,0.5,0)",
        "kinds: RGBA-color domain domain",
        "encoding: raw",
        "space origin: (1,2,3)",
      ],
      rgba,
    );
    const study = decodeNrrdStudy(bytes, "photo.nrrd");
    expect([study.dimension, study.width, study.height, study.depth, study.channels]).toEqual([
      2, 4, 2, 1, 3,
    ]);
    expect(Array.from(study.values)).toEqual(Array.from(rgba).filter((_, i) => i % 4 !== 3));
    expect(study.eightBit).toBe(true);
    // The slice axis of a plane in 3D space is its unit normal.
    expect(study.geometry!.affine.map((row) => row[2])).toEqual([0, 0, 1, 0]);
    const back = readNrrd((await encodeStudyLabels(study, new Uint16Array(8).fill(1))).bytes, "l.nrrd");
    expect(back.sizes).toEqual([4, 2]);
    expect(back.spaceDirections).toEqual([
      [0.5, 0, 0],
      [0, 0.5, 0],
    ]);
    expect(back.spaceOrigin).toEqual([1, 2, 3]);
  });

  it("without a space the spacings scale the voxels and the image is not placed in patient space", async () => {
    const bytes = nrrdFile(
      ["type: float", "dimension: 2", "sizes: 2 3", "spacings: 0.2 nan", "endian: little", "encoding: raw"],
      new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer),
    );
    const study = decodeNrrdStudy(bytes, "plain.nrrd");
    expect([study.dimension, study.width, study.height]).toEqual([2, 2, 3]);
    expect(study.geometry!.positioned).toBe(false);
    expect(study.spacing).toEqual([1, 1, 0.2]);
    const back = readNrrd((await encodeStudyLabels(study, new Uint16Array(6))).bytes, "l.nrrd");
    expect(back.space).toBeUndefined();
    expect(back.spacings).toEqual([0.2, 1]);
  });

  it("is found by content whatever the file is called", async () => {
    const bytes = nrrdFile(SLICER_HEADER, gzipSync(littleEndianInt16(VALUES)));
    expect((await decodeStudyFile(bytes, "export.bin")).format).toBe("nrrd");
  });

  const refusals: [string, string[], Uint8Array, RegExp][] = [
    [
      "two values per voxel",
      ["type: float", "dimension: 3", "sizes: 2 3 3", "kinds: vector domain domain", "encoding: raw"],
      new Uint8Array(2 * 9 * 4),
      /has 2 values per voxel \(kind vector\); only grey or RGB\(A\) is read/,
    ],
    [
      "four spatial axes",
      ["type: uchar", "dimension: 4", "sizes: 2 2 2 2", "encoding: raw"],
      new Uint8Array(16),
      /has 4 spatial axes \(sizes 2×2×2×2\); a 2D image or 3D volume is needed/,
    ],
    [
      "a colour volume",
      [
        "type: uchar",
        "dimension: 4",
        "sizes: 3 2 2 2",
        "kinds: RGB-color domain domain domain",
        "encoding: raw",
      ],
      new Uint8Array(24),
      /colour volume \(3 components, 2 slices\) is not read/,
    ],
    [
      "detached data",
      ["type: uchar", "dimension: 2", "sizes: 2 2", "encoding: raw", "data file: scan.raw"],
      new Uint8Array(0),
      /detached NRRD data files \(\.nhdr \+ data file\) are not read; save the image as a single \.nrrd file/,
    ],
    [
      "a byte skip",
      ["type: uchar", "dimension: 2", "sizes: 2 2", "encoding: raw", "byte skip: 4"],
      new Uint8Array(8),
      /NRRD "byte skip: 4" is not supported/,
    ],
    [
      "bzip2",
      ["type: uchar", "dimension: 2", "sizes: 2 2", "encoding: bzip2"],
      new Uint8Array(8),
      /NRRD encoding "bzip2" is not supported \(raw, gzip or text\)/,
    ],
    [
      "a scanner space",
      ["type: uchar", "dimension: 2", "sizes: 2 2", "space: scanner-xyz", "encoding: raw"],
      new Uint8Array(4),
      /NRRD space "scanner-xyz" is not supported/,
    ],
    [
      "degenerate directions",
      [
        "type: uchar",
        "dimension: 3",
        "sizes: 2 2 2",
        "space: RAS",
        "space directions: (1,0,0) (2,0,0) (0,0,1)",
        "encoding: raw",
      ],
      new Uint8Array(8),
      /NRRD space directions are degenerate/,
    ],
    [
      "too few text values",
      ["type: short", "dimension: 2", "sizes: 2 2", "encoding: text"],
      new TextEncoder().encode("1 2 3"),
      /NRRD text data holds 3 values, 4 expected/,
    ],
    [
      "truncated raw data",
      ["type: short", "dimension: 2", "sizes: 2 2", "encoding: raw"],
      new Uint8Array(5),
      /NRRD data holds 5 bytes, 8 expected for sizes 2×2/,
    ],
  ];
  for (const [what, lines, data, message] of refusals) {
    it(`refuses ${what} in one line naming the file`, () => {
      const attempt = () => decodeNrrdStudy(nrrdFile(lines, data), "in.nrrd");
      expect(attempt).toThrow(DaftInputError);
      expect(attempt).toThrow(message);
      try {
        attempt();
      } catch (error) {
        expect((error as DaftInputError).source).toBe("in.nrrd");
        expect((error as DaftInputError).message).not.toMatch(/\n/);
      }
    });
  }
});
