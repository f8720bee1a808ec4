import {
  decodeNiftiStudy,
  decodePictureStudy,
  decodeRaster,
  decodeStudyFile,
  encodePng,
  encodeSegmentationNpz,
  encodeStudyLabels,
  openNpz,
  readDicom,
  readNrrd,
  SEGMENTATION_STORAGE,
  writeMetaImage,
  writeNifti,
  writeNpz,
  writeNrrd,
} from "@daft/core";
import { describe, expect, it } from "vitest";
import { syntheticCtSeries } from "../../../core/src/testing/dicomSeries.js";
import { decodeInput } from "../input/decodeInput.js";
import {
  exportDicomSeg,
  exportLabelMap,
  exportSlicerSegmentation,
  exportViewerFriendly,
  labelMapFileName,
  mediaTypeOf,
  stemOf,
} from "./exportLabels.js";

describe("export naming (as daft segment names its outputs)", () => {
  it("keeps an .npz case's name and gives other inputs their stem plus the output's extension", () => {
    expect(labelMapFileName("case_US_01.npz", "file", { format: "npz", extension: "" })).toBe(
      "case_US_01.npz",
    );
    expect(labelMapFileName("ct.nii.gz", "file", { format: "study", extension: ".nii.gz" })).toBe(
      "ct.nii.gz",
    );
    expect(labelMapFileName("photo.JPG", "file", { format: "study", extension: ".png" })).toBe("photo.png");
    expect(labelMapFileName("IM0001.dcm", "file", { format: "study", extension: ".nii.gz" })).toBe(
      "IM0001.nii.gz",
    );
    expect(labelMapFileName("series.v2", "dicom-series", { format: "study", extension: ".nii.gz" })).toBe(
      "series.v2.nii.gz",
    );
    expect(stemOf("scan.tiff", "file")).toBe("scan");
    expect(labelMapFileName("scan.nrrd", "file", { format: "study", extension: ".nrrd" })).toBe("scan.nrrd");
    expect(labelMapFileName("ct.mha", "file", { format: "study", extension: ".mha" })).toBe("ct.mha");
    expect(mediaTypeOf("a.png")).toBe("image/png");
    expect(mediaTypeOf("a.nii.gz")).toBe("application/gzip");
    expect(mediaTypeOf("a.npz")).toBe("application/zip");
  });
});

describe("exported label maps", () => {
  it("writes a picture's labels with the core's encoder: the bytes daft segment writes", async () => {
    const png = encodePng(
      Uint8Array.from({ length: 12 }, (_, i) => i * 20),
      4,
      3,
    );
    const decoded = await decodeInput({ kind: "file", name: "photo.png", bytes: png });
    const labels = Uint16Array.of(0, 1, 1, 0, 0, 2, 2, 0, 0, 0, 0, 0);
    const file = await exportLabelMap(decoded, "photo.png", "file", labels);
    expect(file.fileName).toBe("photo.png");
    expect(file.bytes).toEqual(
      (await encodeStudyLabels(await decodePictureStudy(png, "photo.png"), labels)).bytes,
    );
    expect([...decodeRaster(file.bytes, "out").data]).toEqual([...labels]);
  });

  it("writes a NIfTI input's labels with its header, gzipped like the input", async () => {
    const nii = writeNifti(new Int16Array(2 * 3 * 4), [2, 3, 4], { pixdim: [0.5, 0.7, 2], gzip: true });
    const decoded = await decodeInput({ kind: "file", name: "ct.nii.gz", bytes: nii });
    const labels = new Uint16Array(24).fill(1, 5, 9);
    const file = await exportLabelMap(decoded, "ct.nii.gz", "file", labels);
    expect(file.fileName).toBe("ct.nii.gz");
    const back = decodeNiftiStudy(file.bytes, "out");
    expect([...back.values]).toEqual([...labels]);
    expect(back.spacing).toEqual([2, 0.7, 0.5]);
  });

  it("writes NRRD and MetaImage inputs' labels in their own format and placement, as daft segment does", async () => {
    const values = new Int16Array(2 * 3 * 4);
    const labels = new Uint16Array(24).fill(2, 3, 11);
    const inputs: [string, Uint8Array][] = [
      [
        "scan.nrrd",
        writeNrrd({
          type: "int16",
          sizes: [2, 3, 4],
          data: values,
          space: "left-posterior-superior",
          spaceDirections: [
            [0.5, 0, 0],
            [0, 0.7, 0],
            [0, 0, 2],
          ],
          spaceOrigin: [1, 2, 3],
        }),
      ],
      [
        "scan.mha",
        writeMetaImage({ sizes: [2, 3, 4], data: values, spacing: [0.5, 0.7, 2], offset: [1, 2, 3] }),
      ],
    ];
    for (const [name, bytes] of inputs) {
      const decoded = await decodeInput({ kind: "file", name, bytes });
      const file = await exportLabelMap(decoded, name, "file", labels);
      expect(file.fileName).toBe(name);
      const study = await decodeStudyFile(bytes, name);
      expect(file.bytes).toEqual((await encodeStudyLabels(study, labels)).bytes);
      const back = await decodeStudyFile(file.bytes, `out-${name}`);
      expect([...back.values]).toEqual([...labels]);
      expect(back.geometry).toEqual(study.geometry);
    }
  });

  it("writes a challenge case's labels as 'segs', and as PNG or NIfTI for other viewers", async () => {
    const imgs = { data: new Uint8Array(2 * 3 * 4), shape: [2, 3, 4], dtype: "uint8" };
    const npz = writeNpz(
      {
        imgs,
        boxes: { data: Float64Array.of(0, 0, 0, 3, 2, 1), shape: [1, 6], dtype: "float64" },
        spacing: { data: Float64Array.of(2, 1, 1), shape: [3], dtype: "float64" },
      },
      { compress: false },
    );
    const decoded = await decodeInput({ kind: "file", name: "3DBox_MR_x.npz", bytes: npz });
    expect(decoded).toMatchObject({
      kind: "npz",
      dimension: 3,
      shape: [2, 3, 4],
      fileBoxes: [[0, 0, 0, 3, 2, 1]],
    });
    const labels = new Uint16Array(24).fill(1, 0, 6);
    const file = await exportLabelMap(decoded, "3DBox_MR_x.npz", "file", labels);
    expect(file).toMatchObject({ fileName: "3DBox_MR_x.npz", mediaType: "application/zip" });
    expect(file.bytes).toEqual(encodeSegmentationNpz(labels, [2, 3, 4]));
    expect([...(openNpz(file.bytes).read("segs").data as Uint16Array)]).toEqual([...labels]);
    const nifti = (await exportViewerFriendly(decoded, "3DBox_MR_x.npz", labels))!;
    expect(nifti.fileName).toBe("3DBox_MR_x.nii.gz");
    const back = decodeNiftiStudy(nifti.bytes, "out");
    expect(back.spacing).toEqual([2, 1, 1]);
    expect([...back.values]).toEqual([...labels]);
  });
});

describe("viewer-friendly export of a challenge case", () => {
  it("gives a 2D case's labels as a PNG (8-bit up to 255 labels, 16-bit beyond) and nothing for other inputs", async () => {
    const npz = writeNpz(
      {
        imgs: { data: new Uint8Array(3 * 4), shape: [3, 4], dtype: "uint8" },
        boxes: { data: Float64Array.of(0, 0, 3, 2), shape: [1, 4], dtype: "float64" },
      },
      { compress: false },
    );
    const decoded = await decodeInput({ kind: "file", name: "2DBox_US_x.npz", bytes: npz });
    const labels = Uint16Array.of(0, 1, 1, 0, 0, 2, 2, 0, 0, 0, 0, 0);
    const png = (await exportViewerFriendly(decoded, "2DBox_US_x.npz", labels))!;
    expect([png.fileName, png.mediaType]).toEqual(["2DBox_US_x.png", "image/png"]);
    const back = decodeRaster(png.bytes, "out");
    expect([back.width, back.height, back.bitDepth]).toEqual([4, 3, 8]);
    expect([...back.data]).toEqual([...labels]);
    const many = Uint16Array.from({ length: 12 }, (_, i) => i * 30);
    const wide = decodeRaster((await exportViewerFriendly(decoded, "2DBox_US_x.npz", many))!.bytes, "out");
    expect([wide.bitDepth, ...wide.data]).toEqual([16, ...many]);

    const picture = await decodeInput({
      kind: "file",
      name: "p.png",
      bytes: encodePng(new Uint8Array(4), 2, 2),
    });
    expect(await exportViewerFriendly(picture, "p.png", new Uint16Array(4))).toBeUndefined();
  });
});

describe("3D Slicer segmentation export", () => {
  it("writes <stem>.seg.nrrd in the input's LPS placement with one segment per box, painted labels included", async () => {
    // A RAS NIfTI: the segmentation's LPS directions and origin are its affine with x and y negated.
    const nii = writeNifti(new Int16Array(2 * 3 * 4), [2, 3, 4], { pixdim: [0.5, 0.7, 2], gzip: true });
    const decoded = await decodeInput({ kind: "file", name: "ct.nii.gz", bytes: nii });
    const labels = new Uint16Array(24).fill(1, 5, 9).fill(3, 20, 21);
    const file = exportSlicerSegmentation(decoded, "ct.nii.gz", "file", labels, 2);
    expect(file).toMatchObject({ fileName: "ct.seg.nrrd", mediaType: "application/octet-stream" });
    const nrrd = readNrrd(file.bytes, file.fileName);
    expect(nrrd.sizes).toEqual([2, 3, 4]);
    expect([...nrrd.data]).toEqual([...labels]);
    expect(nrrd.space).toBe("left-posterior-superior");
    // (to 1e-6 mm: NIfTI holds its voxel sizes in float32)
    expect(nrrd.spaceDirections!.map((d) => d!.map((v) => Number(v.toFixed(6))))).toEqual([
      [-0.5, 0, 0],
      [0, -0.7, 0],
      [0, 0, 2],
    ]);
    const fields = new Map(nrrd.keyValues);
    expect(fields.get("Segment0_Extent")).toBe("0 1 0 2 0 1"); // voxels 5..8: (1,2,0) (0,0,1) (1,0,1) (0,1,1)
    expect(fields.get("Segment1_Extent")).toBe("0 -1 0 -1 0 -1"); // box 2 has no voxel
    expect(fields.get("Segment2_Name")).toBe("box 3"); // painted with a label past the boxes
    expect(fields.get("Segment2_Extent")).toBe("0 0 1 1 3 3");
    // Named boxes name their segments; the painted label past them stays "box 3".
    const named = exportSlicerSegmentation(decoded, "ct.nii.gz", "file", labels, 2, ["liver", "box 2"]);
    const namedFields = new Map(readNrrd(named.bytes, named.fileName).keyValues);
    expect([0, 1, 2].map((n) => namedFields.get(`Segment${n}_Name`))).toEqual(["liver", "box 2", "box 3"]);
  });

  it("places a challenge case by its spacing, a 2D one as one slice", async () => {
    const npz = writeNpz(
      {
        imgs: { data: new Uint8Array(3 * 4), shape: [3, 4], dtype: "uint8" },
        boxes: { data: Float64Array.of(0, 0, 3, 2), shape: [1, 4], dtype: "float64" },
      },
      { compress: false },
    );
    const decoded = await decodeInput({ kind: "file", name: "2DBox_US_x.npz", bytes: npz });
    const file = exportSlicerSegmentation(decoded, "2DBox_US_x.npz", "file", new Uint16Array(12).fill(1), 1);
    expect(file.fileName).toBe("2DBox_US_x.seg.nrrd");
    const nrrd = readNrrd(file.bytes, file.fileName);
    expect(nrrd.sizes).toEqual([4, 3, 1]);
    expect(nrrd.spaceDirections).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(new Map(nrrd.keyValues).get("Segment0_Extent")).toBe("0 3 0 2 0 0");
  });
});

describe("DICOM-SEG export", () => {
  const labels = Uint16Array.of(1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0);
  const seg = async (
    files = syntheticCtSeries(),
    map = labels,
    who: { expert?: string; edited?: boolean } = { expert: "CT" },
  ) =>
    exportDicomSeg(
      await decodeInput({ kind: "dicom-series", name: "ct", files }),
      "ct",
      "dicom-series",
      map,
      {
        expert: who.expert,
        edited: who.edited ?? false,
        softwareVersion: "0.1.0",
      },
    );
  const text = (bytes: Uint8Array) => new TextDecoder("latin1").decode(bytes);

  it("writes <series>.seg.dcm, a Segmentation Storage file in the source's study", async () => {
    const file = await seg();
    if (!file || "skipped" in file) throw new Error("no SEG");
    expect(file.fileName).toBe("ct.seg.dcm");
    expect(file.mediaType).toBe("application/dicom");
    const read = readDicom(file.bytes, "seg");
    expect(read.mediaStorageSOPClassUID).toBe(SEGMENTATION_STORAGE);
    expect(read.tags.studyInstanceUID).toBe("1.2.826.0.1.3680043.8.498.77");
    expect(text(file.bytes)).toContain("AUTOMATIC");
    expect(text(file.bytes)).toContain("DAFT CT");
    expect(text(file.bytes)).toContain("daft web app");
    const named = exportDicomSeg(
      await decodeInput({ kind: "dicom-series", name: "ct", files: syntheticCtSeries() }),
      "ct",
      "dicom-series",
      labels,
      { expert: "CT", edited: false, softwareVersion: "0.1.0" },
      ["liver"],
    );
    if (!named || "skipped" in named) throw new Error("no SEG");
    expect(text(named.bytes)).toContain("liver");
  });

  it("says SEMIAUTOMATIC after hand corrections and MANUAL when nothing was segmented", async () => {
    const edited = await seg(syntheticCtSeries(), labels, { expert: "CT", edited: true });
    const manual = await seg(syntheticCtSeries(), labels, { edited: true });
    if (!edited || "skipped" in edited || !manual || "skipped" in manual) throw new Error("no SEG");
    expect(text(edited.bytes)).toContain("SEMIAUTOMATIC");
    expect(text(manual.bytes)).toContain("MANUAL");
    expect(text(manual.bytes)).not.toContain("DAFT manual");
  });

  it("skips an empty label map, refuses a series without a frame of reference, ignores other inputs", async () => {
    expect(await seg(syntheticCtSeries(), new Uint16Array(12))).toEqual({
      skipped: expect.stringMatching(/no voxel|empty/),
    });
    await expect(seg(syntheticCtSeries(false))).rejects.toThrow(/FrameOfReferenceUID/);
    const png = encodePng(new Uint8Array(4), 2, 2);
    const decoded = await decodeInput({ kind: "file", name: "p.png", bytes: png });
    expect(
      exportDicomSeg(decoded, "p.png", "file", new Uint16Array(4), {
        expert: "US",
        edited: false,
        softwareVersion: "x",
      }),
    ).toBeUndefined();
  });
});
