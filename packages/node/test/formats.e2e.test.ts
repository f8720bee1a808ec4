/**
 * End to end: the real `daft segment` process on clinical formats written by independent tools (nibabel, pydicom,
 * PIL), with oracle ONNX experts whose right answer is known; the label maps are read back by nibabel.
 * In-plane sizes are 256×256 so the oracle's 256-frame masks map to pixels exactly.
 * Needs /usr/bin/python3 with nibabel, pydicom, numpy and PIL (Debian packages); skipped otherwise.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decode as decodePng } from "fast-png";
import { labelColour, readNpz, writeNpz } from "@daft/core";
import { daft, runPython, tempDir, withoutRunTables, writeBoxAndBrightModels } from "./helpers.js";

const PYTHON = "/usr/bin/python3";
const hasTools =
  spawnSync(PYTHON, ["-c", "import nibabel, pydicom, numpy, PIL"], { stdio: "ignore" }).status === 0;
/** dcmtk's encoders (Debian package dcmtk, installed by scripts/setup.sh): an independent JPEG-lossless and RLE writer. */
const hasDcmtk = spawnSync("dcmcjpeg", ["--version"], { stdio: "ignore" }).status === 0;

/** Writes every input into argv[1] and prints the geometry the tests expect, computed with numpy. */
const MAKE_INPUTS = String.raw`
import json, sys
from pathlib import Path
import numpy as np, nibabel as nib
from PIL import Image
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.encaps import encapsulate

out = Path(sys.argv[1])
from synthetic_inputs import N, ct_volume
EXPLICIT, IMPLICIT, JPEG = "1.2.840.10008.1.2.1", "1.2.840.10008.1.2", "1.2.840.10008.1.2.4.50"
CT_SOP, US_SOP = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.6.1"
info = {}


def rot_z(deg):
    t = np.deg2rad(deg)
    return np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])

# 1. NIfTI-1 .nii.gz, CT, oblique (25° about z) with x flipped; sform code 2 and qform code 1.
affine = np.eye(4)
affine[:3, :3] = rot_z(25) @ np.diag([-0.7, 0.8, 3.0])
affine[:3, 3] = [90.0, -60.0, 12.0]
img = nib.Nifti1Image(ct_volume(4), affine)
img.set_sform(affine, code=2)
img.set_qform(affine, code=1)
nib.save(img, out / "ct_oblique.nii.gz")
box = [90, 70, 0, 170, 140, 3]
corner = lambda a, p: (a @ np.array([*p, 1.0]))[:3].tolist()
info["ct_oblique"] = {"box": box, "world": corner(affine, box[:3]) + corner(affine, box[3:])}

# 2. NIfTI-2 .nii, float32 MR, i and j flipped (an LPS-stored array in RAS), qform only.
affine2 = np.diag([-1.0, -1.0, 2.0, 1.0])
affine2[:3, 3] = [128.0, 100.0, -4.0]
mr = (np.indices((N, N, 3)).sum(0) % 97).astype(np.float32) * 3.5
img2 = nib.Nifti2Image(mr, affine2)
img2.set_qform(affine2, code=1)
img2.set_sform(None, code=0)
nib.save(img2, out / "mr_flipped.nii")
box2 = [10, 200, 0, 60, 250, 2]
info["mr_flipped"] = {"box": box2, "world": corner(affine2, box2[:3]) + corner(affine2, box2[3:])}

def dicom(path, ts, modality, sop, series, number, pixels, **tags):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.5.{series}.{number}"
    meta.TransferSyntaxUID = ts
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = ts == IMPLICIT
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = sop, meta.MediaStorageSOPInstanceUID, modality
    ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.5"
    ds.SeriesInstanceUID = f"1.2.826.0.1.3680043.8.498.5.{series}"
    ds.InstanceNumber = number
    for k, v in tags.items():
        setattr(ds, k, v)
    ds.Rows, ds.Columns = pixels.shape[:2]
    ds.SamplesPerPixel = 1 if pixels.ndim == 2 else 3
    if pixels.ndim == 2:
        ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = pixels.dtype.itemsize * 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    if ts == JPEG:
        ds.PixelData = encapsulate([b"\xff\xd8\xff\xd9"])
    else:
        ds.PixelData = pixels.tobytes()
    ds.save_as(path, write_like_original=False)

# 3. A DICOM CT series: 4 oblique slices (rows along y tilted 15° about x), files named out of order,
#    stored values = (HU + 1024) / slope with a per-slice slope.
series = out / "series"
series.mkdir()
t = np.deg2rad(15)
row = np.array([1.0, 0.0, 0.0])
col = np.round([0.0, np.cos(t), -np.sin(t)], 8)
normal = np.cross(row, col)
origin = np.array([-120.0, -90.0, 30.0])
hu = ct_volume(4)
names = ["b", "d", "a", "c"]
for k in range(4):
    slope = [1.0, 2.0, 1.0, 0.5][k]
    stored = np.round((hu[:, :, k].T.astype(np.float64) + 1024) / slope).astype(np.uint16)
    dicom(series / f"IMG_{names[k]}", [EXPLICIT, IMPLICIT, EXPLICIT, IMPLICIT][k], "CT", CT_SOP, 7, 20 + k, stored,
          ImagePositionPatient=[float(v) for v in np.round(origin + normal * 2.5 * k, 6)],
          ImageOrientationPatient=[float(v) for v in (*row, *col)], PixelSpacing=[0.9, 0.6],
          RescaleSlope=slope, RescaleIntercept=-1024.0)
lps = np.eye(4)
lps[:3, 0] = row * 0.6
lps[:3, 1] = col * 0.9
lps[:3, 2] = (np.round(origin + normal * 7.5, 6) - origin) / 3
lps[:3, 3] = origin
info["series"] = {"affine_ras": (np.diag([-1, -1, 1, 1]) @ lps).tolist(), "box": box,
                  "world_lps": corner(lps, box[:3]) + corner(lps, box[3:])}

# 3b. The same CT volume as one enhanced multi-frame image (Enhanced CT Image Storage): frames stored out of order,
#     each placed by its Per-Frame Functional Groups (Plane Position) with its own rescale (Pixel Value
#     Transformation); orientation and pixel spacing in the Shared Functional Groups.
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
order = [2, 0, 3, 1]
slopes = [1.0, 2.0, 0.5, 1.0]
frames = np.stack([np.round((hu[:, :, k].T.astype(np.float64) + 1024) / slopes[k]).astype(np.uint16) for k in order])
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.5.11.1"
meta.TransferSyntaxUID = EXPLICIT
ds = FileDataset(str(out / "enhanced_ct.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, "CT"
ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.5"
ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.5.11"
ds.FrameOfReferenceUID = "1.2.826.0.1.3680043.8.498.5.99"
ds.NumberOfFrames = 4
ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = N, N, 1, "MONOCHROME2"
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
def item(**tags):
    d = Dataset()
    for key, value in tags.items():
        setattr(d, key, value)
    return d
shared = item(PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=[float(v) for v in (*row, *col)])]),
              PixelMeasuresSequence=Sequence([item(PixelSpacing=[0.9, 0.6], SliceThickness=2.5)]))
ds.SharedFunctionalGroupsSequence = Sequence([shared])
ds.PerFrameFunctionalGroupsSequence = Sequence([
    item(PlanePositionSequence=Sequence([item(ImagePositionPatient=[float(v) for v in np.round(origin + normal * 2.5 * k, 6)])]),
         PixelValueTransformationSequence=Sequence([item(RescaleSlope=slopes[k], RescaleIntercept=-1024.0, RescaleType="HU")]))
    for k in order])
ds.PixelData = frames.tobytes()
ds.save_as(out / "enhanced_ct.dcm", write_like_original=False)

# 4. A single RGB ultrasound image and a JPEG-compressed one.
rgb = np.zeros((N, N, 3), np.uint8)
rgb[..., 0] = np.arange(N)[None, :]
rgb[..., 1] = 90
dicom(out / "us.dcm", EXPLICIT, "US", US_SOP, 8, 1, rgb, PhotometricInterpretation="RGB", PlanarConfiguration=0,
      ImagePositionPatient=[0.0, 0.0, 0.0], ImageOrientationPatient=[1, 0, 0, 0, 1, 0], PixelSpacing=[0.3, 0.2])
dicom(out / "jpeg.dcm", JPEG, "US", US_SOP, 9, 1, rgb, PhotometricInterpretation="YBR_FULL_422",
      PlanarConfiguration=0)

# 5. Pictures.
Image.fromarray(rgb).save(out / "photo.png")
Image.fromarray(rgb).save(out / "photo.jpg", quality=95)
Image.fromarray(rgb).save(out / "scan.tif")
Image.fromarray(rgb).save(out / "scan.bmp")
Image.fromarray(np.dstack([rgb, np.full((N, N), 200, np.uint8)])).save(out / "rgba.png")
grey16 = (np.indices((N, N)).sum(0) * 100).astype(np.uint16)
Image.fromarray(grey16.astype(np.int32)).convert("I;16").save(out / "grey16.png")
print(json.dumps(info))
`;

/** Prints what nibabel sees in a NIfTI label map. */
const INSPECT = String.raw`
import json, sys
import numpy as np, nibabel as nib
img = nib.load(sys.argv[1])
data = np.asarray(img.dataobj)
from synthetic_inputs import label_summary
labels = label_summary(data)
print(json.dumps({
    "shape": list(data.shape), "dtype": str(data.dtype), "affine": img.affine.tolist(),
    "qform": img.get_qform().tolist(), "sform_code": int(img.header["sform_code"]),
    "qform_code": int(img.header["qform_code"]), "zooms": [float(z) for z in img.header.get_zooms()],
    "intent": int(img.header["intent_code"]), "labels": labels,
    "version": 2 if isinstance(img, nib.Nifti2Image) else 1,
}))
`;

interface Inspected {
  shape: number[];
  dtype: string;
  affine: number[][];
  qform: number[][];
  sform_code: number;
  qform_code: number;
  zooms: number[];
  intent: number;
  version: number;
  labels: Record<string, { count: number; min: number[]; max: number[] }>;
}

const python = runPython;
const inspect = (path: string): Inspected => JSON.parse(python(INSPECT, [path]));

function expectClose(a: number[][], b: number[][], digits = 4): void {
  a.forEach((row, r) => row.forEach((v, c) => expect(v).toBeCloseTo(b[r]![c]!, digits)));
}

/** Label count of a full inclusive box. */
const boxVolume = (b: number[]) => {
  const half = b.length / 2;
  return b.slice(0, half).reduce((n, lo, i) => n * (b[i + half]! - lo + 1), 1);
};

let dir: string;
let info: {
  ct_oblique: { box: number[]; world: number[] };
  mr_flipped: { box: number[]; world: number[] };
  series: { affine_ras: number[][]; box: number[]; world_lps: number[] };
};
let boxModels: string;
let brightModels: string;

describe.skipIf(!hasTools)("daft segment on clinical formats", () => {
  beforeAll(async () => {
    dir = tempDir("daft-formats-");
    mkdirSync(join(dir, "in"));
    info = JSON.parse(python(MAKE_INPUTS, [join(dir, "in")]));
    ({ boxModels, brightModels } = await writeBoxAndBrightModels(dir));
  });

  const input = (name: string) => join(dir, "in", name);
  const run = (args: string[], models = boxModels) => daft(["segment", ...args, "--models", models]);

  describe("NIfTI in, NIfTI out", () => {
    it("keeps the header and affine (oblique, x flipped, sform+qform), writes uint16 labels where the box is", () => {
      const out = join(dir, "nifti-box");
      const box = info.ct_oblique.box;
      const r = run([
        input("ct_oblique.nii.gz"),
        "-o",
        out,
        "--box",
        box.join(","),
        "--explain",
        "--baseline",
        "box",
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /NIfTI-1 256×256×4 int16, .*affine from sform; intensities: CT window abdomen 400\/40/,
      );
      const source = inspect(input("ct_oblique.nii.gz"));
      const result = inspect(join(out, "ct_oblique.nii.gz"));
      expect(result.dtype).toBe("uint16");
      expect(result.shape).toEqual([256, 256, 4]);
      expectClose(result.affine, source.affine, 6);
      expectClose(result.qform, source.qform, 6);
      expect([result.sform_code, result.qform_code]).toEqual([2, 1]);
      expect(result.zooms).toEqual(source.zooms);
      expect(result.intent).toBe(1002);
      expect(result.labels).toEqual({
        "1": { count: boxVolume(box), min: box.slice(0, 3), max: box.slice(3) },
      });
      expect(readFileSync(join(out, "timings.csv"), "utf8")).toMatch(
        /\nct_oblique\.nii\.gz,,box-baseline,fallback,/,
      );
    });

    it("CT is windowed: the 200 HU object is bright under abdomen 400/40, not under a bone window or percentiles", () => {
      const object = { count: 51 * 51 * 2, min: [100, 80, 1], max: [150, 130, 2] };
      const box = info.ct_oblique.box.join(",");
      const seg = (extra: string[], name: string) => {
        const out = join(dir, name);
        const r = run([input("ct_oblique.nii.gz"), "-o", out, "--box", box, ...extra], brightModels);
        expect(r.stderr).toBe("");
        return inspect(join(out, "ct_oblique.nii.gz")).labels;
      };
      expect(seg([], "win-default")).toEqual({ "1": object });
      expect(seg(["--window", "400/40"], "win-explicit")).toEqual({ "1": object });
      expect(seg(["--window", "bone"], "win-bone")).toEqual({});
      expect(seg(["--modality", "MR"], "win-mr")).toEqual({});
    });

    it("--world boxes in RAS millimetres land on the same voxels (oblique and flipped affines)", () => {
      for (const [file, entry] of [
        ["ct_oblique.nii.gz", info.ct_oblique],
        ["mr_flipped.nii", info.mr_flipped],
      ] as const) {
        const out = join(dir, `world-${file}`);
        const r = run([
          input(file),
          "-o",
          out,
          "--world",
          "--box",
          entry.world.join(","),
          "--baseline",
          "box",
        ]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const labels = inspect(join(out, file)).labels;
        expect(labels).toEqual({
          "1": { count: boxVolume(entry.box), min: entry.box.slice(0, 3), max: entry.box.slice(3) },
        });
      }
    });

    it("NIfTI-2 in gives NIfTI-2 out with the qform kept", () => {
      const out = join(dir, "nifti2");
      const r = run([input("mr_flipped.nii"), "-o", out, "--box", info.mr_flipped.box.join(",")]);
      expect(r.code).toBe(0);
      const result = inspect(join(out, "mr_flipped.nii"));
      expect([result.version, result.sform_code, result.qform_code]).toEqual([2, 0, 1]);
      expectClose(result.affine, inspect(input("mr_flipped.nii")).affine, 6);
    });
  });

  describe("DICOM in, NIfTI out", () => {
    it("a series folder: slices sorted by position, rescale applied, Modality routes, LPS→RAS affine", () => {
      const out = join(dir, "dicom");
      const box = info.series.box;
      const overlays = join(dir, "dicom-overlays");
      const r = run(
        [input("series"), "-o", out, "--box", box.join(","), "--explain", "--overlays", overlays],
        brightModels,
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/rule metadata: metadata modality CT/);
      expect(r.stdout).toMatch(/DICOM series 256×256×4 CT, spacing 2\.5×0\.9×0\.6 mm .*CT window abdomen/);
      const result = inspect(join(out, "series.nii.gz"));
      expect(result.shape).toEqual([256, 256, 4]);
      expectClose(result.affine, info.series.affine_ras, 4);
      expectClose(result.qform, info.series.affine_ras, 4);
      expect([result.sform_code, result.qform_code]).toEqual([1, 1]);
      // The bright object (x 100..150, y 80..130, slices 1..2) at the same voxels as in the NIfTI volume.
      expect(result.labels).toEqual({ "1": { count: 51 * 51 * 2, min: [100, 80, 1], max: [150, 130, 2] } });
      expect(readFileSync(join(out, "timings.csv"), "utf8")).toMatch(/\nseries,CT,general,metadata,/);
      // The overlay shows the middle slice of the box (k = 1), windowed, with the mask outline.
      const png = decodePng(readFileSync(join(overlays, "series.png")));
      expect([png.width, png.height]).toEqual([256, 256]);
      const at = (x: number, y: number) =>
        Array.from(png.data.subarray((y * 256 + x) * 3, (y * 256 + x) * 3 + 3));
      expect(at(125, 80)).toEqual(labelColour(1)); // top edge of the object's mask
      expect(at(5, 5)).toEqual([0, 0, 0]); // air, windowed to 0
    });

    it("an enhanced multi-frame CT (frames out of order, per-frame rescale) gives the series' label map and a SEG", () => {
      const box = info.series.box.join(",");
      const seg = (inputName: string, outName: string) => {
        const out = join(dir, outName);
        const r = run([input(inputName), "-o", out, "--box", box, "--explain"], brightModels);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        return r.stdout;
      };
      const stdout = seg("enhanced_ct.dcm", "enhanced-out");
      seg("series", "enhanced-series-out");
      expect(stdout).toMatch(/DICOM enhanced multi-frame image 256×256×4 CT, spacing 2\.5×0\.9×0\.6 mm/);
      const enhanced = inspect(join(dir, "enhanced-out", "enhanced_ct.nii.gz"));
      const series = inspect(join(dir, "enhanced-series-out", "series.nii.gz"));
      expectClose(enhanced.affine, series.affine, 5);
      expect(enhanced.labels).toEqual(series.labels);
      expect(enhanced.labels).toEqual({ "1": { count: 51 * 51 * 2, min: [100, 80, 1], max: [150, 130, 2] } });
      // Its DICOM-SEG refers to the frames (Referenced Frame Number), checked by pydicom and dicom3tools.
      const segOut = join(dir, "enhanced-seg");
      const withSeg = run(
        [input("enhanced_ct.dcm"), "-o", segOut, "--box", box, "--dicom-seg"],
        brightModels,
      );
      expect(withSeg.stderr).toBe("");
      expect(withSeg.code).toBe(0);
      const check = spawnSync(
        PYTHON,
        [
          join(import.meta.dirname, "dicom_seg_check.py"),
          join(segOut, "enhanced_ct.seg.dcm"),
          join(segOut, "enhanced_ct.nii.gz"),
          input("enhanced_ct.dcm"),
        ],
        { encoding: "utf8" },
      );
      expect(check.stderr).toBe("");
      expect(JSON.parse(check.stdout)).toMatchObject({
        frames: 2,
        segments: [1],
        frame_keys: [
          [1, 1],
          [1, 2],
        ],
      });
      if (spawnSync("sh", ["-c", "command -v dciodvfy"]).status === 0) {
        const verified = spawnSync("dciodvfy", [join(segOut, "enhanced_ct.seg.dcm")], { encoding: "utf8" });
        expect(
          `${verified.stdout}\n${verified.stderr}`.split("\n").filter((l) => l.startsWith("Error")),
        ).toEqual([]);
      }
    });

    it.skipIf(!hasDcmtk)(
      "a series compressed by dcmtk (JPEG Lossless SV1, Process 14, RLE, JPEG-LS) gives the same label map, byte for byte",
      () => {
        const box = info.series.box.join(",");
        const variants: [string, string[], RegExp][] = [
          ["series_jpeg_sv1", ["dcmcjpeg", "+e1"], /JPEG Lossless, Non-Hierarchical, First-Order Prediction/],
          [
            "series_jpeg_p14",
            ["dcmcjpeg", "+el", "+sv", "6"],
            /JPEG Lossless, Non-Hierarchical \(Process 14\)/,
          ],
          ["series_rle", ["dcmcrle"], /RLE Lossless/],
          ["series_jpeg_ls", ["dcmcjpls", "+el"], /JPEG-LS Lossless/],
        ];
        const outOf = (folder: string) => {
          const out = join(dir, `${folder}-out`);
          const r = run([input(folder), "-o", out, "--box", box, "--explain"], brightModels);
          expect(r.stderr).toBe("");
          expect(r.code).toBe(0);
          return { stdout: r.stdout, nifti: readFileSync(join(out, `${folder}.nii.gz`)) };
        };
        const reference = outOf("series");
        for (const [folder, [tool, ...options], syntax] of variants) {
          mkdirSync(input(folder));
          for (const f of readdirSync(input("series"))) {
            const made = spawnSync(tool!, [...options, join(input("series"), f), join(input(folder), f)]);
            expect(made.status, String(made.stderr)).toBe(0);
          }
          const result = outOf(folder);
          expect(result.stdout).toMatch(syntax);
          // The same bytes: same header and geometry, same labels from the same intensities (the decoders' exact
          // pixels are checked against dcmtk's files in packages/core/src/io/dicom.test.ts).
          expect(result.nifti.equals(reference.nifti)).toBe(true);
        }
      },
    );

    it.skipIf(!hasDcmtk)(
      "a long compressed series decodes on worker threads (--threads 2) to the same label map as on one",
      () => {
        // 12 axial CT slices, uncompressed (pydicom) and as JPEG-LS (dcmtk).
        const plain = join(dir, "long_series");
        python(
          String.raw`
import sys
import numpy as np
from pathlib import Path
from pydicom.dataset import FileDataset, FileMetaDataset
from synthetic_inputs import ct_volume
out = Path(sys.argv[1]); out.mkdir()
hu = ct_volume(12)
for k in range(12):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.91.{k + 1}"
    meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    ds = FileDataset(str(out / f"IM{k:02d}"), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.91", "1.2.826.0.1.3680043.8.498.91.0"
    ds.Modality, ds.Rows, ds.Columns = "CT", 256, 256
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 2.0 * k], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SamplesPerPixel, ds.PhotometricInterpretation = [0.8, 0.8], 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    ds.PixelData = hu[:, :, k].T.astype("<i2").tobytes()
    ds.save_as(str(out / f"IM{k:02d}"), write_like_original=False)
`,
          [plain],
        );
        const compressed = join(dir, "long_series_jpeg_ls");
        mkdirSync(compressed);
        for (const f of readdirSync(plain)) {
          const made = spawnSync("dcmcjpls", ["+el", join(plain, f), join(compressed, f)]);
          expect(made.status, String(made.stderr)).toBe(0);
        }
        const segment = (folder: string, threads: number) => {
          const out = join(dir, `${folder.split("/").pop()}-t${threads}`);
          const r = run([
            folder,
            "-o",
            out,
            "--box",
            "90,70,1,170,140,10",
            "--explain",
            "--threads",
            String(threads),
          ]);
          expect(r.stderr).toBe("");
          expect(r.code).toBe(0);
          const name = `${folder.split("/").pop()}.nii.gz`;
          return { stdout: r.stdout, nifti: readFileSync(join(out, name)) };
        };
        const reference = segment(plain, 2);
        const one = segment(compressed, 1);
        const two = segment(compressed, 2);
        expect(reference.stdout).not.toMatch(/worker threads/); // uncompressed: nothing to decode
        expect(one.stdout).not.toMatch(/worker threads/);
        expect(two.stdout).toMatch(/compressed slices decoded on 2 worker threads/);
        expect(two.nifti.equals(one.nifti)).toBe(true);
        expect(two.nifti.equals(reference.nifti)).toBe(true);
      },
    );

    it.skipIf(!hasDcmtk)(
      "an ultrasound image compressed by dcmtk as JPEG Baseline (YBR_FULL_422) is read as RGB",
      () => {
        const jpeg = join(dir, "us_baseline.dcm");
        const made = spawnSync("dcmcjpeg", ["+eb", input("us.dcm"), jpeg]);
        expect(made.status, String(made.stderr)).toBe(0);
        const out = join(dir, "us-baseline-out");
        const r = run([jpeg, "-o", out, "--box", "10,10,100,90", "--explain", "--baseline", "box"]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/DICOM image 256×256 US RGB, .*JPEG Baseline/);
        expect(inspect(join(out, "us_baseline.nii.gz")).labels).toEqual({
          "1": { count: 91 * 81, min: [10, 10, 0], max: [100, 90, 0] },
        });
      },
    );

    it("--world boxes in LPS millimetres (patient coordinates) land on the same voxels", () => {
      const out = join(dir, "dicom-world");
      const r = run([
        input("series"),
        "-o",
        out,
        "--world",
        "--box",
        info.series.world_lps.join(","),
        "--baseline",
        "box",
      ]);
      expect(r.stderr).toBe("");
      const box = info.series.box;
      expect(inspect(join(out, "series.nii.gz")).labels).toEqual({
        "1": { count: boxVolume(box), min: box.slice(0, 3), max: box.slice(3) },
      });
    });

    it("a single RGB DICOM image gives a one-slice NIfTI", () => {
      const out = join(dir, "us");
      const r = run([input("us.dcm"), "-o", out, "--box", "10,20,100,200"]);
      expect(r.stderr).toBe("");
      const result = inspect(join(out, "us.nii.gz"));
      expect(result.shape).toEqual([256, 256, 1]);
      expect(result.zooms.slice(0, 2).map((z) => Number(z.toFixed(4)))).toEqual([0.2, 0.3]);
      expect(result.labels).toEqual({ "1": { count: 91 * 181, min: [10, 20, 0], max: [100, 200, 0] } });
    });
  });

  describe("pictures in, PNG label maps out", () => {
    for (const file of ["photo.png", "photo.jpg", "scan.tif", "scan.bmp", "rgba.png", "grey16.png"]) {
      it(file, () => {
        const out = join(dir, `pic-${file}`);
        const r = run([input(file), "-o", out, "--box", "30,40,130,90", "--box", "0,0,255,10"]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        const png = decodePng(readFileSync(join(out, file.replace(/\.\w+$/, ".png"))));
        expect([png.width, png.height, png.channels, png.depth]).toEqual([256, 256, 1, 8]);
        const expected = new Uint8Array(256 * 256);
        for (let y = 40; y <= 90; y++) for (let x = 30; x <= 130; x++) expected[y * 256 + x] = 1;
        for (let y = 0; y <= 10; y++) for (let x = 0; x <= 255; x++) expected[y * 256 + x] = 2;
        expect(Buffer.from(png.data as Uint8Array).equals(Buffer.from(expected))).toBe(true);
      });
    }

    it("--overlay draws the single input with its mask outline", () => {
      const out = join(dir, "overlay");
      const r = run([
        input("grey16.png"),
        "-o",
        out,
        "--box",
        "40,50,120,140",
        "--overlay",
        join(out, "o", "x.png"),
      ]);
      expect(r.code).toBe(0);
      const png = decodePng(readFileSync(join(out, "o", "x.png")));
      const at = (x: number, y: number) =>
        Array.from(png.data.subarray((y * 256 + x) * 3, (y * 256 + x) * 3 + 3));
      expect(at(80, 50)).toEqual(labelColour(1));
    });

    it("--overlay with several inputs is refused", () => {
      const r = run([
        input("photo.png"),
        input("scan.bmp"),
        "-o",
        join(dir, "x"),
        "--box",
        "1,1,5,5",
        "--overlay",
        "o.png",
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/--overlay draws one input, but 2 were given/);
    });
  });

  describe("prompts", () => {
    it("--boxes JSON and CSV give labels in file order", () => {
      writeFileSync(
        join(dir, "boxes.json"),
        JSON.stringify({
          boxes: [
            [0, 0, 50, 50],
            [20, 20, 30, 30],
          ],
        }),
      );
      writeFileSync(join(dir, "boxes.csv"), "x0,y0,x1,y1\n0,0,50,50\n20,20,30,30\n");
      for (const file of ["boxes.json", "boxes.csv"]) {
        const out = join(dir, `bx-${file}`);
        const r = run([input("photo.png"), "-o", out, "--boxes", join(dir, file)]);
        expect(r.stderr).toBe("");
        const png = decodePng(readFileSync(join(out, "photo.png")));
        expect([
          png.data[0],
          png.data[25 * 256 + 25],
          png.data[50 * 256 + 50],
          png.data[51 * 256 + 51],
        ]).toEqual([1, 2, 1, 0]);
      }
    });

    it("--world is refused for an .npz case (no physical space)", () => {
      const npz = join(dir, "case-world.npz");
      writeFileSync(
        npz,
        writeNpz(
          {
            imgs: { data: new Uint8Array(64 * 64), shape: [64, 64], dtype: "uint8" },
            boxes: { data: Float64Array.from([0, 0, 10, 10]), shape: [1, 4], dtype: "float64" },
          },
          { compress: true },
        ),
      );
      const r = run([npz, "-o", join(dir, "npz-world"), "--world", "--box", "0,0,0,5,5,0"]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/case-world\.npz: --world needs an input placed in patient space/);
      expect(existsSync(join(dir, "npz-world", "case-world.npz"))).toBe(false);
    });

    it("--box overrides the boxes of an .npz case", () => {
      const npz = join(dir, "case.npz");
      writeFileSync(
        npz,
        writeNpz(
          {
            imgs: { data: new Uint8Array(256 * 256).fill(9), shape: [256, 256], dtype: "uint8" },
            boxes: { data: Float64Array.from([0, 0, 10, 10]), shape: [1, 4], dtype: "float64" },
          },
          { compress: true },
        ),
      );
      const out = join(dir, "npz-override");
      const r = run([npz, "-o", out, "--box", "100,100,110,120"]);
      expect(r.stderr).toBe("");
      const segs = readNpz(new Uint8Array(readFileSync(join(out, "case.npz")))).get("segs")!
        .data as Uint16Array;
      expect(segs[0]).toBe(0);
      expect(segs[100 * 256 + 100]).toBe(1);
      expect(segs.reduce((n, v) => n + (v > 0 ? 1 : 0), 0)).toBe(11 * 21);
    });
  });

  describe("folders", () => {
    it("a folder with a NIfTI volume and a DICOM series subfolder: both segmented, names kept", () => {
      const folder = join(dir, "mixed");
      mkdirSync(join(folder, "ct_series"), { recursive: true });
      copyFileSync(input("ct_oblique.nii.gz"), join(folder, "ct_oblique.nii.gz"));
      for (const f of readdirSync(input("series")))
        copyFileSync(join(input("series"), f), join(folder, "ct_series", f));
      writeFileSync(join(folder, "README.txt"), "not a case");
      const out = join(dir, "mixed-out");
      const r = run([folder, "-o", out, "--box", info.ct_oblique.box.join(","), "--quiet"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(readdirSync(out).sort()).toEqual([
        "ct_oblique.nii.gz",
        "ct_series.nii.gz",
        "objects.csv",
        "timings.csv",
      ]);
    });

    it("a label map never overwrites its input", () => {
      const folder = tempDir();
      copyFileSync(input("photo.png"), join(folder, "photo.png"));
      const before = readFileSync(join(folder, "photo.png"));
      const r = run([join(folder, "photo.png"), "-o", folder, "--box", "1,1,9,9"]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/photo\.png: its label map would overwrite the input itself/);
      expect(readFileSync(join(folder, "photo.png")).equals(before)).toBe(true);
    });

    it("two inputs that would write the same label map: the second is refused", () => {
      const folder = join(dir, "clash");
      mkdirSync(folder);
      copyFileSync(input("photo.png"), join(folder, "a.png"));
      copyFileSync(input("photo.jpg"), join(folder, "a.jpg"));
      const r = run([folder, "-o", join(dir, "clash-out"), "--box", "1,1,9,9", "--quiet"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/a\.png: its label map .*a\.png was already written for .*a\.jpg; rename one/);
    });
  });

  describe("bad input: one line naming the file, non-zero exit, no output", () => {
    const cut = (name: string, keep: number) => () => {
      const bytes = readFileSync(input(name));
      return bytes.subarray(0, Math.min(keep, bytes.length - 1));
    };
    const cases: [string, () => Uint8Array, RegExp, string[]?][] = [
      ["truncated.nii.gz", cut("ct_oblique.nii.gz", 2000), /corrupt or truncated gzip stream/],
      ["truncated.nii", cut("mr_flipped.nii", 5000), /truncated NIfTI data/],
      ["header.nii", cut("mr_flipped.nii", 300), /truncated NIfTI header|not a NIfTI file/],
      ["garbage.nii", () => new TextEncoder().encode("no header here"), /not a NIfTI file/],
      ["truncated.dcm", cut("us.dcm", 1000), /truncated/],
      [
        "jpeg.dcm",
        () => readFileSync(input("jpeg.dcm")),
        /corrupt or truncated JPEG data/, // an empty JPEG stream (SOI, EOI) in a JPEG Baseline file
      ],
      ["truncated.png", cut("photo.png", 300), /corrupt or truncated PNG/],
      ["truncated.jpg", cut("photo.jpg", 300), /corrupt or truncated JPEG/],
      ["truncated.tif", cut("scan.tif", 300), /TIFF/],
      ["truncated.bmp", cut("scan.bmp", 300), /corrupt or truncated BMP .*past the end/],
      ["notes.png", () => new TextEncoder().encode("hello"), /not a PNG, JPEG, TIFF or BMP image/],
      ["noboxes.png", () => readFileSync(input("photo.png")), /has no box prompts/, []],
      [
        "outside.png",
        () => readFileSync(input("photo.png")),
        /box 0 .*outside the image/,
        ["--box", "10,10,300,20"],
      ],
      [
        "world.png",
        () => readFileSync(input("photo.png")),
        /--world needs an input placed in patient space/,
        ["--world", "--box", "0,0,0,5,5,0"],
      ],
      [
        "flat.nii.gz",
        () => readFileSync(input("ct_oblique.nii.gz")),
        /box 0 has 4 numbers but the input is 3D/,
        ["--box", "1,1,5,5"],
      ],
    ];
    for (const [name, make, message, boxArgs] of cases) {
      it(name, () => {
        const folder = tempDir();
        const path = join(folder, name);
        writeFileSync(path, make());
        const out = join(folder, "out");
        const r = run([path, "-o", out, ...(boxArgs ?? ["--box", "1,1,20,20"])]);
        expect(r.code).not.toBe(0);
        const lines = r.stderr.trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]!.startsWith(`${path}: `)).toBe(true);
        expect(lines[0]).toMatch(message);
        expect(withoutRunTables(readdirSync(out))).toEqual([]);
      });
    }

    it("a series with one truncated slice names that slice, and writes nothing", () => {
      const folder = join(tempDir(), "series");
      mkdirSync(folder);
      for (const f of readdirSync(input("series"))) copyFileSync(join(input("series"), f), join(folder, f));
      const bad = join(folder, "IMG_c");
      writeFileSync(bad, readFileSync(bad).subarray(0, 5000));
      const out = join(folder, "..", "out");
      const r = run([folder, "-o", out, "--box", info.series.box.join(",")]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(new RegExp(`^${bad}: truncated`));
      expect(existsSync(join(out, "series.nii.gz"))).toBe(false);
    });

    it("a corrupt boxes file is one line naming it, exit 1", () => {
      writeFileSync(join(dir, "bad.json"), "[[1,2,3]]");
      const r = run([input("photo.png"), "-o", join(dir, "badboxes"), "--boxes", join(dir, "bad.json")]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(/bad\.json: box 0 \[1,2,3\] is not 4 numbers/);
    });

    it("bad --box and --window values are usage errors (exit 2)", () => {
      expect(run([input("photo.png"), "-o", join(dir, "u"), "--box", "1,2,3"]).code).toBe(2);
      const w = run([
        input("ct_oblique.nii.gz"),
        "-o",
        join(dir, "u"),
        "--box",
        "1,1,1,2,2,2",
        "--window",
        "soft",
      ]);
      expect(w.code).toBe(2);
      expect(w.stderr).toMatch(/--window "soft" is neither a preset/);
    });
  });
});
