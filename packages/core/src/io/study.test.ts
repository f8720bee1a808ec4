import { readFileSync } from "node:fs";
import { gunzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { DaftInputError } from "../errors.js";
import { applyAffine, flipXY, type Affine } from "../image/geometry.js";
import { decodeStudyFile, inputFormatOf } from "./decodeStudy.js";
import { decodeDicomStudy } from "./dicomSeries.js";
import { readNifti, writeNifti } from "./nifti.js";
import { decodeRaster } from "./raster.js";
import { decodeNiftiStudy, decodePictureStudy, sniffInputFormat, studyToChallengeCase } from "./study.js";
import { encodeStudyLabels } from "./studyLabels.js";

const FIXTURES = new URL("../../../../fixtures/formats/", import.meta.url);
const RASTERS = new URL("../../../../fixtures/dataset-mini/formats/", import.meta.url);
const expected = JSON.parse(readFileSync(new URL("expected.json", FIXTURES), "utf8"));
const fixture = (name: string, base = FIXTURES) => new Uint8Array(readFileSync(new URL(name, base)));

function expectAffine(actual: Affine, wanted: number[][], digits = 5): void {
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++) expect(actual[r]![c]).toBeCloseTo(wanted[r]![c]!, digits);
}

function labelsFor(voxels: number): Uint16Array {
  return Uint16Array.from({ length: voxels }, (_, i) => (i * 7) % 5);
}

describe("NIfTI studies (files written by nibabel)", () => {
  it("NIfTI-1 .nii.gz, oblique and flipped, scaled int16: values in (z,y,x) order, RAS affine, spacing", () => {
    const want = expected["nifti1_oblique_int16.nii.gz"];
    const study = decodeNiftiStudy(fixture("nifti1_oblique_int16.nii.gz"), "ct.nii.gz");
    expect([study.width, study.height, study.depth]).toEqual(want.dims);
    expect(study.dimension).toBe(3);
    expect(study.geometry?.space).toBe("RAS");
    expectAffine(study.geometry!.affine, want.affine);
    study.spacing!.forEach((v, i) => expect(v).toBeCloseTo(want.spacing_zyx[i], 5));
    expect(study.values.length).toBe(want.values.length);
    want.values.forEach((v: number, i: number) => expect(study.values[i]).toBeCloseTo(v, 2));
    expect(study.eightBit).toBe(false);
  });

  it("NIfTI-2 big-endian float32 with one slice is a 2D study with its qform affine", () => {
    const want = expected["nifti2_be_float32_2d.nii"];
    const study = decodeNiftiStudy(fixture("nifti2_be_float32_2d.nii"), "mr.nii");
    expect(study.dimension).toBe(2);
    expect([study.width, study.height, study.depth]).toEqual(want.dims);
    expect(want.sform_code).toBe(0);
    expectAffine(study.geometry!.affine, want.affine);
    expect(Array.from(study.values)).toEqual(want.values);
    expect(study.nifti).toMatchObject({ version: 2, littleEndian: false, gzip: false });
  });

  it("a truncated .nii.gz is one line naming the file", () => {
    const bytes = fixture("nifti1_oblique_int16.nii.gz");
    expect(() => decodeNiftiStudy(bytes.subarray(0, 300), "cut.nii.gz")).toThrowError(
      /corrupt or truncated gzip stream/,
    );
    try {
      decodeNiftiStudy(bytes.subarray(0, 300), "cut.nii.gz");
    } catch (e) {
      expect((e as DaftInputError).oneLine()).toMatch(/^cut\.nii\.gz: corrupt or truncated gzip stream/);
    }
  });
});

describe("label maps written back in the input's geometry", () => {
  it("NIfTI-1 gz input: the header is copied (affine, qform and sform with codes), uint16 labels, gzip kept", async () => {
    const input = fixture("nifti1_oblique_int16.nii.gz");
    const study = decodeNiftiStudy(input, "ct.nii.gz");
    const labels = labelsFor(study.values.length);
    const out = await encodeStudyLabels(study, labels);
    expect(out.extension).toBe(".nii.gz");
    const back = readNifti(out.bytes, "out.nii.gz");
    const original = readNifti(input, "ct.nii.gz");
    expect(back.datatype).toBe("uint16");
    expect(back.scaled).toBe(false);
    expect(back.dims).toEqual(original.dims);
    expect(back.pixdim).toEqual(original.pixdim);
    expect([back.qformCode, back.sformCode]).toEqual([original.qformCode, original.sformCode]);
    expect(back.affine).toEqual(original.affine);
    expect(Array.from(back.data)).toEqual(Array.from(labels));
    const header = gunzipSync(out.bytes);
    const view = new DataView(header.buffer);
    expect(view.getInt16(68, true)).toBe(1002); // NIFTI_INTENT_LABEL
    expect(view.getFloat32(124, true)).toBe(4); // cal_max = largest label
    // The qform is kept as stored: the bytes of quatern_b .. qoffset_z and pixdim[0] are the input's.
    const inputHeader = gunzipSync(input);
    expect(header.subarray(252, 280)).toEqual(inputHeader.subarray(252, 280));
    expect(header.subarray(76, 80)).toEqual(inputHeader.subarray(76, 80));
  });

  it("NIfTI-2 big-endian input gives a NIfTI-2 big-endian label map with the same qform", async () => {
    const input = fixture("nifti2_be_float32_2d.nii");
    const study = decodeNiftiStudy(input, "mr.nii");
    const labels = labelsFor(study.values.length);
    const out = await encodeStudyLabels(study, labels);
    expect(out.extension).toBe(".nii");
    const back = readNifti(out.bytes, "out.nii");
    expect([back.version, back.littleEndian, back.datatype]).toEqual([2, false, "uint16"]);
    expect(back.affine).toEqual(readNifti(input, "mr.nii").affine);
    expect(back.voxOffset).toBe(544);
    expect(Array.from(back.data)).toEqual(Array.from(labels));
  });

  it("extensions in the input are dropped and vox_offset follows the header", async () => {
    const plain = writeNifti(new Int16Array(24).fill(3), [4, 3, 2]);
    const withExtension = new Uint8Array(plain.length + 32);
    withExtension.set(plain.subarray(0, 348));
    withExtension[348] = 1; // extender: extensions follow
    new DataView(withExtension.buffer).setInt32(352, 32, true);
    new DataView(withExtension.buffer).setFloat32(108, 384, true);
    withExtension.set(plain.subarray(352), 384);
    const study = decodeNiftiStudy(withExtension, "ext.nii");
    const back = readNifti((await encodeStudyLabels(study, new Uint16Array(24).fill(1))).bytes, "out.nii");
    expect(back.voxOffset).toBe(352);
    expect(Array.from(back.data)).toEqual(new Array(24).fill(1));
  });

  it("DICOM series: NIfTI-1 .nii.gz whose sform and qform are the LPS affine with x and y negated", async () => {
    const folder = new URL("ct_series/", FIXTURES);
    const files = ["IM0", "IM1", "IM2", "IM3"].map((n) => ({ name: n, bytes: fixture(n, folder) }));
    const study = decodeDicomStudy(files, "ct_series");
    const labels = labelsFor(study.values.length);
    const out = await encodeStudyLabels(study, labels);
    expect(out.extension).toBe(".nii.gz");
    const back = readNifti(out.bytes, "out.nii.gz");
    expect(back.dims).toEqual([5, 4, 4]);
    expect([back.qformCode, back.sformCode]).toEqual([1, 1]);
    const ras = flipXY(expected.ct_series.affine_lps);
    expectAffine(back.affine, ras, 4);
    // The qform alone (sform code cleared) gives the same affine: the quaternion was written right.
    const raw = gunzipSync(out.bytes);
    new DataView(raw.buffer).setInt16(254, 0, true);
    expectAffine(readNifti(raw, "qform-only.nii").affine, ras, 4);
    expect(Array.from(back.data)).toEqual(Array.from(labels));
  });

  it("pictures: an 8-bit PNG label map when labels fit, 16-bit beyond 255", async () => {
    const study = await decodePictureStudy(fixture("grey16.png"), "grey16.png");
    const small = await encodeStudyLabels(study, labelsFor(20));
    expect(small.extension).toBe(".png");
    const png = decodeRaster(small.bytes, "out.png");
    expect([png.width, png.height, png.bitDepth, png.channels]).toEqual([5, 4, 8, 1]);
    expect(Array.from(png.data)).toEqual(Array.from(labelsFor(20)));
    const many = Uint16Array.from({ length: 20 }, (_, i) => i * 20);
    const wide = decodeRaster((await encodeStudyLabels(study, many)).bytes, "out.png");
    expect(wide.bitDepth).toBe(16);
    expect(Array.from(wide.data)).toEqual(Array.from(many));
  });
});

describe("pictures and format sniffing", () => {
  it("a 16-bit PNG written by PIL keeps its values; RGBA drops alpha", async () => {
    const grey = await decodePictureStudy(fixture("grey16.png"), "grey16.png");
    expect([grey.width, grey.height, grey.channels, grey.eightBit]).toEqual([5, 4, 1, false]);
    expect(Array.from(grey.values)).toEqual(expected["grey16.png"].values);
    expect(grey.geometry).toBeUndefined();
    expect(grey.spacing).toBeUndefined();
    const rgba = await decodePictureStudy(fixture("rgba.png", RASTERS), "rgba.png");
    expect([rgba.channels, rgba.eightBit]).toEqual([3, true]);
  });

  it("sniffs by content and falls back to the extension for unrecognised bytes", async () => {
    expect(sniffInputFormat(fixture("nifti1_oblique_int16.nii.gz"))).toBe("nifti");
    expect(sniffInputFormat(fixture("nifti2_be_float32_2d.nii"))).toBe("nifti");
    expect(sniffInputFormat(fixture("us_rgb.dcm"))).toBe("dicom");
    expect(sniffInputFormat(fixture("grey16.png"))).toBe("picture");
    expect(inputFormatOf(fixture("grey16.png"), "renamed.nii")).toBe("picture");
    expect(inputFormatOf(new Uint8Array(10), "scan.nii")).toBe("nifti");
    expect(inputFormatOf(new Uint8Array(10), "case.npz")).toBe("npz");
    expect(() => inputFormatOf(new Uint8Array(10), "notes.txt")).toThrowError(/not a recognised input/);
    await expect(decodeStudyFile(new Uint8Array(10), "scan.nii")).rejects.toThrowError(/not a NIfTI file/);
    await expect(decodeStudyFile(new Uint8Array(10), "photo.jpg")).rejects.toThrowError(/not a PNG, JPEG/);
    await expect(decodeStudyFile(new Uint8Array(10), "image.dcm")).rejects.toThrowError(
      /not a DICOM Part 10 file/,
    );
  });
});

describe("studyToChallengeCase", () => {
  it("3D: (D,H,W) uint8 volume with spacing and inclusive voxel boxes, validated like a challenge case", () => {
    const study = decodeNiftiStudy(fixture("nifti1_oblique_int16.nii.gz"), "ct.nii.gz");
    const mapped = new Uint8Array(study.values.length).fill(9);
    const kase = studyToChallengeCase(study, mapped, [[1, 2, 0, 6, 5, 4]]);
    expect(kase.kind).toBe("3d");
    if (kase.kind !== "3d") return;
    expect([kase.volume.depth, kase.volume.height, kase.volume.width]).toEqual([5, 6, 7]);
    expect(kase.volume.spacing[0]).toBeCloseTo(2.5, 5);
    expect(kase.boxes).toEqual([[1, 2, 0, 6, 5, 4]]);
    expect(() => studyToChallengeCase(study, mapped, [[1, 2, 0, 9, 5, 4]])).toThrowError(/box 0 .* outside/);
  });

  it("2D pictures carry no spacing; 2D NIfTI carries (y, x) spacing", async () => {
    const picture = await decodePictureStudy(fixture("grey16.png"), "p.png");
    const kase = studyToChallengeCase(picture, new Uint8Array(20), [[0, 0, 4, 3]]);
    expect(kase.kind === "2d" && kase.spacing).toBe(undefined);
    const nifti = decodeNiftiStudy(fixture("nifti2_be_float32_2d.nii"), "mr.nii");
    const slice = studyToChallengeCase(nifti, new Uint8Array(24), [[0, 0, 5, 3]]);
    expect(slice.kind === "2d" && slice.spacing).toEqual([0.75, 0.5]);
  });

  it("the geometry maps voxel centres the way nibabel does (corner voxel of the oblique NIfTI)", () => {
    const want = expected["nifti1_oblique_int16.nii.gz"];
    const study = decodeNiftiStudy(fixture("nifti1_oblique_int16.nii.gz"), "ct.nii.gz");
    const corner = applyAffine(study.geometry!.affine, [6, 5, 4]);
    const a = want.affine as number[][];
    const manual = [0, 1, 2].map((r) => a[r]![0]! * 6 + a[r]![1]! * 5 + a[r]![2]! * 4 + a[r]![3]!);
    corner.forEach((v, i) => expect(v).toBeCloseTo(manual[i]!, 4));
  });
});
