import { describe, expect, it } from "vitest";
import { DaftInputError } from "../errors.js";
import { flipXY } from "../image/geometry.js";
import { writeMetaImage } from "../io/metaImage.js";
import { writeNifti } from "../io/nifti.js";
import { writeNpz } from "../io/npz.js";
import { writeNrrd } from "../io/nrrd.js";
import { encodePng } from "../io/raster.js";
import { caseKeyOf, checkSameGrid, readLabelMapFile } from "./labelMapFile.js";

const RAS = [
  [-0.7, 0, 0, 90],
  [0, 0.8, 0, -60],
  [0, 0, 3, 12],
  [0, 0, 0, 1],
];
const LABELS = Uint16Array.from({ length: 4 * 3 * 2 }, (_, i) => i % 3);

function placedCopies(affine = RAS): [string, Uint8Array][] {
  const lps = flipXY(affine);
  const spacing = [0, 1, 2].map((c) => Math.hypot(lps[0]![c]!, lps[1]![c]!, lps[2]![c]!));
  return [
    ["ct.nii.gz", writeNifti(LABELS, [4, 3, 2], { affine, gzip: true })],
    [
      "ct.nrrd",
      writeNrrd({
        type: "uint16",
        sizes: [4, 3, 2],
        data: LABELS,
        space: "left-posterior-superior",
        spaceDirections: [0, 1, 2].map((c) => [lps[0]![c]!, lps[1]![c]!, lps[2]![c]!]),
        spaceOrigin: [lps[0]![3]!, lps[1]![3]!, lps[2]![3]!],
      }),
    ],
    [
      "ct.mha",
      writeMetaImage({
        sizes: [4, 3, 2],
        data: LABELS,
        spacing,
        offset: [lps[0]![3]!, lps[1]![3]!, lps[2]![3]!],
        directions: [0, 1, 2].map((c) => [0, 1, 2].map((r) => lps[r]![c]! / spacing[c]!)),
      }),
    ],
  ];
}

describe("caseKeyOf", () => {
  it("pairs files by name without suffix, and nnU-Net image names with their reference", () => {
    expect(caseKeyOf("3DBox_CT_a.npz")).toBe("3DBox_CT_a");
    expect(caseKeyOf("ct_0000.nii.gz")).toBe("ct");
    expect(caseKeyOf("ct.nii.gz")).toBe("ct");
    expect(caseKeyOf("ct.NRRD")).toBe("ct");
    expect(caseKeyOf("liver_0012.mha")).toBe("liver");
    expect(caseKeyOf("case_0001_0000.png")).toBe("case_0001");
    expect(caseKeyOf("2DBox_US_x_0001.npz")).toBe("2DBox_US_x_0001");
    expect(caseKeyOf("ct.seg.nrrd")).toBe("ct"); // 3D Slicer's segmentation
    expect(caseKeyOf("image_0000.seg.nrrd")).toBe("image");
    expect(caseKeyOf("ct.seg.nii.gz")).toBe("ct.seg");
    expect(caseKeyOf("ct.seg.dcm")).toBe("ct"); // a DICOM-SEG, as daft segment --dicom-seg names it
    expect(caseKeyOf("ct_0000.SEG.DCM")).toBe("ct");
    expect(caseKeyOf("liver.dcm")).toBe("liver");
    expect(caseKeyOf("1.2.840.99")).toBe("1.2.840.99"); // a SEG found by its content, no suffix
  });
});

describe("readLabelMapFile", () => {
  it("reads NIfTI, NRRD and MetaImage label maps alike: (D, H, W), header spacing (z, y, x), one RAS affine", async () => {
    const read = await Promise.all(
      placedCopies().map(([name, bytes]) => readLabelMapFile(bytes, name, "ground truth")),
    );
    for (const map of read) {
      expect(map.shape).toEqual([2, 3, 4]);
      expect(Array.from(map.data)).toEqual(Array.from(LABELS));
      expect(map.spacing![0]).toBeCloseTo(3, 6);
      expect(map.spacing![1]).toBeCloseTo(0.8, 6);
      expect(map.spacing![2]).toBeCloseTo(0.7, 6);
      checkSameGrid(map, read[0]!, "pred", "gt");
    }
  });

  it("reads an .npz's 'segs' or 'gts' + 'spacing' and a PNG as 2D", async () => {
    const npz = writeNpz(
      {
        gts: { data: LABELS, shape: [2, 3, 4], dtype: "uint16" },
        spacing: { data: Float64Array.of(3, 1, 1), shape: [3], dtype: "float64" },
      },
      { compress: true },
    );
    expect(await readLabelMapFile(npz, "a.npz", "ground truth")).toMatchObject({
      shape: [2, 3, 4],
      spacing: [3, 1, 1],
    });
    await expect(readLabelMapFile(npz, "a.npz", "prediction")).rejects.toThrow(
      /no 'segs' array \(found: gts, spacing\)/,
    );
    const png = await readLabelMapFile(
      encodePng(Uint8Array.of(0, 1, 2, 0, 0, 1), 3, 2),
      "p.png",
      "prediction",
    );
    expect(png).toMatchObject({ shape: [2, 3], format: "picture" });
    expect(png.rasAffine).toBeUndefined();
  });

  it("refuses fractional, negative and NaN labels, naming the file", async () => {
    for (const [value, shown] of [
      [0.5, "0.5"],
      [-1, "-1"],
      [NaN, "NaN"],
    ] as const) {
      const data = new Float32Array(8);
      data[5] = value;
      const attempt = () => readLabelMapFile(writeNifti(data, [2, 2, 2]), "seg.nii", "prediction");
      await expect(attempt()).rejects.toThrow(DaftInputError);
      await expect(attempt()).rejects.toThrow(
        `a prediction label map holds ${shown} at voxel 5; labels are integers ≥ 0`,
      );
    }
  });
});

describe("checkSameGrid", () => {
  it("refuses another shape or another placement of the same shape, naming the prediction", async () => {
    const gt = await readLabelMapFile(placedCopies()[0]![1], "gt/ct.nii.gz", "ground truth");
    const shifted = RAS.map((row, r) => (r === 2 ? [row[0]!, row[1]!, row[2]!, row[3]! + 1.5] : row));
    const moved = await readLabelMapFile(placedCopies(shifted)[1]![1], "pred/ct.nrrd", "prediction");
    expect(() => checkSameGrid(moved, gt, "pred/ct.nrrd", "gt/ct.nii.gz")).toThrow(
      /placed 1\.5 mm away from the ground truth gt\/ct\.nii\.gz .*resample it onto the ground truth's grid first/,
    );
    const small = await readLabelMapFile(
      writeNifti(new Uint8Array(8), [2, 2, 2], { affine: RAS }),
      "s.nii",
      "prediction",
    );
    expect(() => checkSameGrid(small, gt, "s.nii", "gt")).toThrow(
      "shape (2, 2, 2) does not match the ground truth's (2, 3, 4)",
    );
  });
});
