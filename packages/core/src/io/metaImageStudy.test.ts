import { zlibSync } from "fflate";
import { describe, expect, it } from "vitest";
import { DaftInputError } from "../errors.js";
import { applyAffine } from "../image/geometry.js";
import { decodeStudyFile } from "./decodeStudy.js";
import { readMetaImage } from "./metaImage.js";
import { decodeMetaImageStudy } from "./metaImageStudy.js";
import { encodeStudyLabels } from "./studyLabels.js";

/** A .mha file as ITK writes it: header lines, ElementDataFile = LOCAL last, then the data. */
function mhaFile(lines: string[], data: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(`${[...lines, "ElementDataFile = LOCAL"].join("\n")}\n`);
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

const VALUES = [-1000, -500, 0, 40, 80, 120, 200, 300, 400, 1000, 1500, 2000];
const int16 = (values: number[]) => new Uint8Array(Int16Array.from(values).buffer);

// Axis 0 runs along -y, axis 1 along +x, axis 2 along +z (rows of TransformMatrix are the axes, as in ITK).
const HEADER = [
  "ObjectType = Image",
  "NDims = 3",
  "BinaryData = True",
  "BinaryDataByteOrderMSB = False",
  "CompressedData = True",
  "TransformMatrix = 0 -1 0 1 0 0 0 0 1",
  "Offset = 10 -20 30.5",
  "CenterOfRotation = 0 0 0",
  "AnatomicalOrientation = ALS",
  "ElementSpacing = 0.5 0.75 2.5",
  "DimSize = 3 2 2",
  "ElementType = MET_SHORT",
];

describe("decodeMetaImageStudy", () => {
  it("reads an ITK-style compressed volume: C-order values, LPS affine from the rows of TransformMatrix", () => {
    const study = decodeMetaImageStudy(mhaFile(HEADER, zlibSync(int16(VALUES))), "ct.mha");
    expect(study.format).toBe("metaimage");
    expect([study.dimension, study.width, study.height, study.depth, study.channels]).toEqual([
      3, 3, 2, 2, 1,
    ]);
    expect(Array.from(study.values)).toEqual(VALUES);
    expect(study.spacing).toEqual([2.5, 0.75, 0.5]);
    expect(study.geometry!.space).toBe("LPS");
    // Voxel (1, 1, 1): offset + 1·0.5·(0,-1,0) + 1·0.75·(1,0,0) + 1·2.5·(0,0,1).
    expect(applyAffine(study.geometry!.affine, [1, 1, 1])).toEqual([10.75, -20.5, 33]);
    expect(study.description).toBe(
      "MetaImage 3×2×2 MET_SHORT, compressed, spacing 2.5×0.75×0.5 mm (z,y,x), orientation ALS",
    );
  });

  it("writes the label map back with the input's sizes, spacing, offset, directions and orientation", async () => {
    for (const compressed of [true, false]) {
      const lines = HEADER.map((l) =>
        l.startsWith("CompressedData") ? `CompressedData = ${compressed ? "True" : "False"}` : l,
      );
      const study = decodeMetaImageStudy(
        mhaFile(lines, compressed ? zlibSync(int16(VALUES)) : int16(VALUES)),
        "a.mha",
      );
      const labels = Uint16Array.from(VALUES, (v) => (v > 100 ? 2 : v > 0 ? 1 : 0));
      const out = await encodeStudyLabels(study, labels);
      expect(out.extension).toBe(".mha");
      const back = readMetaImage(out.bytes, "labels.mha");
      expect(back).toMatchObject({
        elementType: "MET_USHORT",
        sizes: [3, 2, 2],
        spacing: [0.5, 0.75, 2.5],
        offset: [10, -20, 30.5],
        directions: [
          [0, -1, 0],
          [1, 0, 0],
          [0, 0, 1],
        ],
        anatomicalOrientation: "ALS",
        compressed,
      });
      expect(Array.from(back.data)).toEqual(Array.from(labels));
    }
  });

  it("a 2D image lies in the z = 0 plane; 4 channels are RGB with alpha dropped", async () => {
    const rgba = Uint8Array.from({ length: 2 * 2 * 4 }, (_, i) => (i % 4 === 3 ? 255 : i));
    const bytes = mhaFile(
      [
        "ObjectType = Image",
        "NDims = 2",
        "BinaryData = True",
        "CompressedData = False",
        "TransformMatrix = 1 0 0 1",
        "Offset = 5 6",
        "ElementSpacing = 0.2 0.3",
        "DimSize = 2 2",
        "ElementNumberOfChannels = 4",
        "ElementType = MET_UCHAR",
      ],
      rgba,
    );
    const study = decodeMetaImageStudy(bytes, "photo.mha");
    expect([study.dimension, study.width, study.height, study.channels, study.eightBit]).toEqual([
      2,
      2,
      2,
      3,
      true,
    ]);
    expect(Array.from(study.values)).toEqual(Array.from(rgba).filter((_, i) => i % 4 !== 3));
    expect(applyAffine(study.geometry!.affine, [1, 1, 0])).toEqual([5.2, 6.3, 0]);
    const back = readMetaImage((await encodeStudyLabels(study, new Uint16Array(4).fill(1))).bytes, "l.mha");
    expect(back).toMatchObject({ sizes: [2, 2], spacing: [0.2, 0.3], offset: [5, 6], channels: 1 });
  });

  it("is found by content whatever the file is called", async () => {
    expect((await decodeStudyFile(mhaFile(HEADER, zlibSync(int16(VALUES))), "export.bin")).format).toBe(
      "metaimage",
    );
  });

  const refusals: [string, string[], RegExp][] = [
    [
      "two channels",
      [
        "ObjectType = Image",
        "NDims = 2",
        "DimSize = 2 2",
        "ElementNumberOfChannels = 2",
        "ElementType = MET_UCHAR",
      ],
      /MetaImage has 2 channels per voxel; only grey or RGB\(A\) is read/,
    ],
    [
      "a 4D series",
      ["ObjectType = Image", "NDims = 4", "DimSize = 2 2 2 2", "ElementType = MET_UCHAR"],
      /MetaImage has 4 axes \(DimSize 2 2 2 2\); a 2D image or 3D volume is needed/,
    ],
    [
      "a colour volume",
      [
        "ObjectType = Image",
        "NDims = 3",
        "DimSize = 2 2 2",
        "ElementNumberOfChannels = 3",
        "ElementType = MET_UCHAR",
      ],
      /MetaImage colour volume \(3 channels, 2 slices\) is not read/,
    ],
  ];
  for (const [what, lines, message] of refusals) {
    it(`refuses ${what}, naming the file`, () => {
      const attempt = () => decodeMetaImageStudy(mhaFile(lines, new Uint8Array(64)), "in.mha");
      expect(attempt).toThrow(DaftInputError);
      expect(attempt).toThrow(message);
      try {
        attempt();
      } catch (error) {
        expect((error as DaftInputError).source).toBe("in.mha");
      }
    });
  }
});
