import {
  boxSegments,
  encodeDicomSeg,
  encodePng,
  encodeSlicerSegmentation,
  writeNifti,
  writeNpz,
  type Affine,
} from "@daft/core";
import { describe, expect, it } from "vitest";
import { syntheticCtSeries } from "../../../core/src/testing/dicomSeries.js";
import { decodeInput } from "../input/decodeInput.js";
import { openLabelMap } from "./openLabelMap.js";

const affine: Affine = [
  [-0.5, 0, 0, 10],
  [0, 0.5, 0, -20],
  [0, 0, 2, 5],
  [0, 0, 0, 1],
];
// A 4 × 3 × 2 NIfTI image (x, y, z) placed by `affine`.
const niftiImage = writeNifti(new Int16Array(24), [4, 3, 2], { affine, gzip: true });
const target = async () => ({
  decoded: await decodeInput({ kind: "file", name: "ct.nii.gz", bytes: niftiImage }),
  name: "ct.nii.gz",
  dimension: 3 as const,
});

describe("openLabelMap", () => {
  it("takes a label map on the image's grid as it is, one box per label around its voxels", async () => {
    const labels = new Uint16Array(24);
    labels[1] = labels[6] = 1; // (1,0,0) and (2,1,0)
    labels[12 + 11] = 2; // (3,2,1)
    const opened = await openLabelMap(
      writeNifti(labels, [4, 3, 2], { affine }),
      "ct_labels.nii",
      await target(),
    );
    expect([...opened.labels]).toEqual([...labels]);
    expect(opened.boxes).toEqual([
      { x0: 1, y0: 0, z0: 0, x1: 2, y1: 1, z1: 0 },
      { x0: 3, y0: 2, z0: 1, x1: 3, y1: 2, z1: 1 },
    ]);
    expect(opened.note).toBe("ct_labels.nii: 2 label(s), one box each");
  });

  it("numbers label values as boxes in value order (BraTS-style 1, 2, 4)", async () => {
    const values = new Uint16Array(24);
    values[0] = 4;
    values[5] = 1;
    values[10] = 2;
    const opened = await openLabelMap(writeNifti(values, [4, 3, 2], { affine }), "brats.nii", await target());
    expect([opened.labels[0], opened.labels[5], opened.labels[10]]).toEqual([3, 1, 2]);
    expect(opened.boxes.map((b) => [b.x0, b.y0, b.z0])).toEqual([
      [1, 1, 0],
      [2, 2, 0],
      [0, 0, 0],
    ]);
    expect(opened.note).toBe(
      "brats.nii: 3 label(s), numbered as boxes 1–3 in value order (1 → 1, 2 → 2, 4 → 3)",
    );
  });

  it("reads a 3D Slicer segmentation of the image (LPS) and a challenge case's 'segs' or 'gts'", async () => {
    const labels = Uint16Array.from({ length: 24 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    const seg = encodeSlicerSegmentation(labels, { sizes: [4, 3, 2], affine, space: "RAS" }, boxSegments(1));
    expect([...(await openLabelMap(seg, "ct.seg.nrrd", await target())).labels]).toEqual([...labels]);
    // Its segments' names name the boxes; a box's own default name ("box 1" as box 1) leaves it unnamed.
    expect((await openLabelMap(seg, "ct.seg.nrrd", await target())).boxes.map((b) => b.name)).toEqual([
      undefined,
    ]);
    const named = encodeSlicerSegmentation(
      labels,
      { sizes: [4, 3, 2], affine, space: "RAS" },
      boxSegments(1, ["lesion"]),
    );
    expect((await openLabelMap(named, "ct.seg.nrrd", await target())).boxes.map((b) => b.name)).toEqual([
      "lesion",
    ]);

    const npzTarget = async (bytes: Uint8Array) => ({
      decoded: await decodeInput({ kind: "file", name: "2DBox_US_a.npz", bytes }),
      name: "2DBox_US_a.npz",
      dimension: 2 as const,
    });
    const image = writeNpz(
      {
        imgs: { data: new Uint8Array(6), shape: [2, 3], dtype: "uint8" },
        boxes: { data: Float64Array.of(0, 0, 1, 1), shape: [1, 4], dtype: "float64" },
      },
      { compress: false },
    );
    const gts = writeNpz(
      { gts: { data: Uint8Array.of(0, 1, 1, 0, 0, 0), shape: [2, 3], dtype: "uint8" } },
      { compress: false },
    );
    const fromGts = await openLabelMap(gts, "2DBox_US_a_gt.npz", await npzTarget(image));
    expect([...fromGts.labels]).toEqual([0, 1, 1, 0, 0, 0]);
    expect(fromGts.boxes).toEqual([{ x0: 1, y0: 0, z0: 0, x1: 2, y1: 0, z1: 0 }]);
    const segs = writeNpz(
      {
        segs: { data: Float32Array.of(0, 0, 0, 1.5, 0, 0), shape: [2, 3], dtype: "float32" },
      },
      { compress: false },
    );
    await expect(openLabelMap(segs, "bad.npz", await npzTarget(image))).rejects.toThrow(
      "holds 1.5 at voxel 3; labels are integers ≥ 0",
    );
  });

  it("takes a 2D picture's label map saved as one slice (Slicer) as that slice", async () => {
    const picture = encodePng(new Uint8Array(6), 3, 2);
    const labels = Uint16Array.of(0, 0, 1, 1, 0, 0);
    const seg = encodeSlicerSegmentation(
      labels,
      {
        sizes: [3, 2, 1],
        affine: [
          [1, 0, 0, 0],
          [0, 1, 0, 0],
          [0, 0, 1, 0],
          [0, 0, 0, 1],
        ],
        space: "LPS",
      },
      boxSegments(1),
    );
    const opened = await openLabelMap(seg, "photo.seg.nrrd", {
      decoded: await decodeInput({ kind: "file", name: "photo.png", bytes: picture }),
      name: "photo.png",
      dimension: 2,
    });
    expect([...opened.labels]).toEqual([...labels]);
    expect(opened.boxes).toEqual([{ x0: 0, y0: 0, z0: 0, x1: 2, y1: 1, z1: 0 }]);
  });

  it("refuses a label map on another grid: a different shape, or the same shape placed elsewhere", async () => {
    await expect(
      openLabelMap(writeNifti(new Uint16Array(12), [4, 3, 1], { affine }), "small.nii", await target()),
    ).rejects.toThrow("shape (3, 4) does not match the image's (2, 3, 4)");
    const moved = affine.map((row) => [...row]);
    moved[2]![3] = 8;
    await expect(
      openLabelMap(
        writeNifti(new Uint16Array(24), [4, 3, 2], { affine: moved }),
        "moved.nii",
        await target(),
      ),
    ).rejects.toThrow(
      /placed 3 mm away from the image ct\.nii\.gz on the same voxel grid .* onto the image's grid first/,
    );
  });

  it("reads a DICOM-SEG onto the DICOM series it was made from, and refuses it for any other image", async () => {
    const decoded = await decodeInput({ kind: "dicom-series", name: "ct", files: syntheticCtSeries() });
    if (decoded.kind !== "study") throw new Error("not a study");
    const { width, height, depth } = decoded.display;
    const labels = new Uint16Array(width * height * depth);
    labels[0] = 2;
    labels[labels.length - 1] = 1;
    const seg = encodeDicomSeg(
      decoded.study.dicom!,
      labels,
      { expert: "CT", softwareVersion: "0.1.0", names: ["liver", "spleen"] },
      "ct",
    );
    if (!seg.written) throw new Error(seg.reason);
    const opened = await openLabelMap(seg.bytes, "ct.seg.dcm", { decoded, name: "ct", dimension: 3 });
    expect([...opened.labels]).toEqual([...labels]);
    expect(opened.boxes.map((b) => b.name)).toEqual(["liver", "spleen"]);
    await expect(openLabelMap(seg.bytes, "ct.seg.dcm", await target())).rejects.toThrow(
      "is a DICOM-SEG; it is read onto the DICOM series it refers to, and ct.nii.gz is not DICOM",
    );
  });
});
